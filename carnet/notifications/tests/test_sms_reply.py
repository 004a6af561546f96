"""An SMS reminder answered "2" cancels the appointment; "1" confirms it. End to end."""

from datetime import timedelta

import pytest
from django.utils import timezone

from carnet.booking.models import Appointment, WaitingListEntry, WaitlistOffer
from carnet.notifications.models import InboundReply, Message
from carnet.notifications.tests.conftest import PHONE
from carnet.notifications.tests.hooks import INBOUND_URL, with_phone
from carnet.notifications.tests.test_outbox import book, parts
from carnet.notifications.tests.test_waitlist_cascade import offer_link, waiting
from tests.workers import drain

pytestmark = pytest.mark.django_db


def first_sms_reminder(clock, sms):
    reminder = Message.objects.filter(kind="reminder", channel="sms").earliest("due_at")
    clock.move_to(reminder.due_at + timedelta(minutes=1))
    drain()
    [text] = sms.by_client_ref(reminder.key)
    assert "Répondez 1 pour confirmer, 2 pour annuler" in text.handset_text
    return reminder


def reply(client, sms, text: str):
    params = sms.inbound_params(sender=PHONE, text=text, now=timezone.now())
    response = client.post(INBOUND_URL, params)
    assert response.status_code == 200
    return params


def test_replying_2_to_a_reminder_cancels_and_offers_the_slot(
    clock, motive, reachable, smtp, sms, client
):
    with_phone(reachable)
    appointment = book(motive, reachable)
    waiting(motive, "first")
    drain()
    first_sms_reminder(clock, sms)

    params = reply(client, sms, "2")

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert InboundReply.objects.get().outcome == InboundReply.Outcome.CANCELLED
    # The same reply posted again by the provider changes nothing.
    assert client.post(INBOUND_URL, params).status_code == 200
    assert InboundReply.objects.count() == 1
    drain()
    # The patient is told (e-mail with METHOD:CANCEL, and SMS), the slot offered on.
    cancelled = smtp.matching(lambda m: m["To"] == "camille@example.test")[-1]
    assert "METHOD:CANCEL" in parts(cancelled)["text/calendar"]
    assert sms.messages[-1].client_ref.endswith(":cancelled:sms")
    assert offer_link(smtp, "first@example.test")
    assert WaitlistOffer.objects.get().entry.status == WaitingListEntry.Status.OFFERED
    # No reminder of the cancelled appointment is sent afterwards.
    clock.move_to(appointment.starts_at - timedelta(hours=1))
    before = len(sms.messages)
    drain()
    assert not [
        m
        for m in sms.messages[before:]
        if f"appointment:{appointment.vault_row}" in m.client_ref
    ]


def test_replying_1_confirms_and_staff_see_it(
    clock, motive, reachable, smtp, sms, client
):
    with_phone(reachable)
    appointment = book(motive, reachable)
    drain()
    first_sms_reminder(clock, sms)

    reply(client, sms, "1")

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert appointment.confirmed_via == "sms"
    assert appointment.confirmed_at == timezone.now()
