"""Writes on booking: book, cancel, reschedule. The only way appointments change."""

from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from carnet.accounts.models import Patient, User
from carnet.booking.errors import (
    AppointmentInPast,
    AppointmentNotActive,
    AppointmentNotFound,
    CancellationTooLate,
    DatetimeOutOfRange,
    IdempotencyKeyReused,
    MotiveClosedToNewPatients,
    NaiveDatetime,
    SlotInPast,
    SlotOutsideHours,
    SlotTooFar,
    SlotTooSoon,
    SlotUnavailable,
)
from carnet.booking.models import (
    IDEMPOTENCY_CONSTRAINT,
    NO_OVERLAP_CONSTRAINT,
    Appointment,
)
from carnet.booking.selectors import (
    list_appointments_for_user,
    list_busy,
    list_nearest_free_slots,
)
from carnet.core.errors import DomainError
from carnet.scheduling import availability
from carnet.scheduling.availability import SlotProblem
from carnet.scheduling.models import VisitMotive
from carnet.scheduling.selectors import get_motive, get_motive_schedule, lock_agenda

Actor = Appointment.Actor


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime()
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise DatetimeOutOfRange() from None


def _slot_error(
    problem: SlotProblem, motive: VisitMotive, starts_at: datetime, now: datetime
) -> DomainError:
    if problem is SlotProblem.PAST:
        return SlotInPast()
    if problem is SlotProblem.TOO_SOON:
        return SlotTooSoon(minutes=motive.min_notice_minutes)
    if problem is SlotProblem.TOO_FAR:
        return SlotTooFar(days=motive.horizon_days)
    if problem is SlotProblem.OUTSIDE_HOURS:
        return SlotOutsideHours()
    return _unavailable(motive, starts_at, now)


def _unavailable(
    motive: VisitMotive, starts_at: datetime, now: datetime
) -> SlotUnavailable:
    zone = motive.agenda.zone
    nearest = list_nearest_free_slots(motive=motive, around=starts_at, now=now)
    return SlotUnavailable(
        alternatives=[slot.astimezone(zone).isoformat() for slot in nearest]
    )


def _check_slot(
    *,
    motive: VisitMotive,
    starts_at: datetime,
    now: datetime,
    exclude_id: int | None = None,
) -> None:
    """Raise the translated reason why `starts_at` cannot be booked for `motive`.

    Time rules (past, notice, horizon, opening hours) are checked before any
    busy interval is loaded, so absurd dates never reach date arithmetic.
    """
    schedule = get_motive_schedule(motive=motive)
    rules = {
        "windows": schedule.windows,
        "zone": schedule.zone,
        "duration": motive.duration,
        "now": now,
        "min_notice": motive.min_notice,
        "horizon": motive.horizon,
    }
    problem = availability.check_slot(start=starts_at, busy=[], **rules)
    if problem is not None:
        raise _slot_error(problem, motive, starts_at, now)
    busy = list_busy(
        agenda_id=motive.agenda_id,
        start=starts_at - timedelta(days=1),
        end=starts_at + motive.duration + timedelta(days=1),
        exclude_id=exclude_id,
    )
    problem = availability.check_slot(start=starts_at, busy=busy, **rules)
    if problem is not None:
        raise _slot_error(problem, motive, starts_at, now)


def _is_known_patient(*, patient: Patient, motive: VisitMotive, now: datetime) -> bool:
    """Whether the practitioner has already seen `patient` (a past, non-cancelled visit)."""
    return (
        Appointment.objects.active()
        .filter(
            patient=patient,
            agenda__practitioner_id=motive.agenda.practitioner_id,
            starts_at__lt=now,
        )
        .exists()
    )


def _constraint_name(exc: IntegrityError) -> str:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) or ""


def _replay(*, user: User, key: str, expected: dict[str, object]) -> Appointment | None:
    """The appointment an earlier request with this key created, if any.

    Raises IdempotencyKeyReused when that request differs from this one.
    """
    earlier = Appointment.objects.filter(booked_by=user, idempotency_key=key).first()
    if earlier is None:
        return None
    seen = {
        "agenda_id": earlier.agenda_id,
        "motive_id": earlier.motive_id,
        "patient_id": earlier.patient_id,
        "starts_at": earlier.starts_at,
    }
    if seen != expected:
        raise IdempotencyKeyReused()
    return earlier


