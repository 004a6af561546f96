"""The next-availability index: the first free slots of every active motive, kept true.

Search results show each practitioner's next free slots. Computing availability
for every result on every request would not scale, so each active motive has a
`NextAvailability` row holding its first N free slots within its horizon. The
row is rewritten:

* in the same transaction (under the agenda's row lock) as every booking,
  cancellation, move, hold and hold release of the agenda, by the booking
  services calling :func:`refresh_agenda`;
* when the agenda's rules change (the scheduling admin calls it);
* lazily by :func:`next_slots`, for the rows it finds stale: computed more than
  `TTL` ago, past their `stale_at` (a hold expired, a new slot entered the
  horizon, half the stored slots passed their notice), or left with fewer slots
  than asked while the horizon has more;
* in bulk by :func:`refresh_all` (`manage.py refresh_next_availability`).

Reading drops the stored slots that are no longer bookable *now* (past the
motive's notice or horizon, held by someone), so a slot shown is a slot the
booking service accepts, and the answer equals a fresh computation.

The search is cheap in the usual case: free slots are looked for in growing
ranges of local days (2, 7, 28 days, then the whole horizon), busy time loaded
in batches of agendas, one query per table.
"""

import logging
import multiprocessing
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone

from carnet.booking.models import Appointment, NextAvailability, SlotHold
from carnet.directory.services import record_next_availability
from carnet.scheduling import availability
from carnet.scheduling.availability import Interval, Window
from carnet.scheduling.models import Absence, Agenda, OpeningRule, VisitMotive

logger = logging.getLogger(__name__)

N_SLOTS = 8
"""How many free slots each row keeps."""

TTL = timedelta(minutes=15)
"""Rows computed longer ago than this are recomputed before being shown."""

LOW_WATER = 4
"""A row is due for a refresh once fewer than this many stored slots remain."""

HOLD_GRACE = timedelta(hours=1)
"""Expired holds are deleted this long after expiring (so the funnel can still
say "your hold expired" for a while)."""

# Local days searched in each step: the usual agenda has 8 free slots within
# two days; the busy time of the first 7 days is loaded at once.
_STEPS = (2, 7, 28)
_LOOKAHEAD_DAYS = 14  # how far past the horizon the next new slot is looked for


@dataclass(frozen=True, slots=True)
class ShownSlots:
    """What a search result shows of one agenda: the motive and its next free slots.

    `motive` is None when nothing matching is bookable within the horizon.
    """

    motive: VisitMotive | None
    slots: list[datetime]


@dataclass(slots=True)
class _MotiveSearch:
    """The free-slot search of one motive, advanced step by step."""

    motive: VisitMotive
    windows: tuple[Window, ...]
    zone: ZoneInfo
    today: date
    horizon_day: date
    next_day: date
    slots: list[datetime] = field(default_factory=list)
    done: bool = False
    exhausted: bool = False


@dataclass(slots=True)
class _AgendaBusy:
    """Busy time of one agenda loaded up to `until`, and when its holds expire."""

    intervals: list[Interval] = field(default_factory=list)
    until: datetime | None = None
    hold_expiries: list[datetime] = field(default_factory=list)


def _windows_by_motive(
    agenda_ids: Sequence[int], motives: Sequence[VisitMotive]
) -> dict[int, tuple[Window, ...]]:
    """Each motive's weekly windows: its agenda's rules for every motive or for it."""
    rules = list(
        OpeningRule.objects.filter(agenda_id__in=agenda_ids).values_list(
            "pk",
            "agenda_id",
            "weekday",
            "opens_time",
            "closes_time",
            "valid_on",
            "valid_until_on",
        )
    )
    restricted: dict[int, set[int]] = defaultdict(set)
    through = OpeningRule.motives.through
    for rule_id, motive_id in through.objects.filter(
        openingrule__agenda_id__in=agenda_ids
    ).values_list("openingrule_id", "visitmotive_id"):
        restricted[rule_id].add(motive_id)
    by_agenda: dict[int, list[tuple[int, Window]]] = defaultdict(list)
    for pk, agenda_id, weekday, opens, closes, valid_on, valid_until in rules:
        window = Window(
            weekday=weekday,
            opens=opens,
            closes=closes,
            valid_from=valid_on,
            valid_until=valid_until,
        )
        by_agenda[agenda_id].append((pk, window))
    return {
        motive.pk: tuple(
            window
            for rule_id, window in by_agenda.get(motive.agenda_id, ())
            if not restricted.get(rule_id) or motive.pk in restricted[rule_id]
        )
        for motive in motives
    }


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    """A UTC instant surely before every slot of local `day` (DST-safe margin)."""
    local = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    return local.astimezone(UTC) - timedelta(hours=3)


