"""Delivering the outbox: claim a message, render it, send it, record what happened.

**One sender at a time.** A worker claims a message with one conditional
UPDATE (scheduled, or "sending" whose lease has lapsed, and due): the
database lets exactly one worker win; the others find nothing to do. The
claim is committed before anything is sent, and the lease (``lease()``) is far
longer than the transports' time-outs.

**Retries.** A refusal the transport calls temporary (a connection refused,
a 4xx SMTP answer, Vonage's throttling) puts the message back to
"scheduled" with the next attempt ``RETRY_DELAYS`` later, and enqueues that
attempt's task in the same transaction. A permanent refusal (a 5xx SMTP
answer, an invalid number), or the last attempt failing, makes it "failed":
staff see it (carnet.notifications.selectors, the practice's messages page).

**Exactly once.** A worker killed after the transport accepted a message but
before it recorded "sent" leaves the row "sending"; when its lease lapses
another worker takes it over and sends it again. The idempotency key
travels with the message so that the other end can tell: the e-mail's
Message-ID is derived from it (``message_id_for``) and the relay drops a
Message-ID it has already accepted (the loopback test server does; in
production, the submission relay's duplicate filter — README), and mail
clients show one message per Message-ID; the SMS carries it as Vonage's
``client-ref``, and the takeover waits for the lease to lapse, long after
Vonage's delivery receipt for an accepted SMS has marked it delivered
(carnet.notifications.receipts). A Vonage answer lost on the way
(``maybe_sent``) is handled the same way: the row stays "sending" until its
lease lapses.

**Still owed?** Before sending, the message is checked against the present:
a reminder of an appointment that was moved (another version), cancelled
or is over is not sent but marked "not sent"; an offer no longer open
likewise.

**Recovery.** db_worker marks a task "running" and never looks at it again if
its process dies. ``sweep_outbox`` (a task that keeps one successor
enqueued) takes over the messages whose task was lost: those due for more
than ``stuck_after()`` and not claimed, or claimed with a lapsed lease.
"""

import contextlib
import hashlib
import logging
import smtplib
import threading
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation

from carnet.accounts.models import Patient
from carnet.booking.ics import appointment_calendar
from carnet.booking.models import Appointment
from carnet.booking.selectors import calendar_sequence, list_duplicate_bookings
from carnet.core.tasks import task
from carnet.notifications import messages as content
from carnet.notifications.config import sms_config, sms_replies_possible
from carnet.notifications.links import make_action_token
from carnet.notifications.models import Message, OutboxSweep
from carnet.notifications.outbox import RETRY_DELAYS, holder_of, max_attempts
from carnet.notifications.sms import (
    SmsPermanentError,
    SmsRetryableError,
    normalise_msisdn,
    send_sms,
)
from carnet.vault.errors import KeyDestroyed

logger = logging.getLogger(__name__)

Kind = Message.Kind
Status = Message.Status

SWEEP_BATCH = 200


def lease() -> timedelta:
    """How long a claim lasts: far above the SMTP and Vonage time-outs."""
    return timedelta(seconds=settings.CARNET_MESSAGE_LEASE_SECONDS)


def stuck_after() -> timedelta:
    """A due message nobody claimed for this long lost its task: the sweep sends it."""
    return timedelta(seconds=settings.CARNET_OUTBOX_STUCK_SECONDS)


def sweep_every() -> timedelta:
    """How often the sweep runs."""
    return timedelta(seconds=settings.CARNET_OUTBOX_SWEEP_SECONDS)


