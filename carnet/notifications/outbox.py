"""The outbox's entry points: what the booking services call inside their transaction.

Each entry point writes ``Message`` rows and, with each new row, the task that
will deliver it (carnet.notifications.delivery.deliver_message, ``run_after``
its due instant). Both are written in the caller's transaction: a booking
that commits has its confirmation and reminders; one that rolls back has
none, and no task ever points at a message that does not exist.

**Keys.** An appointment's messages are keyed
``appointment:<vault_row>:<version>:<suffix>``: ``version`` is the
appointment's calendar SEQUENCE (booking.selectors.calendar_sequence), which
grows with every move, and ``suffix`` comes from the pure schedule
(``confirmation:email``, ``reminder:sms:24h``…). Planning twice writes
nothing new; a move gives the new time new keys, and the old time's pending
rows are cancelled. Other messages: ``appointment:<vault_row>:<version>:
moved:<channel>``, ``…:cancelled:<channel>``, ``running-late:<event id>:
<appointment id>:<channel>``, ``offer:<offer ref>:<channel>``.

**Who gets what.** The confirmation and the notices (moved, cancelled,
running late, offers) are transactional: by e-mail whenever the patient has
an address, and by SMS too when SMS is configured, the patient asked for SMS
reminders and has a phone and the practice sends SMS. Reminders follow the
practice's and the motive's switches and the account holder's preferences
(channels and times). The address and the phone are not read here: they are
unsealed at send time (a patient without one gets no row on that channel).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q

from carnet.accounts.models import NotificationPreferences, Patient, User
from carnet.booking.models import Appointment, AppointmentChange, RunningLate
from carnet.booking.selectors import calendar_sequence
from carnet.notifications.config import sms_config
from carnet.notifications.models import Message
from carnet.notifications.schedule import (
    CHANNEL_EMAIL,
    CHANNEL_SMS,
    plan_messages,
    reminder_offsets_from_hours,
)
from carnet.vault.errors import KeyDestroyed

Kind = Message.Kind
Status = Message.Status


@dataclass(frozen=True)
class Channels:
    """The channels a patient can be reached on, for notices and for reminders."""

    notices: tuple[str, ...]
    reminders: tuple[str, ...]
    offsets_hours: tuple[int, ...]


def holder_of(patient: Patient) -> User | None:
    """The account that receives the patient's messages: their own, or their guardian's."""
    if patient.account_id is not None:
        return patient.account
    if patient.managed_by_id is not None:
        return patient.managed_by.account if patient.managed_by.account_id else None
    return None


def _has_email(patient: Patient, holder: User | None) -> bool:
    if holder is not None and holder.email:
        return True
    try:
        return bool(patient.email)
    except KeyDestroyed:
        return False


def _has_phone(patient: Patient, holder: User | None) -> bool:
    candidates = [patient]
    if holder is not None:
        candidates.extend(Patient.objects.filter(account=holder).exclude(pk=patient.pk))
    for candidate in candidates:
        try:
            if candidate.phone:
                return True
        except KeyDestroyed:
            continue
    return False


def channels_for(*, patient: Patient, practice: Any, motive: Any = None) -> Channels:
    """Where `patient` hears from `practice` (see the module docstring)."""
    holder = holder_of(patient)
    preferences = (
        NotificationPreferences.objects.filter(user=holder).first()
        if holder is not None
        else None
    ) or NotificationPreferences(user=holder)
    email = _has_email(patient, holder)
    sms = (
        sms_config() is not None
        and preferences.sms_reminders
        and getattr(practice, "sms_reminders_enabled", True)
        and _has_phone(patient, holder)
    )
    notices = tuple(
        channel for channel, ok in ((CHANNEL_EMAIL, email), (CHANNEL_SMS, sms)) if ok
    )
    reminding = motive is None or getattr(motive, "reminders_enabled", True)
    reminders = tuple(
        channel
        for channel, ok in (
            (
                CHANNEL_EMAIL,
                email
                and preferences.email_reminders
                and getattr(practice, "email_reminders_enabled", True),
            ),
            (CHANNEL_SMS, sms),
        )
        if ok and reminding
    )
    return Channels(
        notices=notices,
        reminders=reminders,
        offsets_hours=tuple(int(h) for h in preferences.reminder_offsets or ()),
    )


def appointment_key(appointment: Appointment, version: int, suffix: str) -> str:
    """The idempotency key of one of the appointment's messages."""
    return f"appointment:{appointment.vault_row}:{version}:{suffix}"


def _enqueue(message: Message, now: datetime) -> None:
    # Imported here: delivery renders messages and imports the web layer's URLs.
    from carnet.notifications.delivery import enqueue_delivery

    enqueue_delivery(message=message, now=now)