def _load_busy(
    busy: dict[int, _AgendaBusy],
    agenda_ids: Iterable[int],
    *,
    start: datetime,
    until: datetime,
    now: datetime,
) -> None:
    """Load the busy time of `agenda_ids` over [start, until), one query per table.

    Busy time is appointments, absences and everyone's live holds: the index
    shows what a new visitor could book.
    """
    ids = sorted(set(agenda_ids))
    if not ids:
        return
    for agenda_id in ids:
        entry = busy[agenda_id]
        entry.intervals = []
        entry.hold_expiries = []
        entry.until = until
    appointments = (
        Appointment.objects.active()
        .filter(agenda_id__in=ids)
        .overlapping(start, until)
        .values_list("agenda_id", "starts_at", "ends_at")
    )
    absences = Absence.objects.filter(
        agenda_id__in=ids, starts_at__lt=until, ends_at__gt=start
    ).values_list("agenda_id", "starts_at", "ends_at")
    for agenda_id, s, e in [*appointments, *absences]:
        busy[agenda_id].intervals.append(Interval(start=s, end=e))
    holds = (
        SlotHold.objects.live(now)
        .filter(agenda_id__in=ids, starts_at__lt=until, ends_at__gt=start)
        .values_list("agenda_id", "starts_at", "ends_at", "expires_at")
    )
    for agenda_id, s, e, expires_at in holds:
        busy[agenda_id].intervals.append(Interval(start=s, end=e))
        busy[agenda_id].hold_expiries.append(expires_at)


def _advance(search: _MotiveSearch, busy: _AgendaBusy, last_day: date, now: datetime):
    """Search the local days from `search.next_day` to `last_day` (inclusive)."""
    motive = search.motive
    last_day = min(last_day, search.horizon_day)
    if search.next_day <= last_day:
        search.slots.extend(
            availability.free_slots(
                windows=search.windows,
                busy=busy.intervals,
                zone=search.zone,
                first_day=search.next_day,
                last_day=last_day,
                duration=motive.duration,
                now=now,
                min_notice=motive.min_notice,
                horizon=motive.horizon,
            )
        )
        search.next_day = last_day + timedelta(days=1)
    if len(search.slots) >= N_SLOTS:
        search.slots = search.slots[:N_SLOTS]
        search.done = True
    elif search.next_day > search.horizon_day:
        search.done = True
        search.exhausted = True


