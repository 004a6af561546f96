"""The SMS replies webhook: "1" confirms, "2" cancels, signed calls only, each once."""

import json
import logging
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client

from carnet.booking.models import Appointment, ConfirmedVia
from carnet.booking.services import reschedule_appointment
from carnet.notifications.models import InboundReply, Message
from carnet.notifications.receipts import read_reply
from carnet.notifications.tests.hooks import (
    INBOUND_URL,
    PHONE,
    anne,
    paris,
    sms_on,
    sms_provider,
    sms_sent,
    visit,
    with_phone,
)

__all__ = ["anne", "sms_on", "sms_provider"]  # fixtures, found by name

pytestmark = pytest.mark.django_db
Outcome = InboundReply.Outcome


def call(url: str, params: dict[str, str], *, method: str = "POST"):
    """Call a webhook as Vonage does: GET query, POST form or POST JSON."""
    client = Client(enforce_csrf_checks=True)
    if method == "GET":
        return client.get(url, params)
    if method == "POST-JSON":
        return client.post(url, json.dumps(params), content_type="application/json")
    return client.post(
        url, urlencode(params), content_type="application/x-www-form-urlencoded"
    )


@pytest.fixture
def booked(frozen_now, motive, anne):
    """Anne, Wednesday 4 March 2026 at 09:00 (24 h cut-off); its reminder sent an hour ago."""
    appointment = visit(motive, anne, paris(2026, 3, 4, 9, 0))
    sms_sent(appointment, sent_at=frozen_now - timedelta(hours=1))
    return appointment


def reply(provider, text: str, *, sender: str = PHONE, method: str = "POST", **extra):
    params = provider.inbound_params(sender=sender, text=text, **extra)
    return call(INBOUND_URL, params, method=method), params


def snapshot(appointment) -> tuple:
    appointment.refresh_from_db()
    return (
        appointment.status,
        appointment.confirmed_at,
        appointment.confirmed_via,
        appointment.cancelled_at,
    )


@pytest.mark.parametrize("method", ["POST", "GET", "POST-JSON"])
def test_a_reply_2_cancels_the_appointment_of_the_last_sms(
    sms_on, booked, frozen_now, method
):
    response, params = reply(sms_on, "2", method=method)

    assert response.status_code == 200
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CANCELLED
    assert booked.cancelled_by_kind == Appointment.Actor.PATIENT
    (kept,) = InboundReply.objects.all()
    assert kept.provider_message_id == params["messageId"]
    assert kept.outcome == Outcome.CANCELLED
    assert kept.message.appointment_id == booked.pk


@pytest.mark.parametrize("text", ["1", " 1\n", "Oui", "yes"])
def test_a_reply_1_confirms_by_sms(sms_on, booked, frozen_now, text):
    response, _params = reply(sms_on, text)

    assert response.status_code == 200
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED
    assert booked.confirmed_via == ConfirmedVia.SMS
    assert abs(booked.confirmed_at - frozen_now) < timedelta(seconds=5)
    assert InboundReply.objects.get().outcome == Outcome.CONFIRMED


def test_the_same_message_posted_twice_acts_once(sms_on, booked):
    _first, params = reply(sms_on, "2")
    after_first = snapshot(booked)

    again = call(INBOUND_URL, params)

    assert again.status_code == 200
    assert snapshot(booked) == after_first
    assert InboundReply.objects.count() == 1


def test_a_bad_signature_is_refused_and_changes_nothing(sms_on, booked):
    before = snapshot(booked)
    params = sms_on.inbound_params(sender=PHONE, text="2")
    forged = {**params, "text": "2 "}  # the signature no longer matches
    unsigned = {k: v for k, v in params.items() if k != "sig"}

    for bad in (forged, unsigned):
        assert call(INBOUND_URL, bad).status_code == 401
    assert snapshot(booked) == before
    assert not InboundReply.objects.exists()


def test_a_stale_signature_is_refused(sms_on, booked, frozen_now):
    before = snapshot(booked)

    response, _params = reply(sms_on, "2", now=frozen_now - timedelta(minutes=10))

    assert response.status_code == 401
    assert snapshot(booked) == before
    assert not InboundReply.objects.exists()


def test_without_sms_the_webhook_does_not_exist(settings, sms_provider, booked):
    settings.CARNET_VONAGE_API_KEY = ""

    response = call(INBOUND_URL, sms_provider.inbound_params(sender=PHONE, text="2"))

    assert response.status_code == 404
    assert Client().get(INBOUND_URL).status_code == 404
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED


def test_an_unknown_sender_gets_200_and_an_unmatched_reply(sms_on, booked):
    before = snapshot(booked)

    response, _params = reply(sms_on, "2", sender="+41791234567")

    assert response.status_code == 200
    kept = InboundReply.objects.get()
    assert kept.outcome == Outcome.UNMATCHED
    assert kept.message is None
    assert snapshot(booked) == before