def _write(rows: Iterable[dict[str, Any]], *, now: datetime) -> list[Message]:
    """Create the rows whose key does not exist yet, each with its delivery task."""
    rows = list(rows)
    existing = set(
        Message.objects.filter(key__in=[row["key"] for row in rows]).values_list(
            "key", flat=True
        )
    )
    created = []
    for row in rows:
        if row["key"] in existing:
            continue
        message = Message.objects.create(next_attempt_at=row["due_at"], **row)
        _enqueue(message, now)
        created.append(message)
    return created


def _cancel_pending(queryset: Any, *, now: datetime) -> int:
    """Cancel rows not yet being sent (a row being sent is judged by its worker)."""
    return queryset.filter(status=Status.SCHEDULED).update(
        status=Status.CANCELLED, cancelled_at=now
    )


def _booked_at(appointment: Appointment) -> datetime:
    """When the appointment's current time was set: its booking or its last move."""
    moved = (
        AppointmentChange.objects.filter(
            appointment_id=appointment.pk, kind=AppointmentChange.Kind.MOVED
        )
        .order_by("-created_at", "-pk")
        .values_list("created_at", flat=True)
        .first()
    )
    return moved or appointment.created_at


def _base(appointment: Appointment) -> dict[str, Any]:
    return {
        "patient_id": appointment.patient_id,
        "appointment_id": appointment.pk,
        "practice_id": appointment.agenda.practice_id,
    }


def plan_appointment(
    *,
    appointment: Appointment,
    now: datetime,
    booked_at: datetime | None = None,
    with_confirmation: bool = True,
) -> list[Message]:
    """Write the confirmation and reminders still owed for the appointment's current time.

    Rows of this time that are no longer wanted (preferences changed) are
    cancelled while still scheduled; rows of an earlier time too. Without
    `with_confirmation`, only reminders are planned (a confirmation already
    written stays as it is).
    """
    version = calendar_sequence(appointment)
    prefix = f"appointment:{appointment.vault_row}:"
    current = f"{prefix}{version}:"
    planned_kinds = (Kind.CONFIRMATION, Kind.REMINDER)
    if appointment.status != Appointment.Status.BOOKED or appointment.starts_at <= now:
        _cancel_pending(
            Message.objects.filter(
                appointment_id=appointment.pk, kind__in=planned_kinds
            ),
            now=now,
        )
        return []
    agenda = appointment.agenda
    channels = channels_for(
        patient=appointment.patient, practice=agenda.practice, motive=appointment.motive
    )
    booked_at = booked_at or _booked_at(appointment)
    plan = plan_messages(
        starts_at=appointment.starts_at,
        booked_at=min(booked_at, now),
        now=now,
        zone=agenda.zone,
        channels=sorted(set(channels.notices) | set(channels.reminders)),
        offsets=reminder_offsets_from_hours(channels.offsets_hours),
        reminders_enabled=bool(channels.offsets_hours),
    )
    wanted = [
        planned
        for planned in plan
        if planned.channel
        in (channels.notices if planned.kind == "confirmation" else channels.reminders)
        and (with_confirmation or planned.kind != "confirmation")
    ]
    rows = [
        {
            **_base(appointment),
            "key": current + planned.key_suffix,
            "kind": planned.kind,
            "channel": planned.channel,
            "due_at": planned.due_at,
            "context": {"version": version},
        }
        for planned in wanted
    ]
    keys = [row["key"] for row in rows]
    _cancel_pending(
        Message.objects.filter(
            appointment_id=appointment.pk,
            kind__in=planned_kinds if with_confirmation else (Kind.REMINDER,),
        )
        .filter(key__startswith=prefix)
        .exclude(key__in=keys),
        now=now,
    )
    return _write(rows, now=now)


def _notices(
    appointment: Appointment,
    *,
    kind: str,
    version: int,
    now: datetime,
    context: dict[str, Any],
) -> list[Message]:
    channels = channels_for(
        patient=appointment.patient, practice=appointment.agenda.practice
    )
    return _write(
        (
            {
                **_base(appointment),
                "key": appointment_key(appointment, version, f"{kind}:{channel}"),
                "kind": kind,
                "channel": channel,
                "due_at": now,
                "context": {"version": version, **context},
            }
            for channel in channels.notices
        ),
        now=now,
    )


def _mark_changes_notified(appointment: Appointment, *, now: datetime) -> None:
    """The appointment's changes owing a notice have it in the outbox now."""
    AppointmentChange.objects.filter(
        appointment_id=appointment.pk, notify_patient=True, notified_at__isnull=True
    ).update(notified_at=now)


