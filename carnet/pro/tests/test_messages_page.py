"""The messages not delivered page: only the practice's failed rows, its gate, its audit."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse

from carnet.accounts.models import StaffMembership
from carnet.accounts.selectors import patient_audit_ref
from carnet.accounts.tests.factories import PatientFactory
from carnet.audit.models import AuditEvent
from carnet.notifications.models import Message
from carnet.notifications.selectors import failed_messages_resource
from carnet.pro.tests.conftest import paris
from carnet.scheduling.tests.factories import AgendaFactory

pytestmark = pytest.mark.django_db

SECRETARY = StaffMembership.Role.SECRETARY
PRACTITIONER = StaffMembership.Role.PRACTITIONER


def html(response) -> str:
    return response.content.decode()


def message(practice, patient, *, key, status, appointment=None, **fields):
    """A Message row written directly, as the outbox would leave it."""
    due = fields.pop("due_at", paris(2026, 3, 1, 9, 0))
    return Message.objects.create(
        key=key,
        kind=fields.pop("kind", Message.Kind.REMINDER),
        channel=fields.pop("channel", Message.Channel.SMS),
        patient=patient,
        appointment=appointment,
        practice=practice,
        due_at=due,
        next_attempt_at=due,
        status=status,
        **fields,
    )


@pytest.fixture
def client_for(signed_in):
    def make(user):
        client = signed_in(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return make


@pytest.fixture
def url(agenda):
    return reverse("pro:messages", kwargs={"practice_id": agenda.practice_id})


@pytest.fixture
def outbox_rows(frozen_now, agenda, motive, anne, bruno, visit):
    """Practice A: two failures (Anne's SMS, then Bruno's e-mail), one sent, one scheduled.

    Practice B: one failure of its own patient.
    """
    practice = agenda.practice
    anne_visit = visit(agenda, anne, paris(2026, 3, 3, 9, 0), motive=motive)
    bruno_visit = visit(agenda, bruno, paris(2026, 3, 4, 14, 30), motive=motive)
    older = message(
        practice,
        anne,
        key="a-failed-older",
        status=Message.Status.FAILED,
        appointment=anne_visit,
        attempts=5,
        failed_at=frozen_now - timedelta(hours=3),
        error_code="sms_rejected",
    )
    newer = message(
        practice,
        bruno,
        key="a-failed-newer",
        status=Message.Status.FAILED,
        appointment=bruno_visit,
        kind=Message.Kind.CONFIRMATION,
        channel=Message.Channel.EMAIL,
        attempts=3,
        failed_at=frozen_now - timedelta(hours=1),
        error_code="smtp_550",
    )
    sent_to = PatientFactory(first_name="Célestine", last_name="Sentinelle")
    message(
        practice,
        sent_to,
        key="a-sent",
        status=Message.Status.SENT,
        sent_at=frozen_now - timedelta(hours=2),
    )
    message(
        practice,
        sent_to,
        key="a-scheduled",
        status=Message.Status.SCHEDULED,
        due_at=frozen_now + timedelta(hours=5),
    )
    other_practice_patient = PatientFactory(first_name="Octave", last_name="Ailleurs")
    message(
        AgendaFactory().practice,
        other_practice_patient,
        key="b-failed",
        status=Message.Status.FAILED,
        failed_at=frozen_now - timedelta(minutes=5),
        error_code="b_secret_code",
    )
    return {
        "newer": newer,
        "older": older,
        "sent_to": sent_to,
        "other": other_practice_patient,
    }


def test_the_page_lists_only_the_practices_failed_messages_most_recent_first(
    client_for, staff, url, outbox_rows
):
    response = client_for(staff(PRACTITIONER)).get(url)

    assert response.status_code == 200
    body = html(response)
    assert body.index("GARNIER Bruno") < body.index("LEFEBVRE Anne")
    assert "Sentinelle" not in body  # sent and scheduled messages are not listed
    assert "Ailleurs" not in body  # another practice's
    assert "b_secret_code" not in body
    assert "smtp_550" in body
    assert "sms_rejected" in body
    assert "2 messages not delivered" in body
    assert "1 message scheduled in the next 24 hours" in body
    assert "1 message sent in the last 24 hours" in body


def test_each_row_links_its_appointment_with_its_local_time(
    client_for, staff, url, outbox_rows
):
    body = html(client_for(staff(PRACTITIONER)).get(url))

    older = outbox_rows["older"]
    detail = reverse(
        "pro:appointment-detail", kwargs={"appointment_id": older.appointment_id}
    )
    assert f'href="{detail}"' in body
    assert "Tuesday 3 March 2026, 09:00" in body  # Paris time of the appointment
    assert "Wednesday 4 March 2026, 14:30" in body
    assert "SMS" in body
    assert "e-mail" in body
    assert "Reminder" in body
    assert "Confirmation" in body


def test_a_secretary_sees_the_page_and_the_menu_links_it(
    client_for, staff, url, outbox_rows
):
    client = client_for(staff(SECRETARY))

    response = client.get(url)

    assert response.status_code == 200
    assert "LEFEBVRE Anne" in html(response)
    assert f'href="{url}" aria-current="page"' in html(response)


def test_another_practice_gets_nothing(
    client_for, other_practice_admin, url, outbox_rows, agenda
):
    response = client_for(other_practice_admin).get(url)

    assert response.status_code == 404
    body = html(response)
    assert "Lefebvre" not in body
    assert agenda.practice.name not in body


def test_each_patient_listed_is_recorded_and_no_one_else(
    client_for, staff, url, outbox_rows, anne, bruno, agenda
):
    client_for(staff(PRACTITIONER)).get(url)

    resource = failed_messages_resource(agenda.practice_id)
    recorded = set(
        AuditEvent.objects.filter(resource=resource, action="read").values_list(
            "patient_ref", flat=True
        )
    )
    assert recorded == {patient_audit_ref(anne.pk), patient_audit_ref(bruno.pk)}


def test_no_failure_says_so_and_records_nothing(client_for, staff, url, agenda):
    response = client_for(staff(PRACTITIONER)).get(url)

    assert response.status_code == 200
    assert "has failed" in html(response)
    assert not AuditEvent.objects.filter(
        resource=failed_messages_resource(agenda.practice_id)
    ).exists()


def test_fifty_failures_a_page(client_for, staff, url, agenda, anne, frozen_now):
    Message.objects.bulk_create(
        Message(
            key=f"failed-{n}",
            kind=Message.Kind.REMINDER,
            channel=Message.Channel.EMAIL,
            patient=anne,
            practice=agenda.practice,
            due_at=frozen_now,
            next_attempt_at=frozen_now,
            status=Message.Status.FAILED,
            failed_at=frozen_now - timedelta(minutes=n),
            error_code=f"code_{n:02d}",
        )
        for n in range(51)
    )
    client = client_for(staff(PRACTITIONER))

    first = html(client.get(url))
    second = html(client.get(url, {"page": "2"}))
    nonsense = client.get(url, {"page": "-1"})

    assert first.count("<code>") == 50
    assert "code_00" in first
    assert "code_49" in first
    assert "code_50" not in first
    assert second.count("<code>") == 1
    assert "code_50" in second
    assert "Page 2 of 2" in second
    assert nonsense.status_code == 200
    assert "code_00" in html(nonsense)
