"""A week of free slots for a motive, as the week pickers show it."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from carnet.booking.selectors import MAX_DAYS, list_free_slots
from carnet.scheduling.models import VisitMotive


@dataclass(frozen=True, slots=True)
class Day:
    """One local day of the week and its free start instants (aware, agenda's zone)."""

    day: date
    slots: list[datetime]
    noon: datetime  # the day's noon in the agenda's zone, for date formatting


@dataclass(frozen=True, slots=True)
class Week:
    """Seven local days from a Monday, with the neighbouring weeks one may open."""

    motive: VisitMotive
    start: date
    days: list[Day]
    previous_start: date | None
    next_start: date | None
    next_free: datetime | None

    @property
    def is_empty(self) -> bool:
        """Whether no day of this week has a free slot."""
        return not any(day.slots for day in self.days)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_week(value: str | None) -> date | None:
    """The Monday of an ISO date given in a query string; None when absent or unreadable."""
    if not value:
        return None
    try:
        return _monday(date.fromisoformat(value[:10]))
    except ValueError:
        return None


def build_week(
    *,
    motive: VisitMotive,
    week_start: date | None,
    now: datetime,
    exclude_id: int | None = None,
) -> Week:
    """The free slots of `motive` in the week starting at `week_start` (this week by default).

    Weeks before the current one and past the motive's horizon are clamped to
    them. When the week has nothing free, `next_free` is the first free slot
    within the next two months, so the page can offer to jump to it.
    """
    zone = motive.agenda.zone
    today = now.astimezone(zone).date()
    first_week = _monday(today)
    last_week = _monday((now + motive.horizon).astimezone(zone).date())
    start = min(max(week_start or first_week, first_week), last_week)
    slots = list_free_slots(
        motive=motive, first_day=start, days=7, now=now, exclude_id=exclude_id
    )
    by_day: dict[date, list[datetime]] = {}
    for slot in slots:
        local = slot.astimezone(zone)
        by_day.setdefault(local.date(), []).append(local)
    days = []
    for offset in range(7):
        day = start + timedelta(days=offset)
        noon = datetime.combine(day, time(12), tzinfo=zone)
        days.append(Day(day=day, slots=by_day.get(day, []), noon=noon))
    next_free = None
    if not slots:
        later = list_free_slots(
            motive=motive,
            first_day=start + timedelta(days=7),
            days=MAX_DAYS,
            now=now,
            exclude_id=exclude_id,
        )
        next_free = later[0].astimezone(zone) if later else None
    return Week(
        motive=motive,
        start=start,
        days=days,
        previous_start=start - timedelta(days=7) if start > first_week else None,
        next_start=start + timedelta(days=7) if start < last_week else None,
        next_free=next_free,
    )