def _search_all(
    agendas: dict[int, Agenda], motives: Sequence[VisitMotive], now: datetime
) -> tuple[list[_MotiveSearch], dict[int, _AgendaBusy]]:
    """Find the first N free slots of every motive, loading busy time in growing steps."""
    windows = _windows_by_motive(list(agendas), motives)
    searches = []
    for motive in motives:
        zone = agendas[motive.agenda_id].zone
        today = now.astimezone(zone).date()
        search = _MotiveSearch(
            motive=motive,
            windows=windows[motive.pk],
            zone=zone,
            today=today,
            horizon_day=(now + motive.horizon).astimezone(zone).date(),
            next_day=today,
        )
        if not search.windows:
            search.done = search.exhausted = True
        searches.append(search)
    busy: dict[int, _AgendaBusy] = defaultdict(_AgendaBusy)
    steps = [*_STEPS, max((m.horizon_days for m in motives), default=0) + 2]
    for days in steps:
        pending = [s for s in searches if not s.done]
        if not pending:
            break
        # Busy time must cover the last searched day (plus a visit's length).
        needs: dict[int, datetime] = {}
        for search in pending:
            # The first step loads a week at once: the next one needs no query.
            loaded = max(days, _STEPS[1])
            last_day = min(
                search.today + timedelta(days=loaded - 1), search.horizon_day
            )
            end = _day_start(last_day + timedelta(days=2), search.zone)
            agenda_id = search.motive.agenda_id
            needs[agenda_id] = max(end, needs.get(agenda_id, end))
        reload = [
            agenda_id
            for agenda_id, end in needs.items()
            if busy[agenda_id].until is None or busy[agenda_id].until < end
        ]
        if reload:
            # One query per table for the whole group: the furthest end wins.
            _load_busy(
                busy,
                reload,
                start=now - timedelta(days=1),
                until=max(needs[a] for a in reload),
                now=now,
            )
        for search in pending:
            last_day = search.today + timedelta(days=days - 1)
            _advance(search, busy[search.motive.agenda_id], last_day, now)
    return searches, busy


def _next_new_slot(search: _MotiveSearch, now: datetime) -> datetime | None:
    """When the passage of time alone lets a new slot into an exhausted horizon."""
    motive = search.motive
    latest = now + motive.horizon
    grid = availability.free_slots(
        windows=search.windows,
        busy=[],
        zone=search.zone,
        first_day=search.horizon_day,
        last_day=search.horizon_day + timedelta(days=_LOOKAHEAD_DAYS),
        duration=motive.duration,
        now=now,
    )
    following = next((start for start in grid if start > latest), None)
    if following is None:
        return None
    return following - motive.horizon


def _row(search: _MotiveSearch, busy: _AgendaBusy, now: datetime) -> NextAvailability:
    """The index row of one finished search, with the instant it goes stale."""
    candidates = list(busy.hold_expiries)
    if search.exhausted:
        if search.windows:
            candidates.append(_next_new_slot(search, now))
    elif len(search.slots) > N_SLOTS - LOW_WATER:
        candidates.append(search.slots[N_SLOTS - LOW_WATER] - search.motive.min_notice)
    return NextAvailability(
        agenda_id=search.motive.agenda_id,
        motive_id=search.motive.pk,
        slots=[slot.isoformat() for slot in search.slots],
        first_slot_at=search.slots[0] if search.slots else None,
        exhausted=search.exhausted,
        computed_at=now,
        stale_at=min((c for c in candidates if c is not None), default=None),
    )


def _record_summaries(
    agenda_ids: Sequence[int],
    rows: Sequence[NextAvailability],
    motives: dict[int, VisitMotive],
) -> None:
    """Tell the directory each agenda's earliest slot, for new patients and by video."""
    firsts: dict[int, dict[str, datetime]] = {pk: {} for pk in agenda_ids}
    for row in rows:
        if row.first_slot_at is None:
            continue
        motive = motives[row.motive_id]
        kinds = ["any"]
        if motive.open_to_new_patients:
            kinds.append("new")
        if motive.channel == VisitMotive.Channel.VIDEO:
            kinds.append("video")
        summary = firsts[row.agenda_id]
        for kind in kinds:
            if kind not in summary or row.first_slot_at < summary[kind]:
                summary[kind] = row.first_slot_at
    for agenda_id in agenda_ids:
        summary = firsts[agenda_id]
        record_next_availability(
            agenda_id=agenda_id,
            next_slot_at=summary.get("any"),
            next_new_slot_at=summary.get("new"),
            next_video_slot_at=summary.get("video"),
        )


