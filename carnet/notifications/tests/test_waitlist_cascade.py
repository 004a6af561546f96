"""Cancel → the waiting list's cascade, through the messages patients really receive."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from carnet.accounts.models import NotificationPreferences
from carnet.accounts.tests.factories import PatientFactory, UserFactory
from carnet.booking.models import Appointment, WaitingListEntry, WaitlistOffer
from carnet.booking.services import cancel_appointment
from carnet.notifications.models import Message
from carnet.notifications.tests.test_outbox import (
    THURSDAY_NEXT_WEEK,
    book,
    paris,
    parts,
)
from tests.workers import drain

pytestmark = pytest.mark.django_db


def waiting(motive, name: str, *, later=None) -> WaitingListEntry:
    user = UserFactory(email=f"{name}@example.test", language="en")
    patient = PatientFactory(account=user)
    NotificationPreferences.objects.create(user=user, reminder_offsets=[24])
    if later is not None:
        book(motive, patient, starts_at=later)
    return WaitingListEntry.objects.create(
        patient=patient,
        agenda=motive.agenda,
        motive=motive,
        earliest_on=paris(2026, 3, 2).date(),
        latest_on=paris(2026, 3, 31).date(),
    )


def offer_link(mailbox, address: str) -> str:
    [offer] = mailbox.matching(
        lambda m: m["To"] == address and "earlier" in m["Subject"].lower()
    )
    return re.search(r"(/offers/[^/\s]+/)", parts(offer)["text/plain"]).group(1)


def test_a_cancellation_cascades_down_the_waiting_list(
    clock, motive, reachable, smtp, client
):
    appointment = book(motive, reachable)
    first = waiting(motive, "first")
    second = waiting(motive, "second", later=paris(2026, 3, 26, 9, 0))
    drain()

    cancel_appointment(user=reachable.account, appointment_id=appointment.pk)
    drain()
    # The first waiting patient is offered the freed time, by e-mail with a link.
    link = offer_link(smtp, "first@example.test")
    assert "10:00" in client.get(link).content.decode()
    response = client.post(link, {"action": "decline"})
    assert response.status_code == 200
    first.refresh_from_db()
    assert first.status == WaitingListEntry.Status.ACTIVE
    drain()

    # …then the second, who accepts: booked, and their later appointment released.
    link = offer_link(smtp, "second@example.test")
    client.post(link, {"action": "accept"})
    second.refresh_from_db()
    assert second.status == WaitingListEntry.Status.FULFILLED
    taken = Appointment.objects.get(
        patient=second.patient, status="booked", starts_at=THURSDAY_NEXT_WEEK
    )
    released = Appointment.objects.get(
        patient=second.patient, starts_at=paris(2026, 3, 26, 9, 0)
    )
    assert released.status == Appointment.Status.CANCELLED
    drain()
    to_second = smtp.matching(lambda m: m["To"] == "second@example.test")
    subjects = [m["Subject"] for m in to_second]
    assert any("confirmed" in s.lower() and "12" in s for s in subjects)
    assert any("cancelled" in s.lower() for s in subjects)
    assert Message.objects.filter(
        appointment=taken, kind="reminder", status=Message.Status.SCHEDULED
    ).exists()
    # The released time is offered on (the first patient is waiting again).
    assert WaitlistOffer.objects.filter(
        entry=first, starts_at=released.starts_at, status="offered"
    ).exists()


def test_an_offer_nobody_takes_in_time_moves_on(clock, motive, reachable, smtp):
    appointment = book(motive, reachable)
    first = waiting(motive, "first")
    second = waiting(motive, "second")
    cancel_appointment(user=reachable.account, appointment_id=appointment.pk)
    drain()
    assert offer_link(smtp, "first@example.test")
    clock.shift(timedelta(minutes=15, seconds=1))
    drain()
    assert offer_link(smtp, "second@example.test")
    assert WaitlistOffer.objects.get(entry=first).status == "expired"
    assert WaitlistOffer.objects.get(entry=second).status == "offered"


def test_an_offer_message_not_yet_sent_when_the_offer_closed_is_dropped(
    clock, motive, reachable, smtp
):
    appointment = book(motive, reachable)
    waiting(motive, "first")
    cancel_appointment(user=reachable.account, appointment_id=appointment.pk)
    # The worker is late: the offer has lapsed before its e-mail went out.
    clock.shift(timedelta(minutes=16))
    drain()
    row = Message.objects.get(
        kind="offer", patient__account__email="first@example.test"
    )
    assert row.status == Message.Status.CANCELLED
    assert row.error_code == "offer-closed"
    assert not smtp.matching(lambda m: m["To"] == "first@example.test")


def test_the_offer_page_is_reachable_by_its_url_name():
    assert reverse("web:offer", args=["x" * 78]).startswith("/offers/")


def test_an_offer_whose_expiry_task_was_lost_still_moves_on(
    clock, motive, reachable, smtp
):
    from django_tasks_db.models import DBTaskResult

    appointment = book(motive, reachable)
    first = waiting(motive, "first")
    second = waiting(motive, "second")
    cancel_appointment(user=reachable.account, appointment_id=appointment.pk)
    drain()
    # The worker that held the expiry task died: the task is gone for good.
    DBTaskResult.objects.filter(task_path__endswith="expire_waitlist_offer").delete()
    clock.shift(timedelta(minutes=15) + timedelta(minutes=3))
    drain()  # the outbox's sweep is due by now
    assert WaitlistOffer.objects.get(entry=first).status == "expired"
    assert WaitlistOffer.objects.get(entry=second).status == "offered"
    assert offer_link(smtp, "second@example.test")