def test_a_text_not_understood_changes_nothing(sms_on, booked):
    before = snapshot(booked)

    response, _params = reply(sms_on, "Je serai en retard de 10 minutes")

    assert response.status_code == 200
    assert InboundReply.objects.get().outcome == Outcome.UNKNOWN
    assert snapshot(booked) == before


def test_a_2_after_the_cut_off_is_refused(sms_on, booked):
    booked.motive.cancellation_cutoff_hours = 72
    booked.motive.save(update_fields=["cancellation_cutoff_hours"])
    before = snapshot(booked)

    response, _params = reply(sms_on, "2")

    assert response.status_code == 200
    assert InboundReply.objects.get().outcome == Outcome.REFUSED
    assert snapshot(booked) == before


def test_a_reply_to_a_reminder_of_a_time_since_moved_is_refused(
    sms_on, booked, anne, frozen_now
):
    reschedule_appointment(
        user=anne.account,
        appointment_id=booked.pk,
        starts_at=paris(2026, 3, 5, 11, 0),
    )
    before = snapshot(booked)

    response, _params = reply(sms_on, "1")

    assert response.status_code == 200
    assert InboundReply.objects.get().outcome == Outcome.REFUSED
    assert snapshot(booked) == before


def test_the_reply_goes_to_the_most_recent_sms_of_an_appointment_to_come(
    sms_on, booked, motive, anne, frozen_now
):
    later = visit(motive, anne, paris(2026, 3, 10, 9, 0))
    sms_sent(later, sent_at=frozen_now - timedelta(minutes=5))
    past = visit(motive, anne, paris(2026, 3, 2, 6, 0))
    sms_sent(past, sent_at=frozen_now - timedelta(minutes=1))
    # Not an answerable message: an e-mail, a cancellation notice, one not sent.
    sms_sent(booked, sent_at=frozen_now, channel=Message.Channel.EMAIL)
    sms_sent(booked, sent_at=frozen_now, kind=Message.Kind.CANCELLED)
    sms_sent(booked, sent_at=frozen_now, status=Message.Status.SCHEDULED)

    reply(sms_on, "1")

    later.refresh_from_db()
    booked.refresh_from_db()
    assert later.confirmed_via == ConfirmedVia.SMS
    assert booked.confirmed_at is None


def test_a_second_2_does_not_cancel_another_appointment(
    sms_on, booked, motive, anne, frozen_now
):
    other = visit(motive, anne, paris(2026, 3, 10, 9, 0))
    sms_sent(other, sent_at=frozen_now - timedelta(hours=2))
    reply(sms_on, "2")
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CANCELLED

    reply(sms_on, "2")

    other.refresh_from_db()
    assert other.status == Appointment.Status.BOOKED
    assert list(
        InboundReply.objects.order_by("pk").values_list("outcome", flat=True)
    ) == [Outcome.CANCELLED, Outcome.UNMATCHED]


def test_a_relative_sharing_the_phone_is_found_too(sms_on, motive, frozen_now):
    from carnet.accounts.tests.factories import RelativeFactory

    child = with_phone(RelativeFactory())
    appointment = visit(motive, child, paris(2026, 3, 4, 15, 0))
    sms_sent(appointment, sent_at=frozen_now - timedelta(minutes=3))

    reply(sms_on, "1")

    appointment.refresh_from_db()
    assert appointment.confirmed_via == ConfirmedVia.SMS


def test_the_reply_text_and_the_number_are_never_logged(sms_on, booked, caplog):
    with caplog.at_level(logging.DEBUG):
        reply(sms_on, "canary-text bonjour")
        reply(sms_on, "2", method="GET")

    assert "canary-text" not in caplog.text
    assert "612345678" not in caplog.text


def test_genuine_calls_carnet_has_no_use_for_still_get_200(sms_on, booked):
    before = snapshot(booked)
    binary = sms_on.sign(
        {
            "msisdn": "33612345678",
            "to": "33700000000",
            "messageId": "BIN1",
            "type": "binary",
            "api-key": sms_on.api_key,
        }
    )

    assert call(INBOUND_URL, binary).status_code == 200
    assert snapshot(booked) == before


def test_a_webhook_takes_no_session_and_no_csrf_token(sms_on, booked):
    response, _params = reply(sms_on, "1")

    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert "csrftoken" not in response.cookies


@pytest.mark.parametrize(
    ("text", "wanted"),
    [("1", "confirm"), ("2", "cancel"), ("Sì", "confirm"), ("non", ""), ("12", "")],
)
def test_reading_a_reply(text, wanted):
    assert read_reply(text) == wanted