def _refresh(agenda_ids: Sequence[int], now: datetime) -> None:
    """Recompute and store the rows of `agenda_ids` (caller holds their locks)."""
    agendas = Agenda.objects.filter(pk__in=agenda_ids, is_active=True).in_bulk()
    motives = list(
        VisitMotive.objects.filter(
            agenda_id__in=list(agendas), is_active=True
        ).order_by("pk")
    )
    for motive in motives:
        motive.agenda = agendas[motive.agenda_id]
    searches, busy = _search_all(agendas, motives, now)
    rows = [_row(s, busy[s.motive.agenda_id], now) for s in searches]
    NextAvailability.objects.filter(agenda_id__in=agenda_ids).delete()
    NextAvailability.objects.bulk_create(rows, batch_size=1000)
    SlotHold.objects.filter(
        agenda_id__in=agenda_ids, expires_at__lte=now - HOLD_GRACE
    ).delete()
    _record_summaries(agenda_ids, rows, {m.pk: m for m in motives})


def refresh_agenda(*, agenda_id: int, now: datetime | None = None) -> None:
    """Recompute the next free slots of every active motive of `agenda_id`.

    Stores one NextAvailability row per active motive (none for an inactive
    agenda) and records the agenda's summary in the directory. Takes the
    agenda's row lock (a no-op when the caller already holds it, as the
    booking services do: call it inside their transaction, after the change).
    """
    now = timezone.now() if now is None else now
    with transaction.atomic():
        _lock(agenda_ids=[agenda_id])
        _refresh([agenda_id], now)


def _lock(*, agenda_ids: Sequence[int], skip_locked: bool = False) -> list[int]:
    """Lock the agendas' rows in id order; return those locked.

    With `skip_locked`, agendas another transaction holds are left out: that
    transaction is a booking, which refreshes them itself.
    """
    rows = Agenda.objects.select_for_update(skip_locked=skip_locked).filter(
        pk__in=agenda_ids
    )
    return list(rows.order_by("pk").values_list("pk", flat=True))


def _shown(
    row: NextAvailability,
    motive: VisitMotive,
    held: list[tuple[datetime, datetime]],
    now: datetime,
) -> list[datetime]:
    """The stored slots still bookable now: notice, horizon, nobody's hold."""
    earliest = now + motive.min_notice
    latest = now + motive.horizon
    return [
        slot
        for slot in row.slot_instants()
        if slot > now
        and earliest <= slot <= latest
        and not any(s < slot + motive.duration and slot < e for s, e in held)
    ]


def _is_stale(
    row: NextAvailability | None, shown: list[datetime], wanted: int, now: datetime
) -> bool:
    if row is None:
        return True
    if row.computed_at > now or row.computed_at < now - TTL:
        return True
    if row.stale_at is not None and row.stale_at <= now:
        return True
    return not row.exhausted and len(shown) < wanted


def next_slots(
    *,
    agenda_ids: list[int],
    new_patient: bool = True,
    channel: str | None = None,
    now: datetime | None = None,
    limit: int = 4,
) -> dict[int, ShownSlots]:
    """Per agenda, the motive to offer and its next `limit` free slots (UTC).

    Only active motives of active agendas are considered; with `new_patient`
    only those open to new patients, with `channel` only that channel. The
    motive whose first slot comes earliest wins (ties: the lowest id). Each
    slot is bookable now. Stale rows are recomputed first, and only those.
    Agendas with nothing bookable map to ``ShownSlots(None, [])``; unknown or
    inactive agendas too.
    """
    now = timezone.now() if now is None else now
    wanted = max(0, min(limit, N_SLOTS))
    ids = list(dict.fromkeys(agenda_ids))
    motives = VisitMotive.objects.filter(
        agenda_id__in=ids, agenda__is_active=True, is_active=True
    ).order_by("pk")
    if new_patient:
        motives = motives.filter(open_to_new_patients=True)
    if channel:
        motives = motives.filter(channel=channel)
    motives_list = list(motives.select_related("agenda"))
    result, stale = _read(motives_list, wanted, now)
    if stale:
        with transaction.atomic():
            _refresh(_lock(agenda_ids=sorted(stale)), now)
        result, _ = _read(motives_list, wanted, now)
    return {
        agenda_id: result.get(agenda_id, ShownSlots(motive=None, slots=[]))
        for agenda_id in ids
    }