def appointment_booked(*, appointment: Appointment, now: datetime) -> None:
    """Plan the confirmation and the reminders of a new appointment."""
    plan_appointment(appointment=appointment, now=now, booked_at=now)


def appointment_moved(
    *,
    appointment: Appointment,
    previous_starts_at: datetime,
    notify_patient: bool,
    now: datetime,
) -> None:
    """Cancel the old time's pending messages; plan the new time's, and a notice.

    With `notify_patient` (staff moved it) the patient gets a "moved" notice
    with the new .ics; a patient who moved it themselves gets the new
    time's confirmation instead (the plan's confirmation, keyed by the new
    version).
    """
    plan_appointment(appointment=appointment, now=now, booked_at=now)
    if notify_patient:
        version = calendar_sequence(appointment)
        # The plan's own confirmation would say the same as the notice.
        _cancel_pending(
            Message.objects.filter(
                key__startswith=appointment_key(appointment, version, "confirmation:")
            ),
            now=now,
        )
        _notices(
            appointment,
            kind=Kind.MOVED,
            version=version,
            now=now,
            context={"previous_starts_at": previous_starts_at.isoformat()},
        )
        _mark_changes_notified(appointment, now=now)


def appointment_cancelled(
    *,
    appointment: Appointment,
    by_practice: bool,
    notify_patient: bool,
    now: datetime,
) -> None:
    """Cancel the pending messages; owe the patient a cancellation (with .ics CANCEL).

    A cancellation the patient made is confirmed to them too (their calendar
    must drop it); one by the practice only when staff said to tell them.
    """
    _cancel_pending(
        Message.objects.filter(appointment_id=appointment.pk).exclude(
            kind=Kind.CANCELLED
        ),
        now=now,
    )
    if not notify_patient:
        return
    _notices(
        appointment,
        kind=Kind.CANCELLED,
        version=calendar_sequence(appointment),
        now=now,
        context={"cancelled_by": "practice" if by_practice else "patient"},
    )
    _mark_changes_notified(appointment, now=now)


def running_late_declared(*, event: RunningLate, now: datetime) -> None:
    """Tell the event's patients that the agenda runs late (once per patient and event)."""
    for appointment in event.appointments.select_related("agenda__practice", "patient"):
        channels = channels_for(
            patient=appointment.patient, practice=appointment.agenda.practice
        )
        _write(
            (
                {
                    **_base(appointment),
                    "key": f"running-late:{event.pk}:{appointment.pk}:{channel}",
                    "kind": Kind.RUNNING_LATE,
                    "channel": channel,
                    "due_at": now,
                    "context": {
                        "version": calendar_sequence(appointment),
                        "minutes": event.minutes,
                    },
                }
                for channel in channels.notices
            ),
            now=now,
        )
    RunningLate.objects.filter(pk=event.pk).update(notified_at=now)


def offer_made(*, offer: Any, now: datetime) -> None:
    """Send a waiting-list offer (carnet.booking.offers) on every channel the patient has."""
    patient = offer.entry.patient
    channels = channels_for(patient=patient, practice=offer.agenda.practice)
    _write(
        (
            {
                "patient_id": patient.pk,
                "appointment_id": None,
                "practice_id": offer.agenda.practice_id,
                "key": f"offer:{offer.ref}:{channel}",
                "kind": Kind.OFFER,
                "channel": channel,
                "due_at": now,
                "context": {"offer_id": offer.pk},
            }
            for channel in channels.notices
        ),
        now=now,
    )


def _replan(appointments: Any, *, now: datetime) -> None:
    for appointment in appointments.filter(
        status=Appointment.Status.BOOKED, starts_at__gt=now
    ).select_related("agenda__practice", "motive", "patient"):
        plan_appointment(appointment=appointment, now=now)


def replan_for_user(*, user_id: int, now: datetime) -> None:
    """Re-plan the reminders of the user's (and their relatives') upcoming appointments."""
    _replan(
        Appointment.objects.filter(
            Q(patient__account_id=user_id) | Q(patient__managed_by__account_id=user_id)
        ),
        now=now,
    )


def replan_for_practice(*, practice_id: int, now: datetime) -> None:
    """Re-plan the reminders of the practice's upcoming appointments."""
    _replan(Appointment.objects.filter(agenda__practice_id=practice_id), now=now)


def replan_for_motive(*, motive_id: int, now: datetime) -> None:
    """Re-plan the reminders of the motive's upcoming appointments."""
    _replan(Appointment.objects.filter(motive_id=motive_id), now=now)


RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
)
"""Wait before the 2nd, 3rd… attempt; after the last, a message has failed."""


def max_attempts() -> int:
    """How many times a message is tried before it is failed (1 + the retries)."""
    return settings.CARNET_MESSAGE_MAX_ATTEMPTS
