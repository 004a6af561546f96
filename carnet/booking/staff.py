"""Staff writes on the agenda: book by phone, move, cancel, and the day flow.

Every service here is for a member of the agenda's practice (any role) who
passed a second factor (carnet.booking.access.require_practice_staff); a user
of another practice gets the same "not found" as for a missing object. Each
one takes the agenda's row lock first, as the patient services do, records
its change in the audit trail and, when busy time changes, rewrites the
agenda's next-availability index in the same transaction.

Staff differ from patients in what they may book: motives closed to new
patients, inside the motive's notice, and, deliberately (`overbook=True`), on
top of another appointment; such a row is flagged `is_overbooked` and is the
only kind the no-overlap constraint lets through. The API's clients
(`actor_kind="api"`) never overbook. No-show blocking never applies to staff.
"""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from carnet.accounts.errors import NotStaffOfPractice
from carnet.accounts.models import Patient
from carnet.audit.models import Action, Purpose
from carnet.booking import offers, policy
from carnet.booking.access import (
    record_staff_change,
    record_staff_reads,
    require_practice_staff,
)
from carnet.booking.errors import (
    AppointmentInPast,
    AppointmentNotActive,
    AppointmentNotFound,
    AppointmentNotToday,
    CancellationReasonRequired,
    NoShowTooEarly,
    NoShowUndoTooLate,
    OverbookingNotAllowed,
    RunningLateInvalid,
    SlotDuringAbsence,
    StatusInvalid,
    StatusTransitionNotAllowed,
)
from carnet.booking.models import (
    NO_OVERLAP_CONSTRAINT,
    RUNNING_LATE_MAX_MINUTES,
    Appointment,
    AppointmentChange,
    RunningLate,
)
from carnet.booking.nextslots import refresh_agenda
from carnet.booking.selectors import list_busy
from carnet.booking.services import (
    _as_utc,
    _constraint_name,
    _slot_error,
    _unavailable,
    lock_appointment,
)
from carnet.core.errors import NotFound
from carnet.notifications import outbox
from carnet.scheduling import availability
from carnet.scheduling.models import Agenda, VisitMotive
from carnet.scheduling.selectors import (
    get_motive,
    get_motive_schedule,
    list_absences,
    lock_agenda,
)

Status = Appointment.Status
STAFF = Appointment.Actor.STAFF

TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        (Status.BOOKED, Status.ARRIVED),
        (Status.ARRIVED, Status.IN_CONSULTATION),
        (Status.IN_CONSULTATION, Status.FULFILLED),
        (Status.BOOKED, Status.NO_SHOW),
        (Status.NO_SHOW, Status.BOOKED),  # undo of a wrong no-show, the same day
    }
)
"""The status changes mark_status allows, (from, to)."""

_STEP_INSTANT = {
    Status.ARRIVED: "arrived_at",
    Status.IN_CONSULTATION: "consultation_started_at",
    Status.FULFILLED: "fulfilled_at",
    Status.NO_SHOW: "no_show_at",
}


def _gate_agenda(
    *, actor: AbstractBaseUser, agenda_id: int, request: HttpRequest | None
) -> Agenda:
    """The agenda, once the actor is known as staff of its practice.

    Raises NotFound (no such agenda), NotStaffOfPractice or MfaRequired.
    """
    agenda = (
        Agenda.objects.select_related("practice").filter(pk=agenda_id).first()
        if isinstance(agenda_id, int)
        else None
    )
    if agenda is None:
        raise NotFound()
    require_practice_staff(actor=actor, practice_id=agenda.practice_id, request=request)
    return agenda


def _lock_appointment_for_staff(
    *, actor: AbstractBaseUser, appointment_id: int, request: HttpRequest | None
) -> Appointment:
    """Check the actor may work on the appointment's agenda, then lock it.

    The agenda's row lock is taken first (as every booking service does),
    then the appointment's. Raises AppointmentNotFound for a missing
    appointment and for another practice's alike, MfaRequired.
    """
    found = (
        Appointment.objects.filter(pk=appointment_id)
        .values_list("agenda_id", "agenda__practice_id")
        .first()
        if isinstance(appointment_id, int)
        else None
    )
    if found is None:
        raise AppointmentNotFound()
    agenda_id, practice_id = found
    try:
        require_practice_staff(actor=actor, practice_id=practice_id, request=request)
    except NotStaffOfPractice:
        raise AppointmentNotFound() from None
    return lock_appointment(
        Appointment.objects.filter(pk=appointment_id, agenda_id=agenda_id)
    )


STAFF_STEP = timedelta(minutes=5)


