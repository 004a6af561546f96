"""Writes on booking: book, cancel, reschedule, hold. The only way appointments change.

Every write takes the agenda's row lock first and, before it returns, rewrites
the agenda's next-availability index in the same transaction
(carnet.booking.nextslots.refresh_agenda).
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from carnet.accounts.models import Patient, User
from carnet.booking import offers
from carnet.booking.answers import clean_answers, seal_answers
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
    HOLDER_CONSTRAINT,
    HOLDER_MAX_LENGTH,
    IDEMPOTENCY_CONSTRAINT,
    NO_OVERLAP_CONSTRAINT,
    Appointment,
    AppointmentChange,
    SlotHold,
)
from carnet.booking.nextslots import refresh_agenda
from carnet.booking.policy import check_online_booking_allowed
from carnet.booking.selectors import (
    hold_minutes,
    list_appointments_for_user,
    list_busy,
    list_nearest_free_slots,
)
from carnet.core.errors import DomainError
from carnet.notifications import outbox
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
    problem: SlotProblem,
    motive: VisitMotive,
    starts_at: datetime,
    now: datetime,
    holder: str = "",
) -> DomainError:
    if problem is SlotProblem.PAST:
        return SlotInPast()
    if problem is SlotProblem.TOO_SOON:
        return SlotTooSoon(minutes=motive.min_notice_minutes)
    if problem is SlotProblem.TOO_FAR:
        return SlotTooFar(days=motive.horizon_days)
    if problem is SlotProblem.OUTSIDE_HOURS:
        return SlotOutsideHours()
    return _unavailable(motive, starts_at, now, holder)


def _unavailable(
    motive: VisitMotive, starts_at: datetime, now: datetime, holder: str = ""
) -> SlotUnavailable:
    zone = motive.agenda.zone
    nearest = list_nearest_free_slots(
        motive=motive, around=starts_at, now=now, holder=holder
    )
    return SlotUnavailable(
        alternatives=[slot.astimezone(zone).isoformat() for slot in nearest]
    )


def _check_slot(
    *,
    motive: VisitMotive,
    starts_at: datetime,
    now: datetime,
    exclude_id: int | None = None,
    holder: str = "",
) -> None:
    """Raise the translated reason why `starts_at` cannot be booked for `motive`.

    Time rules (past, notice, horizon, opening hours) are checked before any
    busy interval is loaded, so absurd dates never reach date arithmetic.
    Everyone's live holds are busy, except `holder`'s own.
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
        now=now,
        holder=holder,
    )
    problem = availability.check_slot(start=starts_at, busy=busy, **rules)
    if problem is not None:
        raise _slot_error(problem, motive, starts_at, now, holder)


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
    answers: Mapping[str, object] | None = None,
    idempotency_key: str | None = None,
    hold_id: UUID | None = None,
    holder: str = "",
) -> Appointment:
    """Book `motive_id` on `agenda_id` at `starts_at` for `patient`.

    `answers` maps the motive's booking questions (by label) to the patient's
    answers, sealed with the appointment; a required question left empty is
    refused (carnet.booking.answers.clean_answers).

    Raises a DomainError naming the rule that refuses it; SlotUnavailable
    (with the nearest alternatives) when the slot is taken or held by someone
    else, including when a concurrent booking wins the race;
    BookingBlockedByNoShows (patients and API clients, never staff) when the
    patient missed too many appointments at the practice
    (carnet.booking.policy). Takes the agenda's
    row lock first, so bookings of one agenda queue up; the database constraint
    stays the judge on PostgreSQL, the IMMEDIATE transaction on SQLite. With an
    idempotency key, repeating the same request returns the first appointment
    instead of booking again.

    `holder`'s own holds are not busy for this booking, and their hold on this
    agenda (`hold_id`) is consumed. A hold that expired or vanished is no
    error: the slot is booked if it is still free, refused with alternatives
    otherwise.
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
    if actor != Actor.STAFF:
        check_online_booking_allowed(
            patient=patient, practice_id=motive.agenda.practice_id, now=now
        )
    if not motive.open_to_new_patients and not _is_known_patient(
        patient=patient, motive=motive, now=now
    ):
        raise MotiveClosedToNewPatients()
    answered = clean_answers(questions=motive.booking_questions, answers=answers)
    _check_slot(motive=motive, starts_at=starts_at, now=now, holder=holder)
    appointment = Appointment(
        agenda=motive.agenda,
        motive=motive,
        patient=patient,
        starts_at=starts_at,
        ends_at=starts_at + motive.duration,
        booked_by=booked_by,
        booked_by_kind=actor,
        reason=reason,
        answers=seal_answers(answered),
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
            raise _unavailable(motive, starts_at, now, holder) from exc
        raise
    _consume_holds(agenda_id=agenda_id, hold_id=hold_id, holder=holder)
    refresh_agenda(agenda_id=agenda_id, now=now)
    outbox.appointment_booked(appointment=appointment, now=now)
    return appointment


def _consume_holds(*, agenda_id: int, hold_id: UUID | None, holder: str) -> None:
    """Delete the holder's hold on this agenda once their booking or move is made."""
    if not holder:
        return
    # A holder has one hold at most: `hold_id`, when given, is that one.
    SlotHold.objects.filter(holder=holder, agenda_id=agenda_id).delete()


