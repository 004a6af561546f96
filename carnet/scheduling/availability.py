"""Pure availability engine: weekly wall-clock windows to free UTC start instants.

Standard library only: an import-linter contract forbids Django in this module.

DST rule (STYLE): the *edges* of each wall-clock window are converted to UTC once,
then the window is stepped through in UTC. Consequences:

* a slot never starts in a DST gap (every UTC instant has a real wall time);
* a slot is never doubled in a DST overlap (UTC steps are distinct instants);
* a window yields ``floor(elapsed UTC length / step)`` starts when
  ``step == duration``; on a spring-forward day a 01:00-04:00 window lasts two
  hours, on a fall-back day four.

Edge conversion: ``opens`` is the *earliest* instant with that wall time
(``fold=0``), ``closes`` the *latest* (``fold=1``), so a window spanning the
repeated hour covers both occurrences. An edge inside a DST gap is clamped to the
first instant after the gap (Europe/Paris 2026-03-29 02:30 -> 03:00 CEST).

Internally instants are integer microseconds since the Unix epoch, which keeps
the hot loop cheap and sidesteps Python's same-tzinfo comparison rule (aware
datetimes sharing a tzinfo compare on wall time, ignoring ``fold``).
"""

import enum
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "Interval",
    "SlotProblem",
    "Window",
    "check_slot",
    "free_slots",
    "to_utc",
    "window_edges",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)


def _is_aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.tzinfo.utcoffset(value) is not None


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if not _is_aware(value):
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")


