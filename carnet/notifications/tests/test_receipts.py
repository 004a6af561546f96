"""Delivery receipts settle an SMS message: delivered, or failed with the carrier's code."""

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client

from carnet.notifications.models import Message
from carnet.notifications.receipts import record_receipt
from carnet.notifications.sms import DeliveryReceipt
from carnet.notifications.tests.hooks import (
    RECEIPT_URL,
    anne,
    paris,
    sms_on,
    sms_provider,
    sms_sent,
    visit,
)
from tests.sms_provider import SentSms

__all__ = ["anne", "sms_on", "sms_provider"]  # fixtures, found by name

pytestmark = pytest.mark.django_db
Status = Message.Status


@pytest.fixture
def appointment(frozen_now, motive, anne):
    return visit(motive, anne, paris(2026, 3, 4, 9, 0))


def sent_as(message: Message, *parts: str) -> SentSms:
    """What the fake Vonage would hold for `message` (its parts' ids)."""
    return SentSms(
        to="33612345678",
        text="Rappel",
        client_ref=message.key,
        sender="33700000000",
        type="text",
        callback=None,
        status_report_req="1",
        message_ids=list(parts or ("0A0000001",)),
    )


def deliver(provider, sms: SentSms, *, method: str = "GET", **receipt):
    params = provider.receipt_params(sms, **receipt)
    client = Client(enforce_csrf_checks=True)
    if method == "GET":
        return client.get(RECEIPT_URL, params)
    if method == "POST-JSON":
        return client.post(
            RECEIPT_URL, json.dumps(params), content_type="application/json"
        )
    return client.post(
        RECEIPT_URL, urlencode(params), content_type="application/x-www-form-urlencoded"
    )


def fields(message: Message) -> tuple:
    message.refresh_from_db()
    return (
        message.status,
        message.sent_at,
        message.delivered_at,
        message.failed_at,
        message.error_code,
        message.lease_until,
    )


@pytest.mark.parametrize("method", ["GET", "POST", "POST-JSON"])
def test_a_delivered_receipt_marks_a_sent_message_delivered(
    sms_on, appointment, frozen_now, method
):
    message = sms_sent(appointment, sent_at=frozen_now - timedelta(minutes=2))

    response = deliver(sms_on, sent_as(message), method=method)

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert abs(message.delivered_at - frozen_now) < timedelta(seconds=5)
    assert message.sent_at == frozen_now - timedelta(minutes=2)


def test_a_receipt_for_a_message_still_sending_means_it_was_sent(
    sms_on, appointment, frozen_now
):
    message = sms_sent(appointment, sent_at=frozen_now, status=Status.SENDING)

    deliver(sms_on, sent_as(message), status="accepted")

    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.sent_at is not None
    assert message.lease_until is None
    assert message.provider_ref == "0A0000001"

    deliver(sms_on, sent_as(message), status="delivered")

    message.refresh_from_db()
    assert message.status == Status.DELIVERED


def test_a_sending_message_delivered_at_once_is_delivered(
    sms_on, appointment, frozen_now
):
    message = sms_sent(appointment, sent_at=frozen_now, status=Status.SENDING)

    deliver(sms_on, sent_as(message))

    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert message.sent_at is not None
    assert message.delivered_at is not None
    assert message.lease_until is None


def test_a_final_failure_marks_the_message_failed_with_the_carriers_code(
    sms_on, appointment, frozen_now
):
    message = sms_sent(appointment, sent_at=frozen_now - timedelta(minutes=2))

    deliver(sms_on, sent_as(message), status="failed", err_code="6")

    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.error_code == "dlr:6"
    assert abs(message.failed_at - frozen_now) < timedelta(seconds=5)


def test_an_expired_receipt_is_a_failure_too(sms_on, appointment, frozen_now):
    message = sms_sent(appointment, sent_at=frozen_now - timedelta(minutes=2))

    deliver(sms_on, sent_as(message), status="expired", err_code="5")

    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.FAILED, "dlr:5")


def test_a_receipt_on_the_way_changes_nothing_on_a_sent_message(
    sms_on, appointment, frozen_now
):
    message = sms_sent(appointment, sent_at=frozen_now - timedelta(minutes=2))
    before = fields(message)

    deliver(sms_on, sent_as(message), status="buffered")

    assert fields(message) == before


def test_a_delivered_message_never_goes_back(sms_on, appointment, frozen_now):
    message = sms_sent(appointment, sent_at=frozen_now - timedelta(minutes=2))
    sms = sent_as(message, "0A0000001", "0A0000002")
    deliver(sms_on, sms)
    delivered = fields(message)

    deliver(sms_on, sms, part=1, status="failed", err_code="1")
    deliver(sms_on, sms, status="accepted")
    deliver(sms_on, sms)

    assert fields(message) == delivered
    assert delivered[0] == Status.DELIVERED


def test_the_same_receipt_twice_changes_nothing_the_second_time(
    sms_on, appointment, frozen_now
):
    message = sms_sent(appointment, sent_at=frozen_now - timedelta(minutes=2))
    params = sms_on.receipt_params(sent_as(message))
    Client().get(RECEIPT_URL, params)
    first = fields(message)

    again = Client().get(RECEIPT_URL, params)

    assert again.status_code == 200
    assert fields(message) == first


def test_an_unknown_reference_is_ignored_with_200(sms_on, appointment, frozen_now):
    message = sms_sent(appointment, sent_at=frozen_now - timedelta(minutes=2))
    before = fields(message)
    stranger = sent_as(message)
    stranger.client_ref = "appointment:unknown"
    nameless = sent_as(message)
    nameless.client_ref = None

    assert deliver(sms_on, stranger).status_code == 200
    assert deliver(sms_on, nameless).status_code == 200
    assert fields(message) == before


def test_a_receipt_for_a_cancelled_or_scheduled_message_changes_nothing(
    sms_on, appointment, frozen_now
):
    for status in (Status.CANCELLED, Status.SCHEDULED, Status.FAILED):
        message = sms_sent(appointment, sent_at=frozen_now, status=status)
        before = fields(message)

        deliver(sms_on, sent_as(message))

        assert fields(message) == before


def test_a_badly_signed_receipt_is_refused_and_changes_nothing(
    sms_on, appointment, frozen_now
):
    message = sms_sent(appointment, sent_at=frozen_now - timedelta(minutes=2))
    before = fields(message)
    params = sms_on.receipt_params(sent_as(message))
    forged = {**params, "status": "failed"}
    stale = sms_on.receipt_params(sent_as(message), now=frozen_now - timedelta(hours=1))

    assert Client().get(RECEIPT_URL, forged).status_code == 401
    assert Client().get(RECEIPT_URL, stale).status_code == 401
    assert fields(message) == before


def test_without_sms_the_receipt_webhook_does_not_exist(
    settings, sms_provider, appointment, frozen_now
):
    settings.CARNET_VONAGE_API_KEY = ""
    message = sms_sent(appointment, sent_at=frozen_now - timedelta(minutes=2))

    response = deliver(sms_provider, sent_as(message))

    assert response.status_code == 404
    message.refresh_from_db()
    assert message.status == Status.SENT


def test_an_e_mail_is_never_settled_by_an_sms_receipt(appointment, frozen_now):
    message = sms_sent(appointment, sent_at=frozen_now, channel=Message.Channel.EMAIL)
    receipt = DeliveryReceipt(
        client_ref=message.key,
        message_id="X",
        status="delivered",
        delivered=True,
        final=True,
        error_code=None,
    )

    assert record_receipt(receipt=receipt, now=frozen_now) is None
    message.refresh_from_db()
    assert message.status == Status.SENT
