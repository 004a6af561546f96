"""What comes back from the SMS provider: delivery receipts and the patients' replies.

Both arrive on webhooks (carnet.notifications.views) once their signature was
checked (carnet.notifications.sms). The provider retries until it gets a 2xx
and may post the same call twice, so both writes are idempotent.

**Receipts** settle an SMS ``Message``: found by its key (the ``client-ref``
it was sent with), it becomes "delivered" or, after a final failure,
"failed". A "sending" row that gets any receipt was accepted by the provider:
it is at least "sent", and the sender, whose claim it was, leaves it alone
(carnet.notifications.delivery). A delivered message never goes back.

**Replies** are the patient's answers to a reminder: "1" (or "oui", "yes",
"ja", "sì") confirms, "2" cancels, through the same booking services as the
one-click links (carnet.booking.patient_actions), so the cut-off and the
version rules are the same. The sender's number is looked up by its blind
index, and the reply goes to the appointment of the most recent SMS sent to
that number's patients that is still booked and to come, never past an earlier
reply that acted (a second "2" must not cancel another appointment than the
first "2" did; it finds nothing, or the same one). Each reply is kept
once (``InboundReply``, unique per provider message id) with what it did;
its text is never stored nor logged.
"""

import logging
import unicodedata
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q

from carnet.accounts.selectors import find_patients_by_contact
from carnet.booking.models import Appointment, ConfirmedVia
from carnet.booking.patient_actions import (
    appointment_version_at,
    cancel_appointment_by_patient,
    confirm_appointment_by_patient,
)
from carnet.core.errors import DomainError
from carnet.notifications.models import InboundReply, Message
from carnet.notifications.sms import DeliveryReceipt, InboundSms
from carnet.vault.errors import BlindIndexValueInvalid

logger = logging.getLogger(__name__)

Status = Message.Status
Outcome = InboundReply.Outcome

REPLY_CONFIRM = "confirm"
REPLY_CANCEL = "cancel"
# Kept to what cannot be misread: a digit, or a plain "yes" for the harmless
# answer. Cancelling takes the digit only.
CONFIRM_WORDS = frozenset({"1", "oui", "yes", "ja", "si", "sì"})
CANCEL_WORDS = frozenset({"2"})
REPLY_KINDS = (Message.Kind.REMINDER, Message.Kind.MOVED, Message.Kind.CONFIRMATION)
PROVIDER_ID_MAX_LENGTH = 100


def record_receipt(*, receipt: DeliveryReceipt, now: datetime) -> Message | None:
    """Apply a verified delivery receipt to the SMS message it is about.

    The message is the one whose key is the receipt's ``client_ref``; None
    when there is none (an unknown or missing reference is ignored).
    Idempotent. Takes the message's row lock.
    """
    if not receipt.client_ref:
        return None
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .filter(key=receipt.client_ref, channel=Message.Channel.SMS)
            .first()
        )
        if message is None:
            return None
        changed = _apply_receipt(message, receipt=receipt, now=now)
        if changed:
            message.save(update_fields=changed)
    logger.info(
        "SMS delivery receipt: message %s is %s (provider status %s)",
        message.pk,
        message.status,
        receipt.status,
    )
    return message


def _apply_receipt(
    message: Message, *, receipt: DeliveryReceipt, now: datetime
) -> list[str]:
    """Change `message` as `receipt` says; the names of the fields changed."""
    if message.status not in (Status.SENDING, Status.SENT):
        # Delivered stays delivered; a failed, cancelled or scheduled row was
        # settled by its sender, not by a late receipt.
        return []
    changed: list[str] = []
    if message.status == Status.SENDING:
        message.status = Status.SENT
        message.lease_until = None
        changed += ["status", "lease_until"]
    if message.sent_at is None:
        message.sent_at = now
        changed.append("sent_at")
    if not message.provider_ref:
        message.provider_ref = receipt.message_id[:200]
        changed.append("provider_ref")
    if receipt.delivered:
        message.status = Status.DELIVERED
        message.delivered_at = now
        changed += ["status", "delivered_at"]
    elif receipt.final:
        code = receipt.error_code if receipt.error_code is not None else receipt.status
        message.status = Status.FAILED
        message.failed_at = now
        message.error_code = f"dlr:{code}"[:64]
        changed += ["status", "failed_at", "error_code"]
    return sorted(set(changed))


