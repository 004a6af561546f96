"""Staff see who confirmed (a reminder's link, an SMS reply) and the messages sent."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import translation

from carnet.accounts.models import StaffMembership
from carnet.booking.models import ConfirmedVia
from carnet.notifications.models import Message
from carnet.notifications.queries import list_messages_for_appointment
from carnet.pro.agenda_grid import confirmation_label
from carnet.pro.tests.conftest import PARIS, paris
from carnet.scheduling.tests.factories import MotiveFactory

pytestmark = pytest.mark.django_db
DAY = "2026-03-03"  # a Tuesday; NOW (frozen_now) is Monday 2026-03-02 07:00 in Paris


def body(response) -> str:
    return response.content.decode()


@pytest.fixture
def desk(staff, signed_in):
    client = signed_in(staff(StaffMembership.Role.SECRETARY))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def confirmed(frozen_now, agenda, anne, visit):
    """Anne, Tuesday 09:00, confirmed by an SMS reply on Monday at 18:42."""
    return visit(
        agenda,
        anne,
        paris(2026, 3, 3, 9, 0),
        motive=MotiveFactory(agenda=agenda, name="Consultation"),
        confirmed_at=paris(2026, 3, 2, 18, 42),
        confirmed_via=ConfirmedVia.SMS,
    )


@pytest.fixture
def unconfirmed(frozen_now, agenda, bruno, visit):
    return visit(agenda, bruno, paris(2026, 3, 3, 10, 0))


def message(appointment, kind, channel, status, **fields) -> Message:
    due = fields.pop("due_at", paris(2026, 3, 2, 9, 0))
    return Message.objects.create(
        key=f"appointment:{appointment.vault_row}:0:{kind}:{channel}",
        kind=kind,
        channel=channel,
        status=status,
        patient=appointment.patient,
        appointment=appointment,
        practice=appointment.agenda.practice,
        due_at=due,
        next_attempt_at=due,
        **fields,
    )


@translation.override("en")
def test_the_label_says_how_and_when_with_the_day_when_it_is_another(confirmed):
    assert (
        confirmation_label(confirmed, PARIS)
        == "confirmed (SMS reply) on Mon 2 March at 18:42"
    )
    confirmed.confirmed_at = paris(2026, 3, 3, 8, 5)
    confirmed.confirmed_via = ConfirmedVia.LINK

    assert (
        confirmation_label(confirmed, PARIS)
        == "confirmed (link in a reminder) at 08:05"
    )
    confirmed.confirmed_at = None
    assert confirmation_label(confirmed, PARIS) == ""


def test_the_appointment_page_shows_who_confirmed(confirmed, unconfirmed, desk):
    page = body(desk.get(f"/pro/appointments/{confirmed.pk}/"))
    other = body(desk.get(f"/pro/appointments/{unconfirmed.pk}/"))

    assert "confirmed (SMS reply) on Mon 2 March at 18:42" in page
    assert "confirmed (" not in other


def test_the_day_list_shows_who_confirmed(confirmed, unconfirmed, agenda, desk):
    page = body(desk.get(f"/pro/agendas/{agenda.pk}/{DAY}/"))

    assert page.count("confirmed (SMS reply) on Mon 2 March at 18:42") == 1
    assert page.count("confirmed (") == 1


def test_the_agenda_grid_marks_a_confirmed_appointment(
    confirmed, unconfirmed, agenda, desk
):
    page = body(desk.get(f"/pro/practices/{agenda.practice_id}/agenda/?date={DAY}"))

    assert 'title="Confirmed (SMS reply) on Mon 2 March at 18:42"' in page
    assert page.count('<span aria-hidden="true">✓</span>') == 1
    # And in the day's list under the grid.
    assert page.count("· confirmed (SMS reply) on Mon 2 March at 18:42") == 1


def test_the_appointment_page_lists_its_messages(confirmed, desk):
    message(
        confirmed,
        Message.Kind.CONFIRMATION,
        Message.Channel.EMAIL,
        Message.Status.SENT,
        due_at=paris(2026, 3, 1, 10, 0),
        sent_at=paris(2026, 3, 1, 10, 1),
        attempts=1,
    )
    message(
        confirmed,
        Message.Kind.REMINDER,
        Message.Channel.SMS,
        Message.Status.FAILED,
        sent_at=paris(2026, 3, 2, 9, 0),
        failed_at=paris(2026, 3, 2, 9, 3),
        attempts=2,
        error_code="dlr:6",
    )

    page = body(desk.get(f"/pro/appointments/{confirmed.pk}/"))

    assert "Messages to the patient" in page
    assert "<td>Confirmation</td>" in page
    assert "<td>Reminder</td>" in page
    assert "<td>SMS</td>" in page
    assert "<td>failed</td>" in page
    assert "<code>dlr:6</code>" in page
    assert "Mon 2 March 09:03" in page
    assert "<td>2</td>" in page


def test_an_appointment_without_messages_says_so(unconfirmed, desk):
    page = body(desk.get(f"/pro/appointments/{unconfirmed.pk}/"))

    assert "No message about this appointment." in page


def test_the_messages_of_an_appointment_come_oldest_due_first(confirmed, unconfirmed):
    late = message(
        confirmed,
        Message.Kind.REMINDER,
        Message.Channel.SMS,
        Message.Status.SCHEDULED,
        due_at=paris(2026, 3, 2, 9, 0),
    )
    early = message(
        confirmed,
        Message.Kind.CONFIRMATION,
        Message.Channel.EMAIL,
        Message.Status.SENT,
        due_at=paris(2026, 3, 1, 9, 0) - timedelta(days=1),
    )
    message(unconfirmed, Message.Kind.REMINDER, Message.Channel.SMS, "scheduled")

    assert list(list_messages_for_appointment(appointment_id=confirmed.pk)) == [
        early,
        late,
    ]