def _check_staff_slot(
    *,
    motive: VisitMotive,
    starts_at: datetime,
    now: datetime,
    overbook: bool,
    exclude_id: int | None = None,
) -> bool:
    """Check a staff booking or move of `motive` to `starts_at`; whether it overbooks.

    The patient's rules minus the notice and the motive's grid: not in the
    past, within the horizon, inside opening hours on any STAFF_STEP. Busy time (appointments,
    absences, everyone's live holds) refuses it with SlotUnavailable, unless
    `overbook`: then only an absence refuses it (SlotDuringAbsence), and the
    answer is True when it lies on top of another active appointment.
    """
    schedule = get_motive_schedule(motive=motive)
    rules = {
        "windows": schedule.windows,
        "zone": schedule.zone,
        "duration": motive.duration,
        "now": now,
        "min_notice": timedelta(0),
        "horizon": motive.horizon,
        # Staff fit a caller in at any five minutes, not only on the
        # motive's grid (patients keep the grid).
        "step": STAFF_STEP,
    }
    problem = availability.check_slot(start=starts_at, busy=[], **rules)
    if problem is not None:
        raise _slot_error(problem, motive, starts_at, now)
    ends_at = starts_at + motive.duration
    busy = list_busy(
        agenda_id=motive.agenda_id,
        start=starts_at - timedelta(days=1),
        end=ends_at + timedelta(days=1),
        exclude_id=exclude_id,
        now=now,
    )
    if availability.check_slot(start=starts_at, busy=busy, **rules) is None:
        return False
    if not overbook:
        raise _unavailable(motive, starts_at, now)
    if list_absences(agenda_id=motive.agenda_id, start=starts_at, end=ends_at):
        raise SlotDuringAbsence()
    others = Appointment.objects.active().filter(agenda_id=motive.agenda_id)
    if exclude_id is not None:
        others = others.exclude(pk=exclude_id)
    return others.overlapping(starts_at, ends_at).exists()


def _save_checked(
    appointment: Appointment, motive: VisitMotive, now: datetime, **kw: Any
) -> None:
    """Save under a savepoint; the no-overlap constraint's refusal is SlotUnavailable."""
    try:
        with transaction.atomic():
            appointment.save(**kw)
    except IntegrityError as exc:
        if _constraint_name(exc) == NO_OVERLAP_CONSTRAINT:
            raise _unavailable(motive, appointment.starts_at, now) from exc
        raise


@transaction.atomic
def staff_book(
    *,
    actor: AbstractBaseUser,
    agenda_id: int,
    motive_id: int,
    patient: Patient,
    starts_at: datetime,
    reason: str = "",
    overbook: bool = False,
    request: HttpRequest | None = None,
    actor_kind: str = STAFF,
) -> Appointment:
    """Book `patient` on the agenda for a member of its practice (e.g. on the phone).

    Same rules as book_appointment, except that staff may book motives
    closed to new patients and inside the notice, and, with `overbook`, on top
    of another appointment (the new one is then flagged `is_overbooked`). Not
    subject to no-show blocking. Raises NotFound, NotStaffOfPractice,
    MfaRequired, OverbookingNotAllowed (an API client), AgendaNotFound /
    MotiveNotFound (inactive), the slot errors of book_appointment, or
    SlotDuringAbsence. Takes the agenda's row lock; refreshes its
    next-availability index and records a create event in the audit trail.
    """
    now = timezone.now()
    starts_at = _as_utc(starts_at)
    _gate_agenda(actor=actor, agenda_id=agenda_id, request=request)
    if overbook and actor_kind != STAFF:
        raise OverbookingNotAllowed()
    lock_agenda(agenda_id=agenda_id)
    motive = get_motive(agenda_id=agenda_id, motive_id=motive_id)
    overbooked = _check_staff_slot(
        motive=motive, starts_at=starts_at, now=now, overbook=overbook
    )
    appointment = Appointment(
        agenda=motive.agenda,
        motive=motive,
        patient=patient,
        starts_at=starts_at,
        ends_at=starts_at + motive.duration,
        booked_by_id=actor.pk,
        booked_by_kind=actor_kind,
        reason=reason,
        is_overbooked=overbooked,
    )
    _save_checked(appointment, motive, now)
    refresh_agenda(agenda_id=agenda_id, now=now)
    outbox.appointment_booked(appointment=appointment, now=now)
    record_staff_change(
        actor=actor,
        actor_kind=actor_kind,
        action=Action.CREATE,
        patient_id=patient.pk,
        resource=f"appointment:{appointment.pk}",
        purpose=Purpose.BOOKING,
    )
    return appointment