def read_reply(text: str) -> str:
    """What a reply's text asks: REPLY_CONFIRM, REPLY_CANCEL, or "" when it is not understood."""
    word = unicodedata.normalize("NFC", text).strip().casefold()
    if word in CONFIRM_WORDS:
        return REPLY_CONFIRM
    if word in CANCEL_WORDS:
        return REPLY_CANCEL
    return ""


def record_reply(*, sms: InboundSms, now: datetime) -> InboundReply:
    """Act on a verified SMS reply once, and keep what it did (see the module docstring).

    The outcome is "confirmed" or "cancelled", "refused" when the booking
    rules refuse it (past the cut-off, moved since, over), "unknown" for a
    text not understood, "unmatched" when no appointment fits. A second call
    with the same provider message id changes nothing and returns the first
    reply. One transaction; the booking services take their locks in it.
    """
    provider_id = sms.message_id[:PROVIDER_ID_MAX_LENGTH]
    try:
        with transaction.atomic():
            reply = InboundReply.objects.create(
                provider_message_id=provider_id,
                outcome=Outcome.UNMATCHED,
                received_at=now,
            )
            reply.message = _message_replied_to(sender=sms.sender, now=now)
            reply.outcome = _act(reply.message, wanted=read_reply(sms.text), now=now)
            reply.save(update_fields=["message", "outcome"])
    except IntegrityError:
        # The same message, posted again (or twice at once): the first one acted.
        existing = InboundReply.objects.filter(provider_message_id=provider_id).first()
        if existing is None:
            raise
        return existing
    logger.info("SMS reply %s: %s", reply.pk, reply.outcome)
    return reply


def _message_replied_to(*, sender: str, now: datetime) -> Message | None:
    """The latest SMS sent to `sender`'s patients about an appointment still to come."""
    try:
        patients = find_patients_by_contact(phone=sender)
    except BlindIndexValueInvalid:
        return None
    candidates = Message.objects.filter(
        patient__in=patients,
        channel=Message.Channel.SMS,
        status__in=Message.DONE,
        kind__in=REPLY_KINDS,
        appointment__status=Appointment.Status.BOOKED,
        appointment__starts_at__gt=now,
    )
    last_acted = (
        InboundReply.objects.filter(
            message__patient__in=patients,
            outcome__in=(Outcome.CONFIRMED, Outcome.CANCELLED),
        )
        .order_by("-received_at", "-pk")
        .first()
    )
    if last_acted is not None:
        # A reply never reaches past an earlier one that acted: a second "2"
        # must not cancel another appointment than the first "2" did.
        candidates = candidates.filter(
            Q(sent_at__gt=last_acted.received_at) | Q(pk=last_acted.message_id)
        )
    return candidates.select_related("appointment").order_by("-sent_at", "-pk").first()


def _act(message: Message | None, *, wanted: str, now: datetime) -> str:
    """Confirm or cancel the message's appointment; the reply's outcome."""
    if message is None or message.appointment is None:
        return Outcome.UNMATCHED
    if not wanted:
        return Outcome.UNKNOWN
    appointment = message.appointment
    # The version the patient read: a reminder of a time since moved is stale.
    version = appointment_version_at(
        appointment=appointment, instant=message.sent_at or message.created_at
    )
    try:
        if wanted == REPLY_CONFIRM:
            confirm_appointment_by_patient(
                vault_row=appointment.vault_row,
                version=version,
                via=ConfirmedVia.SMS,
                now=now,
            )
            return Outcome.CONFIRMED
        cancel_appointment_by_patient(
            vault_row=appointment.vault_row, version=version, now=now
        )
    except DomainError as exc:
        logger.info("SMS reply refused: %s", exc.code)
        return Outcome.REFUSED
    return Outcome.CANCELLED