class _Outcome(Exception):
    """Why a message was not sent this time; `code` is kept on its row."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class NotOwed(_Outcome):
    """The message is no longer owed (moved, cancelled, over, erased)."""


class Permanent(_Outcome):
    """The transport refused the message for good."""


class Temporary(_Outcome):
    """The transport refused the message for now."""


class Ambiguous(_Outcome):
    """The transport may have accepted the message: wait for the lease (and a receipt)."""


def enqueue_delivery(*, message: Message, now: datetime) -> None:
    """Enqueue the task that sends `message` when due (in the caller's transaction).

    Always with a `run_after`: db_worker takes due tasks in `run_after`
    order and files a task without one as due at the end of time, so a
    booking's confirmation would wait behind every reminder already due.
    """
    run_after = max(message.next_attempt_at, now)
    deliver_message.using(run_after=run_after).enqueue(message.pk)
    ensure_sweep(now=now)


@task()
def deliver_message(message_id: int) -> str:
    """Send one message if it is still due and no one else is sending it."""
    return deliver(message_id=message_id, now=timezone.now())


def claim(*, message_id: int, now: datetime) -> Message | None:
    """Take the message for this worker (committed), or None when it is not ours to send."""
    with transaction.atomic():
        claimed = (
            Message.objects.filter(pk=message_id, next_attempt_at__lte=now)
            .filter(
                Q(status=Status.SCHEDULED)
                | Q(status=Status.SENDING, lease_until__lt=now)
            )
            .update(
                status=Status.SENDING,
                lease_until=now + lease(),
                attempts=F("attempts") + 1,
            )
        )
    if not claimed:
        return None
    return Message.objects.select_related("patient").get(pk=message_id)


def deliver(*, message_id: int, now: datetime) -> str:
    """Claim, check, render and send one message; returns what became of it."""
    message = claim(message_id=message_id, now=now)
    if message is None:
        return "not-claimed"
    claimed_until = message.lease_until
    try:
        outgoing = _render(message, now=now)
        provider_ref = _send(message, outgoing)
    except NotOwed as exc:
        _finish(message, claimed_until, status=Status.CANCELLED, code=exc.code, now=now)
        return "not-owed"
    except Ambiguous as exc:
        # Leave it "sending": its lease lapsing is the retry, by then a
        # receipt has settled it if the provider had accepted it.
        Message.objects.filter(pk=message.pk, lease_until=claimed_until).update(
            error_code=exc.code
        )
        return "ambiguous"
    except Temporary as exc:
        if message.attempts >= max_attempts():
            _finish(
                message, claimed_until, status=Status.FAILED, code=exc.code, now=now
            )
            logger.warning("message %s failed for good: %s", message.pk, exc.code)
            return "failed"
        _retry(message, claimed_until, code=exc.code, now=now)
        logger.info(
            "message %s refused for now (%s), retried later", message.pk, exc.code
        )
        return "retry"
    except Permanent as exc:
        _finish(message, claimed_until, status=Status.FAILED, code=exc.code, now=now)
        logger.warning("message %s failed for good: %s", message.pk, exc.code)
        return "failed"
    _finish(
        message, claimed_until, status=Status.SENT, now=timezone.now(), ref=provider_ref
    )
    return "sent"


def _finish(
    message: Message,
    lease: datetime | None,
    *,
    status: str,
    now: datetime,
    code: str = "",
    ref: str = "",
) -> None:
    changes: dict[str, Any] = {"status": status, "lease_until": None}
    if status == Status.SENT:
        changes.update(sent_at=now, provider_ref=ref[:200], error_code="")
    elif status == Status.FAILED:
        changes.update(failed_at=now, error_code=code[:64])
    elif status == Status.CANCELLED:
        changes.update(cancelled_at=now, error_code=code[:64])
    # Only while still ours: a receipt may have marked it delivered meanwhile.
    Message.objects.filter(
        pk=message.pk, status=Status.SENDING, lease_until=lease
    ).update(**changes)


def _retry(
    message: Message, lease: datetime | None, *, code: str, now: datetime
) -> None:
    delay = RETRY_DELAYS[min(message.attempts, len(RETRY_DELAYS)) - 1]
    with transaction.atomic():
        updated = Message.objects.filter(
            pk=message.pk, status=Status.SENDING, lease_until=lease
        ).update(
            status=Status.SCHEDULED,
            lease_until=None,
            next_attempt_at=now + delay,
            error_code=code[:64],
        )
        if updated:
            message.next_attempt_at = now + delay
            enqueue_delivery(message=message, now=now)


# Rendering ---------------------------------------------------------------


class Outgoing:
    """What to send and where: the rendered content and the unsealed address."""

    def __init__(self, *, content: content.MessageContent, to: str) -> None:
        self.content = content
        self.to = to


def _language(patient: Patient) -> str:
    holder = holder_of(patient)
    languages = {code for code, _ in settings.LANGUAGES}
    if holder is not None and holder.language in languages:
        return holder.language
    return settings.LANGUAGE_CODE


def _address(message: Message) -> str:
    patient = message.patient
    holder = holder_of(patient)
    try:
        if message.channel == Message.Channel.EMAIL:
            address = holder.email if holder is not None and holder.email else ""
            return address or patient.email
        phones = [patient.phone]
        if holder is not None:
            own = Patient.objects.filter(account=holder).first()
            if own is not None and own.pk != patient.pk:
                phones.append(own.phone)
        return next((phone for phone in phones if phone), "")
    except KeyDestroyed:
        raise NotOwed("erased") from None


def _site(path: str) -> str:
    return settings.CARNET_SITE_URL.rstrip("/") + path


def _action_url(
    appointment: Appointment, version: int, action: str, expires_at: datetime
) -> str:
    token = make_action_token(
        appointment_ref=str(appointment.vault_row),
        version=version,
        action=action,
        expires_at=expires_at,
    )
    return _site(reverse("web:appointment-action", args=[token]))


def _place(agenda: Any) -> dict[str, str]:
    """Who and where, as every message names them."""
    return {
        "practitioner_name": agenda.practitioner.display_name,
        "practice_name": agenda.practice.name,
        "address": str(agenda.location),
        "time_zone": agenda.time_zone,
    }


def _appointment_content(
    message: Message, *, language: str, now: datetime
) -> content.MessageContent:
    appointment = (
        Appointment.objects.select_related(
            "agenda__practitioner", "agenda__practice", "agenda__location", "motive"
        )
        .filter(pk=message.appointment_id)
        .first()
    )
    if appointment is None:
        raise NotOwed("appointment-gone")
    version = int(message.context.get("version", 0))
    kind = message.kind
    if kind == Kind.CANCELLED:
        if appointment.status != Appointment.Status.CANCELLED:
            raise NotOwed("not-cancelled")
    else:
        if appointment.status != Appointment.Status.BOOKED:
            raise NotOwed("not-booked")
        if appointment.starts_at <= now:
            raise NotOwed("over")
        if kind != Kind.RUNNING_LATE and calendar_sequence(appointment) != version:
            raise NotOwed("moved")
    place = _place(appointment.agenda)
    with translation.override(language):
        if kind == Kind.CANCELLED:
            return content.build_cancelled(
                **place,
                starts_at=appointment.starts_at,
                cancelled_by=message.context.get("cancelled_by", "practice"),
                language=language,
                ics=appointment_calendar(
                    appointment=appointment, method="CANCEL", sequence=version, now=now
                ),
            )
        if kind == Kind.RUNNING_LATE:
            return content.build_running_late(
                **place,
                starts_at=appointment.starts_at,
                minutes=int(message.context.get("minutes", 1)),
                language=language,
            )
        cutoff = appointment.starts_at - appointment.motive.cancellation_cutoff
        cancel_url = (
            _action_url(appointment, version, "cancel", cutoff)
            if cutoff > now
            else None
        )
        confirm_url = _action_url(
            appointment, version, "confirm", appointment.starts_at
        )
        replies = message.channel == Message.Channel.SMS and sms_replies_possible()
        if kind == Kind.CONFIRMATION:
            return content.build_confirmation(
                **place,
                starts_at=appointment.starts_at,
                language=language,
                cancel_url=cancel_url,
                ics=appointment_calendar(
                    appointment=appointment, method="REQUEST", sequence=version, now=now
                ),
            )
        if kind == Kind.MOVED:
            return content.build_moved(
                **place,
                starts_at=appointment.starts_at,
                previous_starts_at=datetime.fromisoformat(
                    message.context["previous_starts_at"]
                ),
                language=language,
                confirm_url=confirm_url,
                cancel_url=cancel_url,
                sms_replies=replies,
                ics=appointment_calendar(
                    appointment=appointment, method="REQUEST", sequence=version, now=now
                ),
            )
        return content.build_reminder(
            **place,
            starts_at=appointment.starts_at,
            language=language,
            confirm_url=confirm_url,
            cancel_url=cancel_url,
            sms_replies=replies,
            duplicate=_duplicate_question(appointment, now=now),
        )


def _duplicate_question(appointment: Appointment, *, now: datetime) -> dict | None:
    """The other appointment of a duplicate pair, for the reminder to ask about."""
    for pair in list_duplicate_bookings(patient_id=appointment.patient_id, now=now):
        if appointment.pk not in (pair.earlier.pk, pair.later.pk):
            continue
        other = pair.later if pair.earlier.pk == appointment.pk else pair.earlier
        return {**_place(other.agenda), "starts_at": other.starts_at}
    return None


def _offer_content(
    message: Message, *, language: str, now: datetime
) -> content.MessageContent:
    from carnet.booking import offers

    offer = offers.get_open_offer(offer_id=message.context.get("offer_id"), now=now)
    if offer is None:
        raise NotOwed("offer-closed")
    with translation.override(language):
        return content.build_offer(
            **_place(offer.agenda),
            starts_at=offer.starts_at,
            expires_at=offer.expires_at,
            language=language,
            offer_url=_site(offers.offer_url_path(offer)),
        )


def _render(message: Message, *, now: datetime) -> Outgoing:
    language = _language(message.patient)
    if message.kind == Kind.OFFER:
        rendered = _offer_content(message, language=language, now=now)
    else:
        rendered = _appointment_content(message, language=language, now=now)
    to = _address(message)
    if not to:
        raise NotOwed("no-address")
    return Outgoing(content=rendered, to=to)


# Transports --------------------------------------------------------------


def message_id_for(key: str) -> str:
    """The e-mail Message-ID of the message with this idempotency key (stable)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    domain = domain or urlsplit(settings.CARNET_SITE_URL).hostname or "carnet.invalid"
    return f"<{digest}@{domain}>"


def _send(message: Message, outgoing: Outgoing) -> str:
    if message.channel == Message.Channel.EMAIL:
        return _send_email(message, outgoing)
    return _send_sms(message, outgoing)


def _send_email(message: Message, outgoing: Outgoing) -> str:
    rendered = outgoing.content
    message_id = message_id_for(message.key)
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        to=[formataddr(("", outgoing.to))],
        headers={"Message-ID": message_id, "Auto-Submitted": "auto-generated"},
    )
    email.attach_alternative(rendered.html, "text/html")
    if rendered.ics is not None:
        method = "CANCEL" if message.kind == Kind.CANCELLED else "REQUEST"
        email.attach(
            "appointment.ics",
            rendered.ics,
            f"text/calendar; method={method}; charset=utf-8",
        )
    try:
        _smtp_send(email)
    except smtplib.SMTPResponseException as exc:
        code = f"smtp:{exc.smtp_code}"
        if 400 <= exc.smtp_code < 500:
            raise Temporary(code) from None
        raise Permanent(code) from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [answer[0] for answer in exc.recipients.values()]
        code = f"smtp:{codes[0] if codes else 550}"
        if codes and all(400 <= c < 500 for c in codes):
            raise Temporary(code) from None
        raise Permanent(code) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise Temporary(f"smtp:{type(exc).__name__}"[:64]) from None
    return message_id


