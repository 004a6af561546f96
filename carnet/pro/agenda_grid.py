"""The agenda grid: one column per agenda and day, one row per 5 minutes of wall-clock time.

The axis spans the opening hours and appointments of every column shown,
on whole hours. Cells mark open and absent times (and the wall times a
clock change skips); appointments become blocks, side by side in lanes
where they overlap; absences become shades. read_columns reads each day
through the audited gate of carnet.booking.access; fill_column lays it out.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from carnet.accounts.errors import MfaRequired
from carnet.booking.access import access_agenda_day
from carnet.booking.models import Appointment
from carnet.core.errors import DomainError
from carnet.core.templatetags.carnet import format_local
from carnet.scheduling.availability import Window, to_utc
from carnet.scheduling.models import Absence, Agenda, OpeningRule

STEP_MINUTES = 5
"""One row of the grid."""
DEFAULT_OPENS = 8 * 60
DEFAULT_CLOSES = 19 * 60
MAX_LANES = 3


@dataclass
class Cell:
    """One 5-minute row of a column: a drop target, and a link to book when free."""

    row: int
    label: str
    starts_at: datetime | None  # None: this wall time does not exist (DST gap)
    is_open: bool
    is_absent: bool
    book_url: str = ""

    @property
    def iso(self) -> str:
        """The instant in UTC, as the drop handler posts it."""
        return self.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ") if self.starts_at else ""


@dataclass
class Block:
    """One appointment placed in a column."""

    appointment: Appointment
    row: int
    span: int
    starts_local: datetime
    ends_local: datetime
    lane: int = 1
    lanes: int = 1
    draggable: bool = False
    confirmed: str = ""  # confirmation_label, "" when the patient has not confirmed


@dataclass
class Shade:
    """An absence drawn over a column."""

    row: int
    span: int
    label: str


@dataclass
class Column:
    """One agenda on one day."""

    agenda: Agenda
    day: date
    zone: ZoneInfo
    appointments: list[Appointment]
    windows: list[tuple[int, int]]  # opening minutes of the local day
    absences: list[Absence]
    cells: list[Cell] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    shades: list[Shade] = field(default_factory=list)
    cancelled: list[Appointment] = field(default_factory=list)
    now_row: int | None = None
    is_today: bool = False
    links: dict[str, str] = field(default_factory=dict)


def _minutes(moment: datetime) -> int:
    """The wall-clock minute of the day of `moment`."""
    return moment.hour * 60 + moment.minute


def _windows_on(rules: Iterable[OpeningRule], day: date) -> list[tuple[int, int]]:
    """The opening windows of `rules` that apply on `day`, in minutes of the day."""
    found = []
    for rule in rules:
        window = Window(
            weekday=rule.weekday,
            opens=rule.opens_time,
            closes=rule.closes_time,
            valid_from=rule.valid_on,
            valid_until=rule.valid_until_on,
        )
        if window.applies_on(day):
            found.append((_minutes(rule.opens_time), _minutes(rule.closes_time)))
    return found


def axis(columns: list[Column]) -> tuple[int, int]:
    """First and last wall-clock minute of the grid, on whole hours."""
    starts: list[int] = []
    ends: list[int] = []
    for column in columns:
        for opens, closes in column.windows:
            starts.append(opens)
            ends.append(closes)
        for appointment in column.appointments:
            local = appointment.starts_at.astimezone(column.zone)
            if local.date() != column.day:
                continue
            start = _minutes(local)
            seconds = (appointment.ends_at - appointment.starts_at).total_seconds()
            starts.append(start)
            ends.append(min(24 * 60, start + math.ceil(seconds / 60)))
    first = min(starts) if starts else DEFAULT_OPENS
    last = max(ends) if ends else DEFAULT_CLOSES
    first = (first // 60) * 60
    last = min(24 * 60, math.ceil(last / 60) * 60)
    if last <= first:
        first, last = DEFAULT_OPENS, DEFAULT_CLOSES
    return first, last


def confirmation_label(appointment: Appointment, zone: ZoneInfo) -> str:
    """Who confirmed, for staff: "confirmed (SMS reply) at 18:42"; "" when not confirmed.

    The day is added when it is not the appointment's own (a confirmation
    usually comes the day before).
    """
    if appointment.confirmed_at is None:
        return ""
    when = appointment.confirmed_at.astimezone(zone)
    via = appointment.get_confirmed_via_display()
    at = format_local(when, zone, "time")
    if when.date() == appointment.starts_at.astimezone(zone).date():
        return _("confirmed ({via}) at {time}").format(via=via, time=at)
    return _("confirmed ({via}) on {day} at {time}").format(
        via=via, day=format_local(when, zone, "short_date"), time=at
    )


def label(minutes: int) -> str:
    """A minute of the day as HH:MM."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def row_of(minutes: int, axis_start: int) -> int:
    """The grid row (from 1) of a wall-clock minute, on an axis starting at `axis_start`."""
    return (minutes - axis_start) // STEP_MINUTES + 1


def _lay_out_lanes(blocks: list[Block]) -> None:
    """Side by side where appointments overlap (an overbooked one, a change of hours).

    Lanes are counted per cluster of overlapping blocks, so an appointment
    that overlaps nothing keeps the column's whole width.
    """
    cluster: list[Block] = []
    cluster_end = 0
    for block in sorted(blocks, key=lambda b: (b.row, -b.span)):
        if cluster and block.row >= cluster_end:
            _lay_out_cluster(cluster)
            cluster = []
        cluster.append(block)
        cluster_end = max(cluster_end, block.row + block.span)
    if cluster:
        _lay_out_cluster(cluster)


