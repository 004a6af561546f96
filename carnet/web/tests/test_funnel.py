"""The booking funnel through Django's test client: hold, log in, for whom, reason, confirm."""

import email
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from carnet.accounts.models import Patient
from carnet.accounts.tests.factories import UserFactory
from carnet.booking.models import Appointment, SlotHold
from carnet.booking.services import book_appointment
from carnet.web.views.booking import HOLDER_KEY
from tests.workers import drain

pytestmark = pytest.mark.django_db

# Tuesday 3 March 2026, 09:20 in Paris (08:20 UTC): bookable from NOW (Monday 06:00 UTC).
SLOT = "2026-03-03T09:20:00+01:00"


def _start(client, motive, start=SLOT):
    return client.post(
        reverse("web:book-start", args=[motive.agenda_id, motive.pk]), {"start": start}
    )


def _details(**overrides):
    data = {
        "for_whom": "self",
        "first_name": "Camille",
        "last_name": "Durand",
        "birth_date": "1985-06-14",
        "phone": "06 12 34 56 78",
        "reason": "Douleur au genou depuis deux semaines",
    }
    data.update(overrides)
    return data


def test_a_new_patient_holds_logs_in_and_books(client, motive, frozen_now):
    response = _start(client, motive)
    hold = SlotHold.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:book-hold", args=[hold.pk])

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert f"?next={response['Location']}" in page.content.decode()

    user = UserFactory()
    client.force_login(user)  # the session (and its holder token) survives log-in
    response = client.post(reverse("web:book-hold", args=[hold.pk]), _details())

    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:book-confirmed", args=[appointment.pk])
    assert appointment.patient.account == user
    assert appointment.reason == "Douleur au genou depuis deux semaines"
    assert appointment.starts_at.isoformat() == "2026-03-03T08:20:00+00:00"
    assert str(appointment.patient.birth_date) == "1985-06-14"
    assert not SlotHold.objects.exists()
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "09:20" in page.content.decode()