@transaction.atomic
def book_appointment(
    *,
    agenda_id: int,
    motive_id: int,
    patient: Patient,
    starts_at: datetime,
    booked_by: User,
    actor: str = Actor.PATIENT,
    reason: str = "",
    idempotency_key: str | None = None,
) -> Appointment:
    """Book `motive_id` on `agenda_id` at `starts_at` for `patient`.

    Raises a DomainError naming the rule that refuses it; SlotUnavailable
    (with the nearest alternatives) when the slot is taken, including when a
    concurrent booking wins the race. Takes the agenda's row lock first, so
    bookings of one agenda queue up; the database constraint stays the judge
    on PostgreSQL, the IMMEDIATE transaction on SQLite. With an idempotency key,
    repeating the same request returns the first appointment instead of
    booking again.
    """
    now = timezone.now()
    starts_at = _as_utc(starts_at)
    expected = {
        "agenda_id": agenda_id,
        "motive_id": motive_id,
        "patient_id": patient.pk,
        "starts_at": starts_at,
    }
    lock_agenda(agenda_id=agenda_id)
    if idempotency_key:
        earlier = _replay(user=booked_by, key=idempotency_key, expected=expected)
        if earlier is not None:
            return earlier
    motive = get_motive(agenda_id=agenda_id, motive_id=motive_id)
    if not motive.open_to_new_patients and not _is_known_patient(
        patient=patient, motive=motive, now=now
    ):
        raise MotiveClosedToNewPatients()
    _check_slot(motive=motive, starts_at=starts_at, now=now)
    appointment = Appointment(
        agenda=motive.agenda,
        motive=motive,
        patient=patient,
        starts_at=starts_at,
        ends_at=starts_at + motive.duration,
        booked_by=booked_by,
        booked_by_kind=actor,
        reason=reason,
        idempotency_key=idempotency_key or "",
    )
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as exc:
        if idempotency_key:
            earlier = _replay(user=booked_by, key=idempotency_key, expected=expected)
            if earlier is not None:
                return earlier
        if _constraint_name(exc) in (NO_OVERLAP_CONSTRAINT, IDEMPOTENCY_CONSTRAINT):
            raise _unavailable(motive, starts_at, now) from exc
        raise
    return appointment


def _lock_for_change(
    *, user: User, appointment_id: int, now: datetime, actor: str, move: bool = False
) -> Appointment:
    """Lock one of the user's appointments and check it may still change.

    For a move, the agenda's row lock is taken first (as a booking does), so
    that moves and bookings on one agenda queue up instead of deadlocking.
    """
    visible = list_appointments_for_user(user=user).filter(pk=appointment_id)
    if move:
        agenda_id = visible.values_list("agenda_id", flat=True).first()
        if agenda_id is None:
            raise AppointmentNotFound()
        lock_agenda(agenda_id=agenda_id)
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("motive", "agenda")
        .filter(pk__in=visible.values("pk"))
        .first()
    )
    if appointment is None:
        raise AppointmentNotFound()
    if appointment.status != Appointment.Status.BOOKED:
        raise AppointmentNotActive()
    if appointment.starts_at <= now:
        raise AppointmentInPast()
    cutoff = appointment.motive.cancellation_cutoff
    if actor != Actor.STAFF and now > appointment.starts_at - cutoff:
        raise CancellationTooLate(hours=appointment.motive.cancellation_cutoff_hours)
    return appointment


@transaction.atomic
def cancel_appointment(
    *, user: User, appointment_id: int, actor: str = Actor.PATIENT, reason: str = ""
) -> Appointment:
    """Cancel one of the user's appointments, within the motive's cut-off.

    Takes a row lock on the appointment. Raises AppointmentNotFound,
    AppointmentNotActive, AppointmentInPast or CancellationTooLate.
    """
    now = timezone.now()
    appointment = _lock_for_change(
        user=user, appointment_id=appointment_id, now=now, actor=actor
    )
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancelled_at = now
    appointment.cancelled_by_kind = actor
    appointment.cancellation_reason = reason[:255]
    appointment.save(
        update_fields=[
            "status",
            "cancelled_at",
            "cancelled_by_kind",
            "cancellation_reason",
            "updated_at",
        ]
    )
    return appointment


@transaction.atomic
def reschedule_appointment(
    *, user: User, appointment_id: int, starts_at: datetime, actor: str = Actor.PATIENT
) -> Appointment:
    """Move one of the user's appointments to `starts_at`, same motive.

    The new time must be bookable (same rules as booking, the appointment's
    own time not counted as busy) and the old one still before the cut-off.
    Takes the agenda's row lock, then the appointment's.
    """
    now = timezone.now()
    starts_at = _as_utc(starts_at)
    appointment = _lock_for_change(
        user=user, appointment_id=appointment_id, now=now, actor=actor, move=True
    )
    motive = appointment.motive
    _check_slot(motive=motive, starts_at=starts_at, now=now, exclude_id=appointment.pk)
    appointment.starts_at = starts_at
    appointment.ends_at = starts_at + motive.duration
    try:
        with transaction.atomic():
            appointment.save(update_fields=["starts_at", "ends_at", "updated_at"])
    except IntegrityError as exc:
        if _constraint_name(exc) == NO_OVERLAP_CONSTRAINT:
            raise _unavailable(motive, starts_at, now) from exc
        raise
    return appointment
