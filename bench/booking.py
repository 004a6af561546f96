#!/usr/bin/env python3
"""Booking under contention: concurrent API clients race for the same free slots.

Drives a RUNNING server over HTTP (loopback only). Setup goes through Django
in-process, on the server's database (same CARNET_DATABASE_URL): bench patients
bench-N@carnet.test with fresh tokens, and bench agendas if the database has too
few. Targets are agendas whose availability (over the API) has free slots.

Clients are split into groups of `--contention`; the clients of a group try the
same slots in the same order, so each slot is raced for by that many clients:
one gets 201, the others 409 slot_unavailable. Afterwards the database is
searched for double bookings (two active appointments of one agenda whose
times overlap), which must not exist.

Run it through the wrapper: bench/booking --help.
"""

import argparse
import math
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import benchlib

PAGE_SIZE = 20
MIN_SLOTS = 10
MAX_CONSECUTIVE_TRANSPORT_ERRORS = 20


@dataclass(frozen=True, slots=True)
class Slot:
    """One bookable start of one motive of one agenda."""

    agenda: int
    motive: int
    start: str


@dataclass(slots=True)
class ClientResult:
    """What one client saw: one entry per POST /appointments."""

    statuses: list[int] = field(default_factory=list)  # 0 = transport error
    latencies: list[float] = field(default_factory=list)  # seconds
    codes: Counter = field(default_factory=Counter)  # problem codes of 4xx/5xx
    booked_ids: list[int] = field(default_factory=list)
    transport_errors: Counter = field(default_factory=Counter)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/booking",
        description="Concurrent booking against a running Carnet server (loopback only).",
    )
    parser.add_argument(
        "base_url", nargs="?", default="http://127.0.0.1:8000", help="server base URL"
    )
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument(
        "--duration", type=float, default=30.0, help="seconds of booking (upper bound)"
    )
    parser.add_argument(
        "--bookings",
        type=int,
        default=0,
        help="stop after this many 201s (0: run for --duration)",
    )
    parser.add_argument(
        "--contention", type=int, default=4, help="clients racing for each slot"
    )
    parser.add_argument(
        "--agendas", type=int, default=0, help="agendas to book into (0: 2 per group)"
    )
    parser.add_argument(
        "--patients", type=int, default=0, help="bench patients (0: one per client)"
    )
    parser.add_argument(
        "--days", type=int, default=28, help="days of availability to book into"
    )
    parser.add_argument(
        "--lockstep",
        action="store_true",
        help="the clients of a group wait for each other before each slot, "
        "so that every slot is raced for at the same instant",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="HTTP timeout (s)")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument(
        "--reset",
        action="store_true",
        help="first delete the appointments of earlier bench runs",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 512:
        parser.error("--clients must be in 1..512")
    if not 1 <= args.contention <= args.clients:
        parser.error("--contention must be in 1..--clients")
    if not 0 < args.duration <= 3600:
        parser.error("--duration must be in (0, 3600]")
    if not 1 <= args.days <= 62:
        parser.error("--days must be in 1..62")
    args.base_url = benchlib.require_loopback(args.base_url)
    args.groups = math.ceil(args.clients / args.contention)
    args.agendas = args.agendas or 2 * args.groups
    args.patients = args.patients or args.clients
    if args.agendas < args.groups:
        parser.error(f"--agendas must be at least the number of groups ({args.groups})")
    return args


def open_motive_ids(motive_ids: list[int]) -> set[int]:
    """Those of `motive_ids` a new patient may book (others would answer 403)."""
    from carnet.scheduling.models import VisitMotive

    return set(
        VisitMotive.objects.filter(
            pk__in=motive_ids, open_to_new_patients=True, is_active=True
        ).values_list("pk", flat=True)
    )


def find_targets(client, args: argparse.Namespace) -> dict[tuple[int, int], list[str]]:
    """Agenda/motive pairs with at least MIN_SLOTS free slots, via the API.

    Walks the practitioner search from a random page; for each agenda takes
    the first motive open to new patients. Bounded in pages and requests.
    """
    rng = random.Random(args.seed)
    first = client.get("/api/v1/practitioners", params={"page": 1})
    first.raise_for_status()
    pages = max(1, math.ceil(first.json()["count"] / PAGE_SIZE))
    page = rng.randrange(pages) + 1
    day_from = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    targets: dict[tuple[int, int], list[str]] = {}
    budget = 5 * args.agendas + 50  # availability requests
    for _ in range(min(pages, 200)):
        response = client.get("/api/v1/practitioners", params={"page": page})
        response.raise_for_status()
        candidates = [
            (agenda["id"], [m["id"] for m in agenda["motives"]])
            for item in response.json()["items"]
            for agenda in item["agendas"]
        ]
        bookable = open_motive_ids([m for _, ms in candidates for m in ms])
        for agenda, motives in candidates:
            motive = next((m for m in motives if m in bookable), None)
            if motive is None or budget <= 0:
                continue
            budget -= 1
            availability = client.get(
                f"/api/v1/agendas/{agenda}/availability",
                params={"motive": motive, "from": day_from, "days": args.days},
            )
            if availability.status_code != 200:
                continue
            slots = availability.json()["slots"]
            if len(slots) >= MIN_SLOTS:
                targets[agenda, motive] = slots
            if len(targets) >= args.agendas:
                return targets
        if budget <= 0:
            break
        page = page % pages + 1
    return targets


def build_groups(
    targets: dict[tuple[int, int], list[str]], groups: int
) -> list[list[Slot]]:
    """Targets dealt round-robin to groups; each group's slots in time order."""
    dealt: list[list[Slot]] = [[] for _ in range(groups)]
    for index, ((agenda, motive), starts) in enumerate(sorted(targets.items())):
        dealt[index % groups].extend(Slot(agenda, motive, s) for s in starts)
    for slots in dealt:
        slots.sort(key=lambda slot: (datetime.fromisoformat(slot.start), slot.agenda))
    return dealt


class StopAfter:
    """Counts 201s across clients; set once `limit` is reached (0: never)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.done = threading.Event()
        self._count = 0
        self._lock = threading.Lock()

    def booked(self) -> None:
        if not self.limit:
            return
        with self._lock:
            self._count += 1
            if self._count >= self.limit:
                self.done.set()


def run_client(
    *,
    base_url: str,
    token: str,
    slots: list[Slot],
    timeout: float,
    start_line: threading.Barrier,
    pace: threading.Barrier | None,
    deadline_holder: list[float],
    stop: StopAfter,
    result: ClientResult,
) -> None:
    """POST every slot of the group in order until the deadline, the limit or the end.

    With `pace` (--lockstep), the clients of the group wait for each other
    before each slot; the first to leave breaks the barrier for the others.
    """
    try:
        _post_slots(
            base_url=base_url,
            token=token,
            slots=slots,
            timeout=timeout,
            start_line=start_line,
            pace=pace,
            deadline_holder=deadline_holder,
            stop=stop,
            result=result,
        )
    finally:
        if pace is not None:
            pace.abort()


def _post_slots(
    *,
    base_url: str,
    token: str,
    slots: list[Slot],
    timeout: float,
    start_line: threading.Barrier,
    pace: threading.Barrier | None,
    deadline_holder: list[float],
    stop: StopAfter,
    result: ClientResult,
) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=timeout) as client:
        start_line.wait()
        deadline = deadline_holder[0]
        consecutive_errors = 0
        for slot in slots:
            if stop.done.is_set() or time.monotonic() >= deadline:
                break
            if pace is not None:
                try:
                    pace.wait()
                except threading.BrokenBarrierError:
                    break
            payload = {
                "agenda": slot.agenda,
                "motive": slot.motive,
                "start": slot.start,
                # A visit reason, as patients give: sealed by the vault on the way in.
                "reason": REASON,
            }
            began = time.perf_counter()
            try:
                response = client.post("/api/v1/appointments", json=payload)
            except httpx.TransportError as exc:
                result.statuses.append(0)
                result.transport_errors[type(exc).__name__] += 1
                consecutive_errors += 1
                if consecutive_errors >= MAX_CONSECUTIVE_TRANSPORT_ERRORS:
                    break
                continue
            consecutive_errors = 0
            result.latencies.append(time.perf_counter() - began)
            result.statuses.append(response.status_code)
            if response.status_code == 201:
                result.booked_ids.append(response.json()["id"])
                stop.booked()
            else:
                try:
                    code = response.json().get("code", "?")
                except ValueError:
                    code = "(not JSON)"
                result.codes[response.status_code, code] += 1


REASON = "Douleur au genou droit depuis trois jours, gonflement le soir."


def run_load(
    args: argparse.Namespace, tokens: list[str], groups: list[list[Slot]]
) -> tuple[list[ClientResult], float]:
    """Start every client at once; returns their results and the wall time."""
    deadline_holder = [0.0]

    def start_the_clock() -> None:
        deadline_holder[0] = time.monotonic() + args.duration

    # Every client has its connection object ready; the clock starts on release.
    start_line = threading.Barrier(args.clients + 1, action=start_the_clock, timeout=60)
    stop = StopAfter(args.bookings)
    results = [ClientResult() for _ in range(args.clients)]
    paces = [
        threading.Barrier(
            min(args.contention, args.clients - g * args.contention),
            timeout=args.timeout + 5,
        )
        if args.lockstep
        else None
        for g in range(args.groups)
    ]
    threads = [
        threading.Thread(
            target=run_client,
            name=f"client-{n}",
            kwargs={
                "base_url": args.base_url,
                "token": tokens[n % len(tokens)],
                "slots": groups[n // args.contention],
                "timeout": args.timeout,
                "start_line": start_line,
                "pace": paces[n // args.contention],
                "deadline_holder": deadline_holder,
                "stop": stop,
                "result": results[n],
            },
            daemon=True,
        )
        for n in range(args.clients)
    ]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    hard_stop = time.monotonic() + args.duration + args.timeout + 30
    for thread in threads:
        thread.join(timeout=max(0.0, hard_stop - time.monotonic()))
    wall = time.perf_counter() - began
    stragglers = sum(thread.is_alive() for thread in threads)
    if stragglers:
        print(f"WARNING: {stragglers} clients did not finish in time")
    return results, wall


def report(
    args: argparse.Namespace,
    results: list[ClientResult],
    wall: float,
    run_started: datetime,
) -> int:
    """Print the figures and the database checks; returns the exit status."""
    statuses = Counter(s for r in results for s in r.statuses)
    latencies = [lat for r in results for lat in r.latencies]
    by_status: dict[int, list[float]] = {}
    for r in results:
        for status, latency in zip(
            (s for s in r.statuses if s), r.latencies, strict=True
        ):
            by_status.setdefault(status, []).append(latency)
    codes = sum((r.codes for r in results), Counter())
    transport = sum((r.transport_errors for r in results), Counter())
    total = sum(statuses.values())
    created = statuses[201]
    other_4xx = sum(n for s, n in statuses.items() if 400 <= s < 500 and s != 409)
    server_errors = sum(n for s, n in statuses.items() if s >= 500)
    other = sum(n for s, n in statuses.items() if 0 < s < 400 and s != 201)

    print(f"requests      {total}  ({total / wall:.1f}/s over {wall:.1f} s)")
    print(f"bookings/s    {created / wall:.1f}  ({created} bookings, HTTP 201)")
    print("POST /api/v1/appointments latency (ms)")
    print(f"  all         {benchlib.summary_ms(latencies)}")
    for status in sorted(by_status):
        print(f"  {status}         {benchlib.summary_ms(by_status[status])}")
    print(
        f"status        201: {created}  409: {statuses[409]}  other 4xx: {other_4xx}  "
        f"5xx: {server_errors}  transport errors: {statuses[0]}"
        + (f"  other: {other}" if other else "")
    )
    for (status, code), count in sorted(codes.items()):
        print(f"  {status} {code}: {count}")
    for name, count in sorted(transport.items()):
        print(f"  transport {name}: {count}")

    booked = {pk for r in results for pk in r.booked_ids}
    in_database = set(
        benchlib.bench_appointments()
        .filter(created_at__gte=run_started)
        .values_list("pk", flat=True)
    )
    print("database check")
    print(
        f"  appointments of this run in the database: {len(in_database)}  "
        f"(distinct ids answered with 201: {len(booked)})"
    )
    lost, unanswered = booked - in_database, in_database - booked
    if lost or unanswered:
        print(
            f"  MISMATCH: answered 201 but not stored: {sorted(lost)[:10]}; "
            f"stored without a 201: {sorted(unanswered)[:10]}"
        )
    doubles, sample = benchlib.find_double_bookings()
    print(f"  double bookings found: {doubles}")
    for row in sample:
        print(f"    {row}")

    failed = server_errors > 0 or doubles > 0 or created == 0
    if server_errors:
        print("FAIL: the server answered 5xx (see its log)")
    if created == 0:
        print("FAIL: nothing was booked")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    benchlib.setup_django()
    import httpx

    print(f"Carnet booking bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"server        {args.base_url}")
    print(f"database      {benchlib.database_label()}")
    created = benchlib.ensure_bench_agendas(args.agendas, seed=args.seed)
    if created:
        print(
            f"setup         created {created} bench agendas (too few in the database)"
        )
    if args.reset:
        deleted, _ = benchlib.bench_appointments().delete()
        print(f"setup         deleted {deleted} rows of earlier bench runs (--reset)")
    tokens = [raw for _, raw in benchlib.ensure_bench_patients(args.patients)]
    try:
        with httpx.Client(base_url=args.base_url, timeout=args.timeout) as client:
            targets = find_targets(client, args)
    except httpx.HTTPError as exc:
        print(f"ERROR: {args.base_url} does not answer the API: {exc!r}")
        return 2
    if len(targets) < args.groups:
        print(
            f"ERROR: found {len(targets)} agendas with free slots, need at least "
            f"{args.groups} (one per group); seed more practitioners"
        )
        return 2
    groups = build_groups(targets, args.groups)
    slot_count = sum(len(s) for s in targets.values())
    print(
        f"clients       {args.clients} in {args.groups} groups racing for the same "
        f"slots ({args.contention} per slot{', in lockstep' if args.lockstep else ''}), "
        f"{args.patients} patients"
    )
    print(
        f"targets       {len(targets)} agendas, {slot_count} free slots over "
        f"{args.days} days (smallest group: {min(len(g) for g in groups)} slots)"
    )
    limit = f", or {args.bookings} bookings" if args.bookings else ""
    print(f"limit         {args.duration:g} s{limit}")
    run_started = datetime.now(UTC) - timedelta(seconds=1)
    results, wall = run_load(args, tokens, groups)
    status = report(args, results, wall, run_started)
    print(f"rerun         {benchlib.rerun_command('booking', argv)}")
    return status


if __name__ == "__main__":
    benchlib.ensure_venv()
    sys.exit(main(sys.argv[1:]))
