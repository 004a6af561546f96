"""Reads on booking: free slots, a user's appointments."""

from datetime import UTC, date, datetime, timedelta

from django.db.models import QuerySet

from carnet.accounts.models import User
from carnet.accounts.selectors import list_patients_for_user
from carnet.booking.errors import AppointmentNotFound
from carnet.booking.models import Appointment
from carnet.scheduling import availability
from carnet.scheduling.availability import Interval
from carnet.scheduling.models import VisitMotive
from carnet.scheduling.selectors import (
    MotiveSchedule,
    get_motive_schedule,
    list_absences,
)

MAX_DAYS = 62


def list_busy(
    *, agenda_id: int, start: datetime, end: datetime, exclude_id: int | None = None
) -> list[Interval]:
    """Absences and active appointments of an agenda that meet [start, end)."""
    appointments = (
        Appointment.objects.active().filter(agenda_id=agenda_id).overlapping(start, end)
    )
    if exclude_id is not None:
        appointments = appointments.exclude(pk=exclude_id)
    busy = list_absences(agenda_id=agenda_id, start=start, end=end)
    busy.extend(
        Interval(start=s, end=e)
        for s, e in appointments.values_list("starts_at", "ends_at")
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
) -> list[datetime]:
    """Free start instants (UTC) of `motive` on `days` local days from `first_day`."""
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
        agenda_id=motive.agenda_id, start=start, end=end, exclude_id=exclude_id
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
    *, motive: VisitMotive, around: datetime, now: datetime, limit: int = 5
) -> list[datetime]:
    """Up to `limit` free slots of `motive`, nearest to `around` first."""
    zone = motive.agenda.zone
    first_day = max(
        around.astimezone(zone).date() - timedelta(days=2), now.astimezone(zone).date()
    )
    slots = list_free_slots(motive=motive, first_day=first_day, days=10, now=now)
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
