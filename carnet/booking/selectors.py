"""Reads on booking: free slots, holds, a user's appointments."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from carnet.accounts.models import User
from carnet.accounts.selectors import list_patients_for_user
from carnet.booking.errors import AppointmentNotFound, HoldExpired, HoldNotFound
from carnet.booking.models import Appointment, AppointmentChange, SlotHold
from carnet.core.text import fold
from carnet.scheduling import availability
from carnet.scheduling.availability import Interval
from carnet.scheduling.models import VisitMotive
from carnet.scheduling.selectors import (
    MotiveSchedule,
    get_motive_schedule,
    list_absences,
)

MAX_DAYS = 62


def hold_minutes() -> int:
    """How long a hold keeps its slot (settings.CARNET_HOLD_MINUTES, default 10)."""
    return int(getattr(settings, "CARNET_HOLD_MINUTES", 10))


def list_busy(
    *,
    agenda_id: int,
    start: datetime,
    end: datetime,
    exclude_id: int | None = None,
    now: datetime | None = None,
    holder: str = "",
) -> list[Interval]:
    """Absences, active appointments and live holds of an agenda that meet [start, end).

    Holds live at `now` (default: the current time) count, except `holder`'s
    own; `exclude_id` leaves out one appointment (the one being moved).
    """
    now = timezone.now() if now is None else now
    appointments = (
        Appointment.objects.active().filter(agenda_id=agenda_id).overlapping(start, end)
    )
    if exclude_id is not None:
        appointments = appointments.exclude(pk=exclude_id)
    holds = SlotHold.objects.live(now).filter(
        agenda_id=agenda_id, starts_at__lt=end, ends_at__gt=start
    )
    if holder:
        holds = holds.exclude(holder=holder)
    busy = list_absences(agenda_id=agenda_id, start=start, end=end)
    busy.extend(
        Interval(start=s, end=e)
        for s, e in appointments.values_list("starts_at", "ends_at")
    )
    busy.extend(
        Interval(start=s, end=e) for s, e in holds.values_list("starts_at", "ends_at")
    )
    return busy


def _day_bounds(
    schedule: MotiveSchedule, first_day: date, last_day: date
) -> tuple[datetime, datetime]:
    """UTC instants that surely contain every local day in [first_day, last_day]."""
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=schedule.zone)
    end = datetime.combine(
        last_day + timedelta(days=1), datetime.min.time(), tzinfo=schedule.zone
    )
    return start.astimezone(UTC) - timedelta(hours=3), end.astimezone(UTC) + timedelta(
        hours=3
    )


def list_free_slots(
    *,
    motive: VisitMotive,
    first_day: date,
    days: int,
    now: datetime,
    exclude_id: int | None = None,
    holder: str = "",
) -> list[datetime]:
    """Free start instants (UTC) of `motive` on `days` local days from `first_day`.

    Everyone's live holds are busy time, except `holder`'s own (so a visitor
    still sees the slot they hold).
    """
    days = max(1, min(days, MAX_DAYS))
    schedule = get_motive_schedule(motive=motive)
    # Nothing is bookable before now or past the horizon: clamp the range to
    # that (which also keeps any requested date far from datetime's limits).
    today = now.astimezone(schedule.zone).date()
    horizon_day = (now + motive.horizon).astimezone(schedule.zone).date()
    if not schedule.windows or first_day > horizon_day:
        return []
    last_day = min(first_day + timedelta(days=days - 1), horizon_day)
    first_day = max(first_day, today)
    if first_day > last_day:
        return []
    start, end = _day_bounds(schedule, first_day, last_day)
    busy = list_busy(
        agenda_id=motive.agenda_id,
        start=start,
        end=end,
        exclude_id=exclude_id,
        now=now,
        holder=holder,
    )
    return availability.free_slots(
        windows=schedule.windows,
        busy=busy,
        zone=schedule.zone,
        first_day=first_day,
        last_day=last_day,
        duration=motive.duration,
        now=now,
        min_notice=motive.min_notice,
        horizon=motive.horizon,
    )


def list_nearest_free_slots(
    *,
    motive: VisitMotive,
    around: datetime,
    now: datetime,
    limit: int = 5,
    holder: str = "",
) -> list[datetime]:
    """Up to `limit` free slots of `motive`, nearest to `around` first."""
    zone = motive.agenda.zone
    first_day = max(
        around.astimezone(zone).date() - timedelta(days=2), now.astimezone(zone).date()
    )
    slots = list_free_slots(
        motive=motive, first_day=first_day, days=10, now=now, holder=holder
    )
    slots.sort(key=lambda slot: (abs(slot - around), slot))
    return sorted(slots[:limit])


def list_appointments_for_user(*, user: User) -> QuerySet[Appointment]:
    """Appointments of the user and of the relatives they manage, newest first."""
    return (
        Appointment.objects.filter(patient__in=list_patients_for_user(user=user))
        .select_related("agenda", "motive", "patient")
        .order_by("-starts_at", "-pk")
    )


def get_appointment_for_user(*, user: User, appointment_id: int) -> Appointment:
    """One of the user's (or their relatives') appointments; AppointmentNotFound otherwise."""
    appointment = (
        list_appointments_for_user(user=user).filter(pk=appointment_id).first()
    )
    if appointment is None:
        raise AppointmentNotFound()
    return appointment


def get_lapsed_hold(*, hold_id: UUID, holder: str) -> SlotHold:
    """The visitor's hold `hold_id`, live or expired (what they had chosen).

    Expired holds are kept for a while (carnet.booking.nextslots.HOLD_GRACE), so
    the funnel can offer to take the same time again. Raises HoldNotFound when
    there is no such hold for `holder` (missing or someone else's alike).
    """
    try:
        hold_id = hold_id if isinstance(hold_id, UUID) else UUID(str(hold_id))
    except ValueError:
        raise HoldNotFound() from None
    hold = (
        SlotHold.objects.select_related("agenda", "motive")
        .filter(pk=hold_id, holder=holder)
        .first()
        if holder
        else None
    )
    if hold is None:
        raise HoldNotFound()
    return hold


def get_live_hold(
    *, hold_id: UUID, holder: str, now: datetime | None = None
) -> SlotHold:
    """The visitor's hold `hold_id`, still keeping its slot.

    Raises HoldNotFound when there is no such hold for `holder` (missing or
    someone else's: the same answer), HoldExpired when it ran out.
    """
    now = timezone.now() if now is None else now
    hold = get_lapsed_hold(hold_id=hold_id, holder=holder)
    if hold.expires_at <= now:
        raise HoldExpired(minutes=hold_minutes())
    return hold


def hold_idempotency_key(hold_id: UUID) -> str:
    """The idempotency key of a booking made from a hold: confirming twice books once."""
    return f"hold:{hold_id}"


def get_appointment_booked_from_hold(
    *, user: User, hold_id: UUID
) -> Appointment | None:
    """The appointment `user` already booked with hold `hold_id` (a repeated confirm)."""
    if not user.is_authenticated:
        return None
    return Appointment.objects.filter(
        booked_by=user, idempotency_key=hold_idempotency_key(hold_id)
    ).first()


def calendar_sequence(appointment: Appointment) -> int:
    """The iCalendar SEQUENCE for the appointment's next REQUEST or CANCEL.

    0 at booking, plus one per AppointmentChange row (a move, by staff or by
    the patient, or a cancellation by staff). A cancellation that left no row
    (the patient cancelled) counts one as well, so a cancelled appointment is
    always at least one above every REQUEST sent before it. Rows are only ever
    added and a cancellation is final, so the value never decreases.
    """
    counts = AppointmentChange.objects.filter(appointment_id=appointment.pk).aggregate(
        changes=Count("pk"),
        cancellations=Count("pk", filter=Q(kind=AppointmentChange.Kind.CANCELLED)),
    )
    sequence = counts["changes"]
    if (
        appointment.status == Appointment.Status.CANCELLED
        and not counts["cancellations"]
    ):
        sequence += 1
    return sequence


@dataclass(frozen=True)
class DuplicateBooking:
    """Two future appointments of one patient for the same need at different practices.

    `later` is the one the patient is asked about first: usually the earlier
    one makes it pointless, and freeing it gives its time back to others.
    """

    earlier: Appointment
    later: Appointment


def list_duplicate_bookings(
    *, patient_id: int, now: datetime
) -> list[DuplicateBooking]:
    """The patient's pairs of booked, future appointments that look like one need twice.

    Same practitioner specialty and same visit motive (names compared without
    accents, case or spacing: "Consultation" at one practice and
    "consultation" at another), at two different practices. The reminders
    ask the patient to release the one they won't use (issue 6). A heuristic,
    not a diagnosis: two practices' motives are only compared by name.
    """
    upcoming = list(
        Appointment.objects.active()
        .filter(
            patient_id=patient_id, status=Appointment.Status.BOOKED, starts_at__gt=now
        )
        .select_related("agenda__practitioner", "motive")
        .order_by("starts_at", "pk")
    )
    by_need: dict[tuple[int | None, str], list[Appointment]] = {}
    for appointment in upcoming:
        need = (
            appointment.agenda.practitioner.specialty_id,
            fold(appointment.motive.name),
        )
        by_need.setdefault(need, []).append(appointment)
    return [
        DuplicateBooking(earlier=earlier, later=later)
        for group in by_need.values()
        for index, earlier in enumerate(group)
        for later in group[index + 1 :]
        if later.agenda.practice_id != earlier.agenda.practice_id
    ]