_smtp = threading.local()


def _smtp_send(email: EmailMultiAlternatives) -> None:
    """Send on this worker's open SMTP connection, opening one when needed.

    A worker sends message after message: one connection (and one TLS
    handshake and login) serves them all, instead of one per message. A
    connection the server closed while idle is opened again once; any other
    failure closes it, and the caller judges the error.
    """
    wanted = (
        settings.EMAIL_BACKEND,
        settings.EMAIL_HOST,
        settings.EMAIL_PORT,
        settings.EMAIL_HOST_USER,
    )
    connection = getattr(_smtp, "connection", None)
    if connection is not None and _smtp.settings != wanted:
        _close_smtp()
        connection = None
    reused = connection is not None
    if connection is None:
        connection = get_connection(timeout=settings.CARNET_SMTP_TIMEOUT)
        connection.open()
        _smtp.connection, _smtp.settings = connection, wanted
    try:
        connection.send_messages([email])
    except smtplib.SMTPServerDisconnected:
        _close_smtp()
        if not reused:
            raise
        _smtp_send(email)  # the server had closed the idle connection
    except BaseException:
        _close_smtp()
        raise


def _close_smtp() -> None:
    connection = getattr(_smtp, "connection", None)
    _smtp.connection = None
    if connection is not None:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            connection.close()