def _us(value: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime."""
    return (value - _EPOCH) // _MICROSECOND


def _from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


@dataclass(frozen=True, slots=True)
class Window:
    """A weekly opening window in wall-clock time of the agenda's zone.

    Contract: ``weekday`` is 0 (Monday) to 6 (Sunday); ``opens`` and ``closes``
    are naive wall-clock times with ``opens < closes`` (a window never crosses
    midnight; their ``fold`` is ignored); ``valid_from`` / ``valid_until`` are
    inclusive bounds, ``None`` meaning open-ended. Raises ValueError otherwise.
    """

    weekday: int
    opens: time
    closes: time
    valid_from: date | None = None
    valid_until: date | None = None

    def __post_init__(self) -> None:
        """Validate the invariants stated in the class docstring."""
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be in 0..6, got {self.weekday}")
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opens and closes must be naive wall-clock times")
        if self.closes <= self.opens:
            raise ValueError(
                f"closes ({self.closes}) must be after opens ({self.opens})"
            )

    def applies_on(self, day: date) -> bool:
        """Whether the window is open on local ``day`` (weekday and validity)."""
        if day.weekday() != self.weekday:
            return False
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until


@dataclass(frozen=True, slots=True)
class Interval:
    """Half-open ``[start, end)`` between two aware datetimes (normally UTC).

    Contract: both ends aware (ValueError if naive) and ``end >= start`` as
    instants (ValueError otherwise); an empty interval (``end == start``) is
    allowed and blocks nothing. Touching intervals do not overlap.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        """Validate the invariants stated in the class docstring."""
        _require_aware(self.start, "Interval.start")
        _require_aware(self.end, "Interval.end")
        if _us(self.end) < _us(self.start):
            raise ValueError(
                f"Interval ends ({self.end}) before it starts ({self.start})"
            )


class SlotProblem(enum.Enum):
    """Why a start instant cannot be booked, as reported by :func:`check_slot`.

    Contract: :func:`check_slot` reports the first applicable member in
    declaration order (PAST, TOO_SOON, TOO_FAR, OUTSIDE_HOURS, TAKEN).
    """

    PAST = "past"  # start <= now
    TOO_SOON = "too_soon"  # start < now + min_notice
    TOO_FAR = "too_far"  # start > now + horizon
    OUTSIDE_HOURS = "outside_hours"  # not on the grid of any window that day
    TAKEN = "taken"  # [start, start + duration) overlaps a busy interval


def to_utc(day: date, wall: time, zone: ZoneInfo) -> datetime | None:
    """UTC instant of a wall-clock time, or None if that time does not exist (DST gap).

    Contract: ``wall`` must be naive (ValueError otherwise). When the wall time
    is ambiguous (DST overlap), ``wall.fold`` picks the occurrence: 0 (default)
    the earlier, 1 the later. The result is aware, in ``datetime.UTC``.
    """
    if wall.tzinfo is not None:
        raise ValueError("wall must be a naive wall-clock time")
    local = datetime.combine(day, wall, tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


def _first_instant_after_gap(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """First UTC instant whose wall time is later than ``wall`` (inside a DST gap).

    The two PEP 495 readings of a non-existent wall time bracket the transition:
    ``fold=1`` (post-transition offset) lands before it, ``fold=0`` at or after
    it. Bisect that bracket, in microseconds, for the first instant whose wall
    time passes ``wall``: the instant the clocks jump to.
    """
    naive = datetime.combine(day, wall.replace(fold=0))
    readings = (
        naive.replace(tzinfo=zone, fold=0).astimezone(UTC),
        naive.replace(tzinfo=zone, fold=1).astimezone(UTC),
    )
    low, high = min(readings), max(readings)
    below, above = 0, (high - low) // _MICROSECOND
    while above - below > 1:
        middle = (below + above) // 2
        wall_clock = (low + middle * _MICROSECOND).astimezone(zone).replace(tzinfo=None)
        if wall_clock > naive:
            above = middle
        else:
            below = middle
    return low + above * _MICROSECOND


def _edge(day: date, wall: time, zone: ZoneInfo) -> datetime:
    instant = to_utc(day, wall, zone)
    return instant if instant is not None else _first_instant_after_gap(day, wall, zone)


def window_edges(*, window: Window, day: date, zone: ZoneInfo) -> Interval | None:
    """The UTC interval a window covers on `day`, or None if it does not apply that day.

    Contract: None when the weekday or validity dates exclude ``day``, or when
    the converted edges leave nothing (``end <= start``, e.g. a window lying
    entirely inside a DST gap). ``opens`` maps to its earliest instant
    (``fold=0``), ``closes`` to its latest (``fold=1``); an edge inside a DST gap
    is clamped to the first instant after the gap. Both ends are in UTC.
    """
    if not window.applies_on(day):
        return None
    start = _edge(day, window.opens.replace(fold=0), zone)
    end = _edge(day, window.closes.replace(fold=1), zone)
    if end <= start:
        return None
    return Interval(start, end)


@dataclass(frozen=True, slots=True)
class _Rules:
    """Validated booking parameters, in integer microseconds."""

    duration: int
    step: int
    earliest: int  # inclusive lower bound on start (covers both now and min_notice)
    latest: int | None  # inclusive upper bound on start, None = no horizon
    now: int
    notice_until: int


def _rules(
    *,
    duration: timedelta,
    now: datetime,
    min_notice: timedelta,
    horizon: timedelta | None,
    step: timedelta | None,
) -> _Rules:
    if duration <= timedelta(0):
        raise ValueError(f"duration must be positive, got {duration}")
    if step is not None and step <= timedelta(0):
        raise ValueError(f"step must be positive, got {step}")
    if min_notice < timedelta(0):
        raise ValueError(f"min_notice must not be negative, got {min_notice}")
    if horizon is not None and horizon < timedelta(0):
        raise ValueError(f"horizon must not be negative, got {horizon}")
    _require_aware(now, "now")
    now_us = _us(now)
    notice_until = now_us + min_notice // _MICROSECOND
    return _Rules(
        duration=duration // _MICROSECOND,
        step=(step if step is not None else duration) // _MICROSECOND,
        # start > now  <=>  start >= now + 1 µs (datetimes have µs resolution).
        earliest=max(now_us + 1, notice_until),
        latest=None if horizon is None else now_us + horizon // _MICROSECOND,
        now=now_us,
        notice_until=notice_until,
    )


class _Busy:
    """Busy intervals merged into sorted disjoint spans, for bisect lookups."""

    __slots__ = ("ends", "starts")

    def __init__(self, busy: Iterable[Interval]) -> None:
        spans = []
        for interval in busy:
            try:
                start, end = _us(interval.start), _us(interval.end)
            except TypeError:  # naive minus aware; Interval itself rejects naive
                raise ValueError(
                    f"busy datetimes must be aware: {interval!r}"
                ) from None
            if end > start:
                spans.append((start, end))
        spans.sort()
        self.starts: list[int] = []
        self.ends: list[int] = []
        for start, end in spans:
            if self.ends and start <= self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], end)
            else:
                self.starts.append(start)
                self.ends.append(end)

    def overlaps(self, start: int, end: int) -> bool:
        """Whether ``[start, end)`` overlaps a busy span (touching is fine)."""
        index = bisect_right(self.ends, start)  # first span ending after `start`
        return index < len(self.starts) and self.starts[index] < end


def _grid(edges: Interval, rules: _Rules) -> range:
    """Start instants ``edges.start + k * step`` whose slot ends by ``edges.end``."""
    return range(_us(edges.start), _us(edges.end) - rules.duration + 1, rules.step)


def free_slots(
    *,
    windows: Sequence[Window],
    busy: Sequence[Interval],
    zone: ZoneInfo,
    first_day: date,
    last_day: date,
    duration: timedelta,
    now: datetime,
    min_notice: timedelta = timedelta(0),
    horizon: timedelta | None = None,
    step: timedelta | None = None,
) -> list[datetime]:
    """Free start instants (aware, UTC, sorted, unique) whose local day is in [first_day, last_day].

    Contract: a start ``s`` is returned iff its local day (``s`` in ``zone``) is
    in the range; it lies on the grid ``edges.start + k * step`` (``step``
    defaults to ``duration``) of a window applying that day, with
    ``s + duration <= edges.end``; ``[s, s + duration)`` overlaps no busy
    interval; and ``now < s``, ``now + min_notice <= s`` and, when ``horizon`` is
    set, ``s <= now + horizon``. Overlapping windows give the union of their
    grids. Empty list when ``first_day > last_day``. ValueError on a
    non-positive ``duration`` or ``step``, a negative ``min_notice`` or
    ``horizon``, or a naive ``now`` or busy datetime. Agrees exactly with
    :func:`check_slot`.
    """
    rules = _rules(
        duration=duration, now=now, min_notice=min_notice, horizon=horizon, step=step
    )
    taken = _Busy(busy)
    if first_day > last_day:
        return []
    found: set[int] = set()
    # A slot lies within a day of its window's day (DST shifts are far below a
    # day), so the neighbouring days are visited too and boundary days filtered
    # on the slot's actual local day. Inner days cannot leak out of the range.
    day = first_day - _ONE_DAY
    while day <= last_day + _ONE_DAY:
        on_boundary = not first_day < day < last_day
        for window in windows:
            edges = window_edges(window=window, day=day, zone=zone)
            if edges is None:
                continue
            for start in _grid(edges, rules):
                if start < rules.earliest or (
                    rules.latest is not None and start > rules.latest
                ):
                    continue
                if taken.overlaps(start, start + rules.duration):
                    continue
                if on_boundary and not first_day <= _local_day(start, zone) <= last_day:
                    continue
                found.add(start)
        day += _ONE_DAY
    return [_from_us(start) for start in sorted(found)]


def _local_day(instant: int, zone: ZoneInfo) -> date:
    return _from_us(instant).astimezone(zone).date()


def check_slot(
    *,
    start: datetime,
    windows: Sequence[Window],
    busy: Sequence[Interval],
    zone: ZoneInfo,
    duration: timedelta,
    now: datetime,
    min_notice: timedelta = timedelta(0),
    horizon: timedelta | None = None,
    step: timedelta | None = None,
) -> SlotProblem | None:
    """Why `start` cannot be booked, or None if it can.

    Contract: checks in order PAST (``start <= now``), TOO_SOON
    (``start < now + min_notice``), TOO_FAR (``start > now + horizon``),
    OUTSIDE_HOURS (``start`` is not on the grid of any window applying on its
    local day, or its slot would end after the window), TAKEN
    (``[start, start + duration)`` overlaps a busy interval). Returns None
    exactly for the starts :func:`free_slots` would return for a range covering
    the local day of ``start``. Same ValueErrors as :func:`free_slots`, plus a
    naive ``start``.
    """
    rules = _rules(
        duration=duration, now=now, min_notice=min_notice, horizon=horizon, step=step
    )
    _require_aware(start, "start")
    taken = _Busy(busy)
    instant = _us(start)
    if instant <= rules.now:
        return SlotProblem.PAST
    if instant < rules.notice_until:
        return SlotProblem.TOO_SOON
    if rules.latest is not None and instant > rules.latest:
        return SlotProblem.TOO_FAR
    if not _on_grid(instant, start.astimezone(zone).date(), windows, zone, rules):
        return SlotProblem.OUTSIDE_HOURS
    if taken.overlaps(instant, instant + rules.duration):
        return SlotProblem.TAKEN
    return None


def _on_grid(
    instant: int,
    local_day: date,
    windows: Sequence[Window],
    zone: ZoneInfo,
    rules: _Rules,
) -> bool:
    # Same neighbourhood as free_slots: a window of the previous or next day
    # could only reach this local day through a DST shift at midnight.
    for day in (local_day - _ONE_DAY, local_day, local_day + _ONE_DAY):
        for window in windows:
            edges = window_edges(window=window, day=day, zone=zone)
            if edges is None:
                continue
            offset = instant - _us(edges.start)
            if (
                offset >= 0
                and offset % rules.step == 0
                and instant + rules.duration <= _us(edges.end)
            ):
                return True
    return False