@transaction.atomic
def staff_move(
    *,
    actor: AbstractBaseUser,
    appointment_id: int,
    starts_at: datetime,
    overbook: bool = False,
    notify_patient: bool = True,
    request: HttpRequest | None = None,
    actor_kind: str = STAFF,
) -> Appointment:
    """Move a booked appointment of the practice to `starts_at` (same motive).

    Staff rules as in staff_book (no notice; `overbook` lets it land on
    another appointment and flags it, a free time clears the flag). Records
    a MOVED AppointmentChange so that the patient is told (unless
    `notify_patient` is false: staff agreed the change with them), and an update event
    in the audit trail. Moving to its own time changes nothing. Raises
    AppointmentNotFound, MfaRequired, AppointmentNotActive, AppointmentInPast,
    OverbookingNotAllowed or a slot error. Takes the agenda's row lock, then
    the appointment's; refreshes the next-availability index.
    """
    now = timezone.now()
    starts_at = _as_utc(starts_at)
    appointment = _lock_appointment_for_staff(
        actor=actor, appointment_id=appointment_id, request=request
    )
    if overbook and actor_kind != STAFF:
        raise OverbookingNotAllowed()
    if appointment.status != Status.BOOKED:
        raise AppointmentNotActive()
    if appointment.starts_at <= now:
        raise AppointmentInPast()
    if starts_at == appointment.starts_at:
        return appointment
    motive = appointment.motive
    overbooked = _check_staff_slot(
        motive=motive,
        starts_at=starts_at,
        now=now,
        overbook=overbook,
        exclude_id=appointment.pk,
    )
    previous = appointment.starts_at
    appointment.starts_at = starts_at
    appointment.ends_at = starts_at + motive.duration
    appointment.is_overbooked = overbooked
    # The new time is not confirmed yet.
    appointment.confirmed_at = None
    appointment.confirmed_via = ""
    _save_checked(
        appointment,
        motive,
        now,
        update_fields=[
            "starts_at",
            "ends_at",
            "is_overbooked",
            "confirmed_at",
            "confirmed_via",
            "updated_at",
        ],
    )
    AppointmentChange.objects.create(
        appointment=appointment,
        kind=AppointmentChange.Kind.MOVED,
        previous_starts_at=previous,
        actor_id=actor.pk,
        notify_patient=notify_patient,
    )
    refresh_agenda(agenda_id=appointment.agenda_id, now=now)
    outbox.appointment_moved(
        appointment=appointment,
        previous_starts_at=previous,
        notify_patient=notify_patient,
        now=now,
    )
    offers.slot_freed(appointment=appointment, starts_at=previous, now=now)
    record_staff_change(
        actor=actor,
        actor_kind=actor_kind,
        action=Action.UPDATE,
        patient_id=appointment.patient_id,
        resource=f"appointment:{appointment.pk}",
        purpose=Purpose.BOOKING,
    )
    return appointment


@transaction.atomic
def staff_cancel(
    *,
    actor: AbstractBaseUser,
    appointment_id: int,
    reason: str,
    notify_patient: bool = True,
    request: HttpRequest | None = None,
    actor_kind: str = STAFF,
) -> Appointment:
    """Cancel a booked appointment of the practice, with a reason (no cut-off for staff).

    Records a CANCELLED AppointmentChange (the patient is told, unless the
    appointment's time has already passed or `notify_patient` is false) and a cancel event in the audit
    trail. Raises AppointmentNotFound, MfaRequired,
    CancellationReasonRequired or AppointmentNotActive. Takes the agenda's
    row lock, then the appointment's; refreshes the next-availability index.
    """
    now = timezone.now()
    appointment = _lock_appointment_for_staff(
        actor=actor, appointment_id=appointment_id, request=request
    )
    reason = (reason or "").strip()
    if not reason:
        raise CancellationReasonRequired()
    if appointment.status != Status.BOOKED:
        raise AppointmentNotActive()
    appointment.status = Status.CANCELLED
    appointment.cancelled_at = now
    appointment.cancelled_by_kind = actor_kind
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
    change = AppointmentChange.objects.create(
        appointment=appointment,
        kind=AppointmentChange.Kind.CANCELLED,
        actor_id=actor.pk,
        notify_patient=notify_patient and appointment.starts_at > now,
    )
    refresh_agenda(agenda_id=appointment.agenda_id, now=now)
    outbox.appointment_cancelled(
        appointment=appointment,
        by_practice=True,
        notify_patient=change.notify_patient,
        now=now,
    )
    if appointment.starts_at > now:
        offers.slot_freed(
            appointment=appointment, starts_at=appointment.starts_at, now=now
        )
    record_staff_change(
        actor=actor,
        actor_kind=actor_kind,
        action=Action.CANCEL,
        patient_id=appointment.patient_id,
        resource=f"appointment:{appointment.pk}",
        purpose=Purpose.BOOKING,
    )
    return appointment


def _local_day(instant: datetime, appointment: Appointment) -> date:
    return instant.astimezone(appointment.agenda.zone).date()


