"""Pure schedule of an appointment's messages: the confirmation and the reminders.

Standard library only (no Django, no settings): the booking and notification
services read the clock once and pass plain values in. The result is a list of
``PlannedMessage``; the caller turns each into a task whose idempotency key is
``appointment:<vault_row>:<version>:<key_suffix>``.

The rules, in the order they apply (``plan_messages`` gives the contract):

1. **Nothing for a past appointment.** When ``now >= starts_at`` or the
   appointment was booked at or after its start, the plan is empty.
2. **Confirmation.** One per channel, due at ``booked_at`` (the instant the
   current version was booked or moved). It belongs to that action, so it is
   planned only while ``now < booked_at + confirmation_window``: re-planning
   later (preferences changed) never sends a late confirmation, while a move,
   which passes the move time as ``booked_at``, confirms the new time. It is
   never moved out of quiet hours: it answers the patient's own action.
3. **Reminder times.** An offset that is a whole number of days counts calendar
   days in the agenda's zone: the reminder keeps the appointment's wall-clock
   time (``24 h`` before a 09:00 appointment is 09:00 the day before, which is
   23 or 25 hours earlier across a DST change; ``48 h`` and ``7 days`` alike).
   Any other offset (``2 h``, ``36 h``) is an exact duration. A wall-clock time
   that does not exist (DST gap) is read as the instant the clocks jump (02:30
   on Europe/Paris 2026-03-29 is 03:00 CEST); an ambiguous one (DST overlap) as
   its earlier occurrence.
4. **Not right after the booking.** A reminder due before
   ``booked_at + min_gap_after_booking`` is dropped (it would follow the
   confirmation too closely), as is any reminder due at or after the start.
5. **SMS quiet hours.** An SMS reminder due inside the quiet hours (wall clock
   of the agenda's zone, ``[begins, ends)``, may cross midnight) moves *earlier*,
   to ``SMS_QUIET_MARGIN`` (1 h) before those quiet hours begin (20:00 for
   21:00), so the queue has time to deliver it before they do; if that is before
   ``booked_at + min_gap_after_booking`` it moves to that instant instead, and it
   never moves into the previous quiet hours. When no such instant exists, that
   SMS reminder is dropped. E-mail is never moved.
6. **Short notice.** On a channel where no configured reminder is left after
   rules 4 and 5 (judged against ``booked_at``, never ``now``, so the plan does
   not change as time passes), one reminder is planned at
   ``starts_at - short_notice_offset`` (moved out of SMS quiet hours like the
   others), if that is at least ``short_notice_min_gap`` after ``booked_at``.
   An empty ``offsets`` (or ``reminders_enabled=False``) means no reminder at
   all, short or not.
7. **Spread.** On each channel, two reminders are never less than
   ``min_gap_after_booking`` apart: walking from the appointment backwards, a
   reminder too close to the one kept after it is dropped (the later one stays).
8. **Not in the past.** Finally every reminder due before ``now`` is dropped.

Steps 1 to 7 do not read ``now``, so the plan is stable as time passes: called
again with a later ``now``, it returns a subset of the earlier plan.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = [
    "CHANNEL_EMAIL",
    "CHANNEL_SMS",
    "DEFAULT_OFFSETS",
    "DEFAULT_SMS_QUIET_HOURS",
    "MAX_OFFSET_HOURS",
    "MIN_OFFSET_HOURS",
    "SMS_QUIET_MARGIN",
    "MessageKind",
    "PlannedMessage",
    "plan_messages",
    "reminder_offsets_from_hours",
]

CHANNEL_EMAIL = "email"
CHANNEL_SMS = "sms"
DEFAULT_OFFSETS: tuple[timedelta, ...] = (
    timedelta(days=7),
    timedelta(hours=48),
    timedelta(hours=24),
)
DEFAULT_SMS_QUIET_HOURS: tuple[time, time] = (time(21), time(8))
SMS_QUIET_MARGIN = timedelta(hours=1)
MIN_OFFSET_HOURS = 1
MAX_OFFSET_HOURS = 720

MessageKind = Literal["confirmation", "reminder"]

_ONE_DAY = timedelta(days=1)
_MICROSECOND = timedelta(microseconds=1)
_CHANNEL_NAME = re.compile(r"[a-z0-9_-]+")
_LABEL_UNITS = (
    (timedelta(hours=1), "h"),
    (timedelta(minutes=1), "m"),
    (timedelta(seconds=1), "s"),
    (_MICROSECOND, "us"),
)


@dataclass(frozen=True, slots=True)
class PlannedMessage:
    """One message of an appointment: its kind, channel and due instant.

    ``due_at`` is aware, in UTC. ``offset`` is the reminder's configured offset
    (the nominal one, before any quiet-hours move; ``short_notice_offset`` for
    the short-notice reminder), None for the confirmation. ``key_suffix`` is
    deterministic and unique within a plan: ``confirmation:<channel>``,
    ``reminder:<channel>:<offset>`` (``reminder:email:24h``, ``reminder:sms:168h``)
    or ``reminder:<channel>:short-<offset>`` (``reminder:sms:short-2h``); an offset
    reads in whole hours, else minutes, seconds or microseconds (``90m``).
    """

    kind: MessageKind
    channel: str
    due_at: datetime
    offset: timedelta | None
    key_suffix: str


def plan_messages(
    *,
    starts_at: datetime,
    booked_at: datetime,
    now: datetime,
    zone: ZoneInfo,
    channels: Sequence[str],
    offsets: Sequence[timedelta] = DEFAULT_OFFSETS,
    reminders_enabled: bool = True,
    short_notice_offset: timedelta | None = timedelta(hours=2),
    short_notice_min_gap: timedelta = timedelta(minutes=30),
    min_gap_after_booking: timedelta = timedelta(hours=12),
    sms_quiet_hours: tuple[time, time] | None = DEFAULT_SMS_QUIET_HOURS,
    confirmation_window: timedelta = timedelta(hours=1),
) -> list[PlannedMessage]:
    """The messages still to send for an appointment, sorted by due instant.

    Contract: the rules are those of this module's docstring. ``starts_at``,
    ``booked_at`` (when the current version was booked, or moved) and ``now``
    must be aware, with ``booked_at <= now``; ``zone`` is the agenda's zone;
    ``channels`` are distinct names such as ``("email", "sms")`` (only
    ``"sms"`` observes quiet hours); offsets are positive (duplicates count
    once); ``sms_quiet_hours`` is ``(begins, ends)`` in naive wall-clock time,
    or None for none. Raises ValueError (TypeError for a non-datetime)
    otherwise. Pure and deterministic: the same inputs give the same plan, and
    a later ``now`` gives a subset of it. Output order: ``due_at``, then the
    confirmation first, then the order of ``channels``, then ``key_suffix``.
    """
    starts = _as_utc(starts_at, "starts_at")
    booked = _as_utc(booked_at, "booked_at")
    current = _as_utc(now, "now")
    if current < booked:
        raise ValueError(f"now ({now}) must not be before booked_at ({booked_at})")
    if not isinstance(zone, ZoneInfo):
        raise TypeError(f"zone must be a ZoneInfo, got {type(zone).__name__}")
    _check_channels(channels)
    for offset in offsets:
        _check_positive(offset, "each offset")
    unique_offsets = sorted(set(offsets), reverse=True)
    if short_notice_offset is not None:
        _check_positive(short_notice_offset, "short_notice_offset")
    _check_not_negative(short_notice_min_gap, "short_notice_min_gap")
    _check_not_negative(min_gap_after_booking, "min_gap_after_booking")
    _check_not_negative(confirmation_window, "confirmation_window")
    quiet = None if sms_quiet_hours is None else _QuietHours.of(sms_quiet_hours, zone)

    if current >= starts:  # also covers booked_at >= starts_at
        return []
    messages: list[PlannedMessage] = []
    if current < booked + confirmation_window:
        messages.extend(
            PlannedMessage(
                kind="confirmation",
                channel=channel,
                due_at=booked,
                offset=None,
                key_suffix=f"confirmation:{channel}",
            )
            for channel in channels
        )
    if reminders_enabled and unique_offsets:
        nominal = [
            (offset, _nominal_reminder_at(starts, offset, zone))
            for offset in unique_offsets
        ]
        for channel in channels:
            reminders = _channel_reminders(
                channel=channel,
                nominal=nominal,
                starts=starts,
                booked=booked,
                min_gap=min_gap_after_booking,
                short_notice_offset=short_notice_offset,
                short_notice_min_gap=short_notice_min_gap,
                quiet=quiet if channel == CHANNEL_SMS else None,
            )
            messages.extend(
                reminder for reminder in reminders if reminder.due_at >= current
            )
    rank = {channel: index for index, channel in enumerate(channels)}
    messages.sort(
        key=lambda message: (
            message.due_at,
            message.kind != "confirmation",
            rank[message.channel],
            message.key_suffix,
        )
    )
    return messages


def reminder_offsets_from_hours(hours: Iterable[int]) -> list[timedelta]:
    """Reminder offsets from stored hours: deduplicated, latest reminder last.

    Contract: each value is an ``int`` (not a bool) from ``MIN_OFFSET_HOURS``
    (1) to ``MAX_OFFSET_HOURS`` (720, thirty days); raises ValueError otherwise.
    The result is sorted descending (``[168, 24, 48, 24]`` gives 168 h, 48 h,
    24 h); an empty input gives an empty list (no reminders).
    """
    unique: set[int] = set()
    for value in hours:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"reminder hours must be integers, got {value!r}")
        if not MIN_OFFSET_HOURS <= value <= MAX_OFFSET_HOURS:
            raise ValueError(
                f"reminder hours must be from {MIN_OFFSET_HOURS} to "
                f"{MAX_OFFSET_HOURS}, got {value}"
            )
        unique.add(value)
    return [timedelta(hours=value) for value in sorted(unique, reverse=True)]


# --------------------------------------------------------------------------
# Reminders of one channel
# --------------------------------------------------------------------------


def _channel_reminders(
    *,
    channel: str,
    nominal: Sequence[tuple[timedelta, datetime]],
    starts: datetime,
    booked: datetime,
    min_gap: timedelta,
    short_notice_offset: timedelta | None,
    short_notice_min_gap: timedelta,
    quiet: "_QuietHours | None",
) -> list[PlannedMessage]:
    """Rules 4 to 7 for one channel; independent of ``now``."""
    planned: list[PlannedMessage] = []
    for offset, at in nominal:
        due = _deliverable_at(at, earliest=booked + min_gap, starts=starts, quiet=quiet)
        if due is not None:
            planned.append(
                PlannedMessage(
                    kind="reminder",
                    channel=channel,
                    due_at=due,
                    offset=offset,
                    key_suffix=f"reminder:{channel}:{_label(offset)}",
                )
            )
    if not planned and short_notice_offset is not None:
        due = _deliverable_at(
            starts - short_notice_offset,
            earliest=booked + short_notice_min_gap,
            starts=starts,
            quiet=quiet,
        )
        if due is not None:
            planned.append(
                PlannedMessage(
                    kind="reminder",
                    channel=channel,
                    due_at=due,
                    offset=short_notice_offset,
                    key_suffix=f"reminder:{channel}:short-{_label(short_notice_offset)}",
                )
            )
    return _spread(planned, min_gap=min_gap)


def _deliverable_at(
    at: datetime,
    *,
    earliest: datetime,
    starts: datetime,
    quiet: "_QuietHours | None",
) -> datetime | None:
    """When a reminder nominally due ``at`` goes out, or None if it does not."""
    if at < earliest or at >= starts:
        return None
    if quiet is None:
        return at
    return quiet.move_before(at, earliest=earliest)


def _spread(
    planned: list[PlannedMessage], *, min_gap: timedelta
) -> list[PlannedMessage]:
    """Keep reminders at least ``min_gap`` (and a microsecond) apart, later ones first.

    On a tie the reminder with the smaller offset stays.
    """
    kept: list[PlannedMessage] = []
    for reminder in sorted(
        planned,
        key=lambda message: (message.due_at, -(message.offset or timedelta(0))),
        reverse=True,
    ):
        if kept:
            distance = kept[-1].due_at - reminder.due_at
            if distance < min_gap or distance <= timedelta(0):
                continue
        kept.append(reminder)
    kept.reverse()
    return kept


def _nominal_reminder_at(
    starts: datetime, offset: timedelta, zone: ZoneInfo
) -> datetime:
    """Rule 3: whole days keep the wall-clock time, other offsets are durations."""
    if offset % _ONE_DAY:
        return starts - offset
    wall = starts.astimezone(zone).replace(tzinfo=None) - offset
    return _wall_instant(wall.date(), wall.time(), zone, latest=False)


# --------------------------------------------------------------------------
# Wall-clock time and quiet hours
# --------------------------------------------------------------------------


def _wall_instant(day: date, wall: time, zone: ZoneInfo, *, latest: bool) -> datetime:
    """UTC instant at which the clocks of ``zone`` show ``wall`` on ``day``.

    Ambiguous (DST overlap): the earlier occurrence, the later one if ``latest``.
    Non-existent (DST gap): the instant the clocks jump, i.e. the first whose
    wall time passes ``wall``; found by bisecting the two PEP 495 readings,
    which bracket the jump.
    """
    naive = datetime.combine(day, wall.replace(tzinfo=None, fold=0))
    earlier = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    later = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if earlier.astimezone(zone).replace(tzinfo=None) == naive:
        return later if latest else earlier
    low, high = min(earlier, later), max(earlier, later)
    below, above = 0, (high - low) // _MICROSECOND
    while above - below > 1:
        middle = (below + above) // 2
        if (low + middle * _MICROSECOND).astimezone(zone).replace(tzinfo=None) > naive:
            above = middle
        else:
            below = middle
    return low + above * _MICROSECOND


@dataclass(frozen=True, slots=True)
class _QuietHours:
    """Daily quiet hours ``[begins, ends)`` on the wall clock of ``zone``.

    Each night is a UTC interval from the earliest instant showing ``begins`` to
    the latest showing ``ends``, so it holds every instant whose wall time lies
    in the quiet hours, DST overlap included.
    """

    begins: time
    ends: time
    zone: ZoneInfo

    @classmethod
    def of(cls, bounds: tuple[time, time], zone: ZoneInfo) -> "_QuietHours":
        begins, ends = bounds
        for bound in (begins, ends):
            if not isinstance(bound, time) or bound.tzinfo is not None:
                raise ValueError(
                    f"sms_quiet_hours must be naive wall-clock times, got {bound!r}"
                )
        begins, ends = begins.replace(fold=0), ends.replace(fold=0)
        if begins == ends:
            raise ValueError("sms_quiet_hours must not begin and end at the same time")
        return cls(begins=begins, ends=ends, zone=zone)

    def night(self, day: date) -> tuple[datetime, datetime]:
        """The quiet interval that begins on local ``day``, in UTC."""
        end_day = day + _ONE_DAY if self.begins > self.ends else day
        return (
            _wall_instant(day, self.begins, self.zone, latest=False),
            _wall_instant(end_day, self.ends, self.zone, latest=True),
        )

    def move_before(self, at: datetime, *, earliest: datetime) -> datetime | None:
        """``at`` if it is not quiet, else the instant rule 5 moves it to, or None."""
        day = at.astimezone(self.zone).date()
        for night_day in (day - _ONE_DAY, day):
            begins_at, ends_at = self.night(night_day)
            if begins_at <= at < ends_at:
                previous_end = self.night(night_day - _ONE_DAY)[1]
                moved = max(begins_at - SMS_QUIET_MARGIN, previous_end, earliest)
                return moved if moved < begins_at else None
        return at


# --------------------------------------------------------------------------
# Validation and labels
# --------------------------------------------------------------------------


def _as_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")
    return value.astimezone(UTC)


def _check_channels(channels: Sequence[str]) -> None:
    if isinstance(channels, str):
        raise ValueError("channels must be a sequence of names, not one string")
    for channel in channels:
        if not isinstance(channel, str) or not _CHANNEL_NAME.fullmatch(channel):
            raise ValueError(
                f"a channel is a lowercase name such as 'email', got {channel!r}"
            )
    if len(set(channels)) != len(channels):
        raise ValueError(f"channels must be distinct, got {list(channels)!r}")


def _check_positive(value: timedelta, name: str) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValueError(f"{name} must be a positive timedelta, got {value!r}")


def _check_not_negative(value: timedelta, name: str) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise ValueError(f"{name} must be a timedelta of zero or more, got {value!r}")


def _label(offset: timedelta) -> str:
    """``24h``, ``90m``, ``45s``: the largest unit that divides the offset."""
    for unit, suffix in _LABEL_UNITS:
        if not offset % unit:
            return f"{offset // unit}{suffix}"
    raise AssertionError("a timedelta is a whole number of microseconds")