def _read(
    motives: list[VisitMotive], wanted: int, now: datetime
) -> tuple[dict[int, ShownSlots], set[int]]:
    """The stored answer per agenda, and the agendas with a stale row."""
    rows = NextAvailability.objects.filter(motive__in=motives).in_bulk(
        field_name="motive_id"
    )
    held: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for agenda_id, s, e in (
        SlotHold.objects.live(now)
        .filter(agenda_id__in={m.agenda_id for m in motives})
        .values_list("agenda_id", "starts_at", "ends_at")
    ):
        held[agenda_id].append((s, e))
    result: dict[int, ShownSlots] = {}
    stale: set[int] = set()
    for motive in motives:
        row = rows.get(motive.pk)
        shown = _shown(row, motive, held[motive.agenda_id], now) if row else []
        if _is_stale(row, shown, wanted, now):
            stale.add(motive.agenda_id)
        best = result.get(motive.agenda_id)
        if shown and (best is None or not best.slots or shown[0] < best.slots[0]):
            result[motive.agenda_id] = ShownSlots(motive=motive, slots=shown[:wanted])
    return result, stale


def _batches(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    iterator = iter(ids)
    while batch := list(islice(iterator, size)):
        yield batch


def _refresh_batch(agenda_ids: list[int], now: datetime | None) -> int:
    """Refresh one batch in one transaction; agendas being booked are skipped."""
    with transaction.atomic():
        locked = _lock(agenda_ids=agenda_ids, skip_locked=True)
        _refresh(locked, timezone.now() if now is None else now)
    return len(locked)


def _refresh_batch_in_child(job: tuple[list[int], datetime | None]) -> tuple[int, int]:
    agenda_ids, now = job
    try:
        return _refresh_batch(agenda_ids, now), len(agenda_ids)
    finally:
        connections.close_all()


def list_stale_agenda_ids(*, now: datetime | None = None) -> list[int]:
    """Agendas whose index needs a refresh: stale, missing or obsolete rows."""
    now = timezone.now() if now is None else now
    stale_rows = NextAvailability.objects.filter(
        Q(computed_at__lt=now - TTL)
        | Q(computed_at__gt=now)
        | Q(stale_at__lte=now)
        | Q(motive__is_active=False)
        | Q(agenda__is_active=False)
    ).values_list("agenda_id", flat=True)
    missing = VisitMotive.objects.filter(
        is_active=True, agenda__is_active=True, next_availability__isnull=True
    ).values_list("agenda_id", flat=True)
    return sorted({*stale_rows, *missing})


def refresh_all(
    *,
    now: datetime | None = None,
    batch: int = 500,
    stale_only: bool = False,
    workers: int = 1,
    on_progress=None,
) -> int:
    """Recompute the index of every agenda (or only the stale ones); return how many.

    Works in batches of `batch` agendas, one transaction each, with busy time
    loaded per batch; with `workers` > 1, batches run in that many forked
    processes (PostgreSQL: SQLite serialises writers anyway). Agendas being
    booked at that moment are skipped: the booking refreshes them.
    `on_progress(n)` is called after each batch with its size. Each batch is
    computed at its own current time unless `now` is given.
    """
    if stale_only:
        ids = list_stale_agenda_ids(now=now)
    else:
        ids = sorted(
            {
                *Agenda.objects.filter(is_active=True).values_list("pk", flat=True),
                *NextAvailability.objects.values_list("agenda_id", flat=True),
            }
        )
    done = 0
    if workers <= 1:
        for chunk in _batches(ids, batch):
            done += _refresh_batch(chunk, now)
            if on_progress:
                on_progress(len(chunk))
        return done
    connections.close_all()  # children open their own connections
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        chunks = [(chunk, now) for chunk in _batches(ids, batch)]
        for count, size in pool.imap_unordered(_refresh_batch_in_child, chunks):
            done += count
            if on_progress:
                on_progress(size)
    return done