def lock_appointment(appointments: QuerySet[Appointment]) -> Appointment:
    """The one appointment `appointments` selects, locked after its agenda's row.

    Every write on an appointment takes the agenda's row lock first (as a
    booking does), then the appointment's, so that moves, cancellations and
    bookings of one agenda queue up instead of deadlocking. Raises
    AppointmentNotFound when `appointments` selects none.
    """
    agenda_id = appointments.values_list("agenda_id", flat=True).first()
    if agenda_id is None:
        raise AppointmentNotFound()
    lock_agenda(agenda_id=agenda_id)
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("agenda", "motive", "patient")
        .filter(pk__in=appointments.values("pk"), agenda_id=agenda_id)
        .first()
    )
    if appointment is None:  # gone, or on another agenda than the one locked
        raise AppointmentNotFound()
    return appointment


def _lock_for_change(
    *, user: User, appointment_id: int, now: datetime, actor: str
) -> Appointment:
    """Lock one of the user's appointments and check it may still change.

    The agenda's row lock is taken first (as a booking does), so that moves,
    cancellations and bookings on one agenda queue up instead of deadlocking.
    """
    appointment = lock_appointment(
        list_appointments_for_user(user=user).filter(pk=appointment_id)
    )
    _check_may_change(appointment=appointment, now=now, actor=actor)
    return appointment


def _check_may_change(*, appointment: Appointment, now: datetime, actor: str) -> None:
    """Raise why a booked appointment can no longer be moved or cancelled by `actor`.

    AppointmentNotActive, AppointmentInPast, or CancellationTooLate (past the
    motive's cut-off; staff are not bound by it).
    """
    if appointment.status != Appointment.Status.BOOKED:
        raise AppointmentNotActive()
    if appointment.starts_at <= now:
        raise AppointmentInPast()
    cutoff = appointment.motive.cancellation_cutoff
    if actor != Actor.STAFF and now > appointment.starts_at - cutoff:
        raise CancellationTooLate(hours=appointment.motive.cancellation_cutoff_hours)


@transaction.atomic
def cancel_appointment(
    *, user: User, appointment_id: int, actor: str = Actor.PATIENT, reason: str = ""
) -> Appointment:
    """Cancel one of the user's appointments, within the motive's cut-off.

    Takes the agenda's row lock, then the appointment's. Raises
    AppointmentNotFound, AppointmentNotActive, AppointmentInPast or
    CancellationTooLate.
    """
    now = timezone.now()
    appointment = _lock_for_change(
        user=user, appointment_id=appointment_id, now=now, actor=actor
    )
    return _cancel_locked(appointment=appointment, now=now, actor=actor, reason=reason)


def _cancel_locked(
    *, appointment: Appointment, now: datetime, actor: str, reason: str
) -> Appointment:
    """Cancel a checked appointment as its patient (or `actor` for them) asked.

    Call with the agenda's row lock and the appointment's held, once
    `_check_may_change` passed. Rewrites the next-availability index, tells
    the outbox (the patient gets a notice) and offers the freed time to the
    waiting list, all in the caller's transaction.
    """
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
    refresh_agenda(agenda_id=appointment.agenda_id, now=now)
    outbox.appointment_cancelled(
        appointment=appointment, by_practice=False, notify_patient=True, now=now
    )
    offers.slot_freed(appointment=appointment, starts_at=appointment.starts_at, now=now)
    return appointment