def _send_sms(message: Message, outgoing: Outgoing) -> str:
    config = sms_config()
    if config is None:
        raise NotOwed("sms-off")
    try:
        to = normalise_msisdn(outgoing.to)
    except ValueError:
        raise Permanent("sms:invalid-number") from None
    try:
        accepted = send_sms(
            config=config,
            to=to,
            text=outgoing.content.sms,
            client_ref=message.key,
        )
    except SmsPermanentError as exc:
        raise Permanent(f"vonage:{exc.code}") from None
    except SmsRetryableError as exc:
        if exc.maybe_sent:
            raise Ambiguous(f"vonage:{exc.code}") from None
        raise Temporary(f"vonage:{exc.code}") from None
    return ",".join(accepted.message_ids)


# Recovery ----------------------------------------------------------------


def ensure_sweep(*, now: datetime) -> None:
    """Make sure a sweep is enqueued: start the chain (again) if there is none."""
    stale = now - 3 * sweep_every()
    if OutboxSweep.objects.filter(pk=1, next_at__gte=stale).exists():
        return
    with transaction.atomic():
        _, created = OutboxSweep.objects.get_or_create(
            pk=1, defaults={"next_at": now + sweep_every()}
        )
        if created or OutboxSweep.objects.filter(pk=1, next_at__lt=stale).update(
            next_at=now + sweep_every()
        ):
            sweep_outbox.using(run_after=now + sweep_every()).enqueue()


@task()
def sweep_outbox() -> int:
    """Send the messages whose task was lost, expire offers whose task was lost.

    Keeps exactly one successor enqueued.
    """
    now = timezone.now()
    with transaction.atomic():
        OutboxSweep.objects.get_or_create(pk=1, defaults={"next_at": now})
        # One chain: only the sweep that finds the slot due schedules the next.
        if OutboxSweep.objects.filter(
            pk=1, next_at__lte=now + sweep_every() / 2
        ).update(next_at=now + sweep_every()):
            sweep_outbox.using(run_after=now + sweep_every()).enqueue()
    sent = sweep(now=now)
    # Imported here: the booking context's offers import the outbox.
    from carnet.booking import offers

    offers.expire_lapsed_offers(now=now, grace=stuck_after())
    return sent


def sweep(*, now: datetime, limit: int = SWEEP_BATCH) -> int:
    """Deliver up to `limit` stuck messages now; returns how many were sent."""
    stuck = list(
        Message.objects.filter(
            Q(status=Status.SCHEDULED, next_attempt_at__lte=now - stuck_after())
            | Q(status=Status.SENDING, lease_until__lt=now)
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(deliver(message_id=pk, now=timezone.now()) == "sent" for pk in stuck)