def _check_transition(appointment: Appointment, target: str, now: datetime) -> None:
    """Raise why the appointment cannot go to `target` now (see TRANSITIONS)."""
    current = appointment.status
    if (current, target) not in TRANSITIONS:
        raise StatusTransitionNotAllowed(
            current=Status(current).label, target=Status(target).label
        )
    if target == Status.ARRIVED and _local_day(now, appointment) < _local_day(
        appointment.starts_at, appointment
    ):
        raise AppointmentNotToday()
    if target == Status.NO_SHOW and now < appointment.starts_at:
        raise NoShowTooEarly()
    if current == Status.NO_SHOW and (
        appointment.no_show_at is None
        or _local_day(now, appointment)
        != _local_day(appointment.no_show_at, appointment)
    ):
        raise NoShowUndoTooLate()


@transaction.atomic
def mark_status(
    *,
    actor: AbstractBaseUser,
    appointment_id: int,
    status: str,
    request: HttpRequest | None = None,
    actor_kind: str = STAFF,
) -> Appointment:
    """Move an appointment along the day: arrived, in consultation, seen, or no-show.

    Allowed: booked → arrived (from the appointment's local day on) →
    in_consultation → fulfilled (seen); booked → noshow once its start has
    passed; noshow → booked (undo) on the local day the no-show was marked.
    Each step keeps its instant. A no-show records a strike against the
    patient at the practice (when its policy counts them); undoing it deletes
    the strike. Asking for the current status changes nothing. Raises
    AppointmentNotFound, MfaRequired, StatusInvalid,
    StatusTransitionNotAllowed, AppointmentNotToday, NoShowTooEarly or
    NoShowUndoTooLate (nothing changed). Takes the agenda's row lock, then
    the appointment's; records an update event in the audit trail.
    """
    now = timezone.now()
    appointment = _lock_appointment_for_staff(
        actor=actor, appointment_id=appointment_id, request=request
    )
    if status not in Status.values or status == Status.CANCELLED:
        raise StatusInvalid()
    if status == appointment.status:
        return appointment
    _check_transition(appointment, status, now)
    undoing = appointment.status == Status.NO_SHOW
    appointment.status = status
    changed = ["status", "updated_at"]
    if undoing:
        appointment.no_show_at = None
        changed.append("no_show_at")
    else:
        setattr(appointment, _STEP_INSTANT[status], now)
        changed.append(_STEP_INSTANT[status])
    appointment.save(update_fields=changed)
    if status == Status.NO_SHOW:
        policy.record_strike(appointment=appointment, now=now)
    elif undoing:
        policy.forget_strike(appointment=appointment)
    record_staff_change(
        actor=actor,
        actor_kind=actor_kind,
        action=Action.UPDATE,
        patient_id=appointment.patient_id,
        resource=f"appointment:{appointment.pk}:status",
        purpose=Purpose.CARE,
    )
    return appointment


@transaction.atomic
def declare_running_late(
    *,
    actor: AbstractBaseUser,
    agenda_id: int,
    minutes: int,
    request: HttpRequest | None = None,
    actor_kind: str = STAFF,
) -> RunningLate:
    """Record that the agenda runs `minutes` late today (its local day).

    The returned event's `appointments` are those it concerns: booked (not
    yet arrived), not yet over, later today; the outbox tells their patients
    (in this transaction). Raises NotFound, NotStaffOfPractice, MfaRequired or
    RunningLateInvalid (1 to RUNNING_LATE_MAX_MINUTES). Records one read
    event per patient concerned.
    """
    agenda = _gate_agenda(actor=actor, agenda_id=agenda_id, request=request)
    if (
        isinstance(minutes, bool)
        or not isinstance(minutes, int)
        or not 1 <= minutes <= RUNNING_LATE_MAX_MINUTES
    ):
        raise RunningLateInvalid(maximum=RUNNING_LATE_MAX_MINUTES)
    now = timezone.now()
    zone = agenda.zone
    day = now.astimezone(zone).date()
    day_ends_at = datetime.combine(
        day + timedelta(days=1), datetime.min.time(), tzinfo=zone
    ).astimezone(UTC)
    concerned = list(
        Appointment.objects.filter(
            agenda=agenda,
            status=Status.BOOKED,
            ends_at__gt=now,
            starts_at__lt=day_ends_at,
        ).order_by("starts_at", "pk")
    )
    late = RunningLate.objects.create(
        agenda=agenda, day=day, minutes=minutes, actor_id=actor.pk
    )
    late.appointments.set(concerned)
    outbox.running_late_declared(event=late, now=now)
    record_staff_reads(
        actor=actor,
        actor_kind=actor_kind,
        patient_ids=[a.patient_id for a in concerned],
        resource=f"agenda:{agenda.pk}:running-late:{day.isoformat()}",
        purpose=Purpose.CARE,
    )
    return late