def test_the_confirmation_email_has_an_ics_in_the_practice_zone_and_no_reason(
    client, motive, frozen_now, django_capture_on_commit_callbacks
):
    _start(client, motive)
    client.force_login(UserFactory(email="camille@example.test"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("web:book-hold", args=[SlotHold.objects.get().pk]), _details()
        )
    assert not mail.outbox  # the outbox's worker sends it, not the request
    drain()

    assert len(mail.outbox) == 1
    message = email.message_from_bytes(mail.outbox[0].message().as_bytes())
    assert mail.outbox[0].to == ["camille@example.test"]
    parts = {part.get_content_type(): part for part in message.walk()}
    ics = parts["text/calendar"].get_payload(decode=True).decode()
    assert "METHOD:REQUEST" in ics
    assert "DTSTART;TZID=Europe/Paris:20260303T092000" in ics
    assert "BEGIN:VTIMEZONE" in ics
    text = parts["text/plain"].get_payload(decode=True).decode()
    assert "09:20" in text
    for body in (ics, text, parts["text/html"].get_payload(decode=True).decode()):
        assert "genou" not in body


def test_someone_else_cannot_take_a_held_slot_and_gets_alternatives(
    client, motive, frozen_now
):
    _start(client, motive)
    other = client.__class__()
    response = _start(other, motive)

    assert response.status_code == 409
    assert "2026-03-03T09:00:00+01:00" in response.content.decode()
    assert SlotHold.objects.count() == 1


def test_a_slot_taken_meanwhile_offers_the_nearest_alternatives(
    client, motive, frozen_now, patient
):
    _start(client, motive)
    hold = SlotHold.objects.get()
    hold.expires_at = frozen_now - timedelta(seconds=1)  # lapsed: someone else books
    hold.save()
    book_appointment(
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        patient=patient,
        starts_at=hold.starts_at,
        booked_by=patient.account,
    )
    client.force_login(UserFactory())

    response = client.post(reverse("web:book-hold", args=[hold.pk]), _details())

    assert response.status_code == 409
    assert "2026-03-03T09:00:00+01:00" in response.content.decode()
    assert Appointment.objects.count() == 1


def test_a_lapsed_hold_whose_time_is_still_free_is_taken_again(
    client, motive, frozen_now
):
    _start(client, motive)
    hold = SlotHold.objects.get()
    client.force_login(UserFactory())
    with time_machine.travel(frozen_now + timedelta(minutes=11), tick=False):
        response = client.post(reverse("web:book-hold", args=[hold.pk]), _details())

    assert response.status_code == 302
    assert Appointment.objects.get().starts_at == hold.starts_at


def test_a_lapsed_hold_is_renewed_when_its_time_is_still_free(
    client, motive, frozen_now
):
    _start(client, motive)
    hold = SlotHold.objects.get()
    with time_machine.travel(frozen_now + timedelta(minutes=11), tick=False):
        response = client.get(reverse("web:book-hold", args=[hold.pk]))
    renewed = SlotHold.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:book-hold", args=[renewed.pk])
    assert renewed.starts_at == hold.starts_at


def test_another_browser_cannot_open_my_hold(client, motive, frozen_now):
    _start(client, motive)
    hold = SlotHold.objects.get()
    response = client.__class__().get(reverse("web:book-hold", args=[hold.pk]))
    assert response.status_code == 410
    assert client.session[HOLDER_KEY]


@pytest.mark.parametrize(
    "start",
    [
        "",
        "tomorrow",
        "2026-03-03T09:20:00",
        "9999-12-31T23:59:59+14:00",
        "2026-03-03T03:00:00+01:00",
    ],
)
def test_bad_times_get_a_clear_page_and_hold_nothing(client, motive, frozen_now, start):
    response = _start(client, motive, start)
    assert response.status_code in (400, 409)
    assert "<h1>" in response.content.decode()
    assert not SlotHold.objects.exists()


def test_missing_details_change_nothing(client, motive, frozen_now):
    _start(client, motive)
    client.force_login(UserFactory())
    response = client.post(
        reverse("web:book-hold", args=[SlotHold.objects.get().pk]),
        _details(first_name="", birth_date="31/02/1985"),
    )
    assert response.status_code == 400
    assert not Appointment.objects.exists()
    assert not Patient.objects.exists()


def test_booking_for_a_new_relative(client, motive, frozen_now, patient):
    _start(client, motive)
    client.force_login(patient.account)
    response = client.post(
        reverse("web:book-hold", args=[SlotHold.objects.get().pk]),
        _details(
            for_whom="new",
            relative_first_name="Léa",
            relative_last_name="Durand",
            relative_birth_date="2019-02-01",
            relationship="child",
        ),
    )
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert appointment.patient.managed_by == patient
    assert appointment.patient.first_name == "Léa"


def test_the_confirmation_page_and_its_calendar_are_the_owners_only(
    client, motive, frozen_now, patient
):
    _start(client, motive)
    client.force_login(patient.account)
    client.post(
        reverse("web:book-hold", args=[SlotHold.objects.get().pk]),
        _details(for_whom=str(patient.pk)),
    )
    appointment = Appointment.objects.get()
    ics = client.get(reverse("web:book-calendar", args=[appointment.pk]))
    assert ics.status_code == 200
    assert b"DTSTART;TZID=Europe/Paris:20260303T092000" in ics.content

    client.force_login(UserFactory())
    assert (
        client.get(reverse("web:book-confirmed", args=[appointment.pk])).status_code
        == 404
    )
    assert (
        client.get(reverse("web:book-calendar", args=[appointment.pk])).status_code
        == 404
    )


def test_confirming_twice_books_once_and_shows_the_same_confirmation(
    client, motive, frozen_now, patient
):
    _start(client, motive)
    client.force_login(patient.account)
    url = reverse("web:book-hold", args=[SlotHold.objects.get().pk])
    first = client.post(url, _details(for_whom=str(patient.pk)))
    second = client.post(url, _details(for_whom=str(patient.pk)))

    assert Appointment.objects.count() == 1
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]


def test_one_address_cannot_hold_the_whole_agenda(client, motive, frozen_now):
    from carnet.web.views.booking import HOLDS_PER_WINDOW

    starts = [
        f"2026-03-03T{8 + i // 3:02d}:{(i % 3) * 20:02d}:00+01:00" for i in range(25)
    ]
    statuses = []
    for start in starts:
        browser = client.__class__()  # a fresh session each time, same address
        statuses.append(_start(browser, motive, start).status_code)

    assert statuses[:HOLDS_PER_WINDOW] == [302] * HOLDS_PER_WINDOW
    assert set(statuses[HOLDS_PER_WINDOW:]) == {429}
    assert SlotHold.objects.count() == HOLDS_PER_WINDOW