def _lay_out_cluster(blocks: list[Block]) -> None:
    """Give each block of one cluster of overlapping blocks the first lane free at its start."""
    ends: list[int] = []  # last row (exclusive) per lane
    for block in blocks:
        for index, end in enumerate(ends):
            if end <= block.row:
                ends[index] = block.row + block.span
                block.lane = index + 1
                break
        else:
            ends.append(block.row + block.span)
            block.lane = len(ends)
    lanes = min(MAX_LANES, max(1, len(ends)))
    for block in blocks:
        block.lane = min(block.lane, MAX_LANES)
        block.lanes = lanes


def fill_column(
    column: Column,
    *,
    axis: tuple[int, int],
    now: datetime,
    practice_id: int,
    can_book: bool,
) -> None:
    """Lay out a column on `axis`: its cells, appointment blocks, absence shades and now line."""
    axis_start, axis_end = axis
    rows = (axis_end - axis_start) // STEP_MINUTES
    today = now.astimezone(column.zone).date()
    column.is_today = column.day == today
    book_base = reverse("pro:agenda-book", kwargs={"practice_id": practice_id})
    for index in range(rows):
        wall = axis_start + index * STEP_MINUTES
        instant = to_utc(column.day, time(wall // 60, wall % 60), column.zone)
        is_open = instant is not None and any(
            opens <= wall < closes for opens, closes in column.windows
        )
        is_absent = instant is not None and any(
            a.starts_at <= instant < a.ends_at for a in column.absences
        )
        cell = Cell(
            row=index + 1,
            label=label(wall),
            starts_at=instant,
            is_open=is_open,
            is_absent=is_absent,
        )
        if can_book and is_open and not is_absent and instant > now:
            cell.book_url = (
                book_base
                + "?"
                + urlencode({"agenda": column.agenda.pk, "starts_at": cell.iso})
            )
        column.cells.append(cell)
    for appointment in column.appointments:
        appointment.agenda = column.agenda  # already loaded: no query per row
        if not appointment.is_active:
            column.cancelled.append(appointment)
            continue
        local = appointment.starts_at.astimezone(column.zone)
        local_end = appointment.ends_at.astimezone(column.zone)
        if local.date() != column.day:
            continue
        minutes = (appointment.ends_at - appointment.starts_at).total_seconds() / 60
        row = max(1, row_of(_minutes(local), axis_start))
        span = max(1, min(rows - row + 1, math.ceil(minutes / STEP_MINUTES)))
        column.blocks.append(
            Block(
                appointment=appointment,
                row=row,
                span=span,
                starts_local=local,
                ends_local=local_end,
                draggable=can_book
                and appointment.status == Appointment.Status.BOOKED
                and appointment.starts_at > now,
                confirmed=confirmation_label(appointment, column.zone),
            )
        )
    _lay_out_lanes(column.blocks)
    day_start = datetime.combine(column.day, time(0), tzinfo=column.zone)
    for absence in column.absences:
        start = max(absence.starts_at.astimezone(column.zone), day_start)
        end = absence.ends_at.astimezone(column.zone)
        first = _minutes(start) if start.date() == column.day else 0
        last = _minutes(end) if end.date() == column.day else 24 * 60
        first, last = max(first, axis_start), min(last, axis_end)
        if last <= first:
            continue
        column.shades.append(
            Shade(
                row=row_of(first, axis_start),
                span=math.ceil((last - first) / STEP_MINUTES),
                label=absence.label or _("Absent"),
            )
        )
    if column.is_today:
        local_now = now.astimezone(column.zone)
        wall = _minutes(local_now)
        if axis_start <= wall < axis_end:
            column.now_row = row_of(wall, axis_start)


def read_columns(
    request: HttpRequest, agendas: list[Agenda], days: list[date]
) -> list[Column]:
    """Each agenda on each day, through the audited gate of carnet.booking.access."""
    rules: dict[int, list[OpeningRule]] = {}
    for rule in OpeningRule.objects.filter(agenda__in=agendas):
        rules.setdefault(rule.agenda_id, []).append(rule)
    first = datetime.combine(days[0] - timedelta(days=1), time(0), tzinfo=UTC)
    last = datetime.combine(days[-1] + timedelta(days=2), time(0), tzinfo=UTC)
    absences: dict[int, list[Absence]] = {}
    for absence in Absence.objects.filter(
        agenda__in=agendas, starts_at__lt=last, ends_at__gt=first
    ).order_by("starts_at"):
        absences.setdefault(absence.agenda_id, []).append(absence)
    columns = []
    for agenda in agendas:
        for day in days:
            try:
                _agenda, appointments = access_agenda_day(
                    actor=request.user,
                    agenda_id=agenda.pk,
                    day=day,
                    actor_kind=Appointment.Actor.STAFF,
                    request=request,
                )
            except MfaRequired as exc:
                raise PermissionDenied(exc.render()) from exc
            except DomainError as exc:
                raise Http404 from exc
            columns.append(
                Column(
                    agenda=agenda,
                    day=day,
                    zone=agenda.zone,
                    appointments=appointments,
                    windows=_windows_on(rules.get(agenda.pk, []), day),
                    absences=absences.get(agenda.pk, []),
                )
            )
    return columns
