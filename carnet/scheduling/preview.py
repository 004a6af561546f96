"""Draft opening rules: their checks, and the weekly slots they would offer.

No database access: a settings page passes the rules being edited (saved or
not) and gets, before anything is saved, the slots patients would be offered
that week, computed by the same pure engine as the booking pages
(carnet.scheduling.availability). The services run the same checks on save,
so a draft the preview accepts is a rule the services accept, and the slots
shown are the slots booked afterwards (on an empty agenda).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from carnet.scheduling import availability
from carnet.scheduling.availability import Interval, Window
from carnet.scheduling.errors import (
    OpeningHoursInvalid,
    OpeningRulesOverlap,
    ValidityInvalid,
    WeekdayInvalid,
)

WEEK = 7


class AgendaLike(Protocol):
    """What the preview needs of an agenda: its time zone."""

    @property
    def zone(self) -> ZoneInfo:
        """The agenda's IANA zone."""
        ...


class MotiveLike(Protocol):
    """What the preview needs of a motive: its id and booking rules."""

    @property
    def pk(self) -> int | None:
        """The motive's id (drafts may be restricted to some motives)."""
        ...

    @property
    def duration(self) -> timedelta:
        """Length of one visit."""
        ...

    @property
    def min_notice(self) -> timedelta:
        """How long before the start a booking must be made."""
        ...

    @property
    def horizon(self) -> timedelta:
        """How far ahead a booking may be made."""
        ...


@dataclass(frozen=True, slots=True)
class RuleDraft:
    """An opening rule as edited: weekday, wall-clock hours, validity, motives.

    An empty `motive_ids` means every motive of the agenda, as for a saved
    OpeningRule. Nothing is checked on construction: see :func:`check_draft`.
    """

    weekday: int
    opens: time
    closes: time
    valid_from: date | None = None
    valid_until: date | None = None
    motive_ids: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        """Accept any iterable of motive ids."""
        object.__setattr__(self, "motive_ids", frozenset(self.motive_ids))

    def applies_to(self, motive_id: int | None) -> bool:
        """Whether the rule opens the agenda for this motive."""
        return not self.motive_ids or motive_id in self.motive_ids

    def window(self) -> Window:
        """The rule as the availability engine's weekly window (check it first)."""
        return Window(
            weekday=self.weekday,
            opens=self.opens,
            closes=self.closes,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
        )


def _is_wall_time(value: object) -> bool:
    return isinstance(value, time) and value.tzinfo is None


def check_draft(draft: RuleDraft) -> None:
    """Refuse a draft the engine cannot use.

    Raises WeekdayInvalid (not 0..6), OpeningHoursInvalid (missing or zoned
    times, closes not after opens: a window never crosses midnight) or
    ValidityInvalid (last day before the first).
    """
    weekday = draft.weekday
    if isinstance(weekday, bool) or not isinstance(weekday, int):
        raise WeekdayInvalid()
    if not 0 <= weekday <= 6:
        raise WeekdayInvalid()
    if not (_is_wall_time(draft.opens) and _is_wall_time(draft.closes)):
        raise OpeningHoursInvalid()
    if draft.closes <= draft.opens:
        raise OpeningHoursInvalid()
    for bound in (draft.valid_from, draft.valid_until):
        if bound is not None and (
            not isinstance(bound, date) or isinstance(bound, datetime)
        ):
            raise ValidityInvalid()
    if (
        draft.valid_from is not None
        and draft.valid_until is not None
        and draft.valid_until < draft.valid_from
    ):
        raise ValidityInvalid()


def drafts_overlap(first: RuleDraft, second: RuleDraft) -> bool:
    """Whether two rules open the same motive at the same moment of some day.

    Same weekday, hours that overlap (touching is fine: 08:00-12:00 then
    12:00-14:00), validity periods that share a day, and motives in common
    (a rule for every motive shares them all).
    """
    if first.weekday != second.weekday:
        return False
    if not (first.opens < second.closes and second.opens < first.closes):
        return False
    first_from = first.valid_from or date.min
    first_until = first.valid_until or date.max
    second_from = second.valid_from or date.min
    second_until = second.valid_until or date.max
    if first_from > second_until or second_from > first_until:
        return False
    if not first.motive_ids or not second.motive_ids:
        return True
    return bool(first.motive_ids & second.motive_ids)


def check_no_overlap(
    drafts: Sequence[RuleDraft], *, existing: Iterable[RuleDraft] = ()
) -> None:
    """Refuse drafts that overlap each other or `existing` rules.

    Raises OpeningRulesOverlap naming the hours of the rule overlapped.
    """
    others = list(existing)
    for index, draft in enumerate(drafts):
        for other in [*others, *drafts[index + 1 :]]:
            if drafts_overlap(draft, other):
                raise OpeningRulesOverlap(
                    opens=other.opens.strftime("%H:%M"),
                    closes=other.closes.strftime("%H:%M"),
                )


def preview_week(
    *,
    agenda: AgendaLike,
    rules: Sequence[RuleDraft],
    motive: MotiveLike,
    week_start: date,
    now: datetime,
    busy: Sequence[Interval] = (),
) -> list[tuple[date, list[datetime]]]:
    """The slots `rules` would offer for `motive` on the 7 local days from `week_start`.

    One (day, starts) pair per day, starts aware in UTC and sorted. The motive's
    notice and horizon apply from `now`, as on the booking pages; `busy`
    (absences, appointments) defaults to none, so the result equals what
    booking.selectors.list_free_slots returns once the rules are saved on an
    empty agenda. Raises the errors of :func:`check_draft` and
    :func:`check_no_overlap`, exactly as saving would.
    """
    for draft in rules:
        check_draft(draft)
    check_no_overlap(rules)
    windows = [draft.window() for draft in rules if draft.applies_to(motive.pk)]
    zone = agenda.zone
    last_day = week_start + timedelta(days=WEEK - 1)
    starts = availability.free_slots(
        windows=windows,
        busy=busy,
        zone=zone,
        first_day=week_start,
        last_day=last_day,
        duration=motive.duration,
        now=now,
        min_notice=motive.min_notice,
        horizon=motive.horizon,
    )
    by_day: dict[date, list[datetime]] = {
        week_start + timedelta(days=offset): [] for offset in range(WEEK)
    }
    for start in starts:
        by_day[start.astimezone(zone).date()].append(start)
    return list(by_day.items())