@transaction.atomic
def reschedule_appointment(
    *,
    user: User,
    appointment_id: int,
    starts_at: datetime,
    actor: str = Actor.PATIENT,
    hold_id: UUID | None = None,
    holder: str = "",
) -> Appointment:
    """Move one of the user's appointments to `starts_at`, same motive.

    The new time must be bookable (same rules as booking, the appointment's
    own time not counted as busy, other people's live holds counted) and the
    old one still before the cut-off. `holder`'s own hold is not busy and is
    consumed, as in book_appointment. Records the move in the appointment's
    history (an AppointmentChange without notice: the patient made it).
    Takes the agenda's row lock, then the appointment's.
    """
    now = timezone.now()
    starts_at = _as_utc(starts_at)
    appointment = _lock_for_change(
        user=user, appointment_id=appointment_id, now=now, actor=actor
    )
    motive = appointment.motive
    _check_slot(
        motive=motive,
        starts_at=starts_at,
        now=now,
        exclude_id=appointment.pk,
        holder=holder,
    )
    previous = appointment.starts_at
    appointment.starts_at = starts_at
    appointment.ends_at = starts_at + motive.duration
    # The new time was checked free: it no longer lies on top of another.
    appointment.is_overbooked = False
    if starts_at != previous:
        # The new time is not confirmed yet.
        appointment.confirmed_at = None
        appointment.confirmed_via = ""
    try:
        with transaction.atomic():
            appointment.save(
                update_fields=[
                    "starts_at",
                    "ends_at",
                    "is_overbooked",
                    "confirmed_at",
                    "confirmed_via",
                    "updated_at",
                ]
            )
    except IntegrityError as exc:
        if _constraint_name(exc) == NO_OVERLAP_CONSTRAINT:
            raise _unavailable(motive, starts_at, now, holder) from exc
        raise
    if starts_at != previous:
        # In the appointment's history (its calendar SEQUENCE grows); the
        # patient made it, so there is no notice to send them about it.
        AppointmentChange.objects.create(
            appointment=appointment,
            kind=AppointmentChange.Kind.MOVED,
            previous_starts_at=previous,
            actor_id=user.pk,
            notify_patient=False,
        )
    _consume_holds(agenda_id=appointment.agenda_id, hold_id=hold_id, holder=holder)
    refresh_agenda(agenda_id=appointment.agenda_id, now=now)
    if starts_at != previous:
        outbox.appointment_moved(
            appointment=appointment,
            previous_starts_at=previous,
            notify_patient=False,
            now=now,
        )
        offers.slot_freed(appointment=appointment, starts_at=previous, now=now)
    return appointment


@transaction.atomic
def hold_slot(
    *, agenda_id: int, motive_id: int, starts_at: datetime, holder: str
) -> SlotHold:
    """Keep `starts_at` for `holder` for settings.CARNET_HOLD_MINUTES (default 10).

    Same rules and errors as book_appointment (except the new-patient rule: the
    visitor may not be known yet): SlotUnavailable with alternatives when the
    slot is booked or held by someone else. A holder has one live hold at a
    time: this one replaces their previous hold (which the same holder may
    re-take). `holder` is an opaque, unguessable token from the visitor's
    session. Takes the row locks of this agenda and of the previous hold's,
    in id order.
    """
    if not 0 < len(holder) <= HOLDER_MAX_LENGTH:
        raise ValueError("holder must be a non-empty token of 128 characters at most")
    now = timezone.now()
    starts_at = _as_utc(starts_at)
    previous = set(
        SlotHold.objects.filter(holder=holder).values_list("agenda_id", flat=True)
    )
    for locked_id in sorted({agenda_id, *previous}):
        lock_agenda(agenda_id=locked_id)
    motive = get_motive(agenda_id=agenda_id, motive_id=motive_id)
    _check_slot(motive=motive, starts_at=starts_at, now=now, holder=holder)
    previous |= set(
        SlotHold.objects.filter(holder=holder).values_list("agenda_id", flat=True)
    )
    SlotHold.objects.filter(holder=holder).delete()
    hold = SlotHold(
        agenda_id=agenda_id,
        motive=motive,
        starts_at=starts_at,
        ends_at=starts_at + motive.duration,
        holder=holder,
        expires_at=now + timedelta(minutes=hold_minutes()),
    )
    try:
        with transaction.atomic():
            hold.save(force_insert=True)
    except IntegrityError as exc:
        # The same holder holding on another agenda at this very moment.
        if _constraint_name(exc) == HOLDER_CONSTRAINT:
            raise _unavailable(motive, starts_at, now) from exc
        raise
    for changed_id in sorted({agenda_id, *previous}):
        refresh_agenda(agenda_id=changed_id, now=now)
    return hold


@transaction.atomic
def release_hold(*, hold_id: UUID, holder: str) -> None:
    """Give back `holder`'s hold `hold_id` (no-op when it is gone already).

    Takes the agenda's row lock and refreshes its next-availability index.
    """
    if not holder:
        return
    try:
        hold_id = hold_id if isinstance(hold_id, UUID) else UUID(str(hold_id))
    except ValueError:
        return
    agenda_id = (
        SlotHold.objects.filter(pk=hold_id, holder=holder)
        .values_list("agenda_id", flat=True)
        .first()
    )
    if agenda_id is None:
        return
    lock_agenda(agenda_id=agenda_id)
    if SlotHold.objects.filter(pk=hold_id, holder=holder).delete()[0]:
        refresh_agenda(agenda_id=agenda_id, now=timezone.now())
