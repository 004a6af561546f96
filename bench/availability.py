#!/usr/bin/env python3
"""Availability: time a 28-day free-slot computation for a sample of agendas.

In-process (no HTTP): for each sampled agenda, `list_free_slots` of its first
active motive (or of every motive with --all-motives), timed as one call per
agenda, the queries it runs included. With --http URL the same agendas are
then timed over GET /api/v1/agendas/{id}/availability, one request at a time.

Run it through the wrapper: bench/availability --help.
"""

import argparse
import random
import sys
import time
from datetime import UTC, datetime

import benchlib


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/availability",
        description="Time availability computations (in-process, optionally HTTP).",
    )
    parser.add_argument("--agendas", type=int, default=200, help="agendas sampled")
    parser.add_argument("--days", type=int, default=28, help="days per computation")
    parser.add_argument(
        "--all-motives",
        action="store_true",
        help="time every active motive of an agenda (default: the first)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the sample")
    parser.add_argument(
        "--http", metavar="URL", help="also time the API at URL (loopback only)"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="HTTP timeout (s)")
    args = parser.parse_args(argv)
    if not 1 <= args.agendas <= 100_000:
        parser.error("--agendas must be in 1..100000")
    if not 1 <= args.days <= 62:
        parser.error("--days must be in 1..62")
    if args.http:
        args.http = benchlib.require_loopback(args.http)
    return args


class QueryCounter:
    """Counts the SQL statements run through a connection (execute_wrapper)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def sample_motives(args: argparse.Namespace) -> list[list]:
    """For `--agendas` random bookable agendas: the motives to time, in pk order."""
    from django.db.models import Prefetch

    from carnet.scheduling.models import Agenda, VisitMotive

    ids = sorted(
        Agenda.objects.filter(
            is_active=True, motives__is_active=True, opening_rules__isnull=False
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    chosen = random.Random(args.seed).sample(ids, min(args.agendas, len(ids)))
    motives = VisitMotive.objects.filter(is_active=True).order_by("pk")
    agendas = Agenda.objects.filter(pk__in=chosen).prefetch_related(
        Prefetch("motives", queryset=motives, to_attr="active_motives")
    )
    by_id = {a.pk: a for a in agendas}
    picked = []
    for pk in chosen:
        active = by_id[pk].active_motives
        for motive in active:
            motive.agenda = by_id[pk]  # as get_motive() would have loaded it
        picked.append(active if args.all_motives else active[:1])
    return picked


def time_in_process(
    picked: list[list], days: int
) -> tuple[list[float], list[int], list[int]]:
    """Seconds, slots and queries per agenda (one warm-up call first, untimed)."""
    from django.db import connection
    from django.utils import timezone

    from carnet.booking.selectors import list_free_slots

    def compute(motives: list) -> int:
        now = timezone.now()
        return sum(
            len(
                list_free_slots(
                    motive=motive,
                    first_day=now.astimezone(motive.agenda.zone).date(),
                    days=days,
                    now=now,
                )
            )
            for motive in motives
        )

    compute(picked[0])
    seconds, slots, queries = [], [], []
    for motives in picked:
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            began = time.perf_counter()
            slots.append(compute(motives))
            seconds.append(time.perf_counter() - began)
        queries.append(counter.count)
    return seconds, slots, queries


def time_http(
    picked: list[list], args: argparse.Namespace, expected: list[int]
) -> tuple[list[float], list[int], int]:
    """Seconds per agenda over HTTP, statuses, and how many slot counts differ."""
    import httpx

    seconds, statuses, differ = [], [], 0
    with httpx.Client(base_url=args.http, timeout=args.timeout) as client:
        for motives, in_process in zip(picked, expected, strict=True):
            began, count, status = time.perf_counter(), 0, 200
            for motive in motives:
                try:
                    response = client.get(
                        f"/api/v1/agendas/{motive.agenda_id}/availability",
                        params={"motive": motive.pk, "days": args.days},
                    )
                except httpx.TransportError:
                    status = 0
                    continue
                if response.status_code != 200:
                    status = response.status_code
                    continue
                count += len(response.json()["slots"])
            seconds.append(time.perf_counter() - began)
            statuses.append(status)
            differ += status == 200 and count != in_process
    return seconds, statuses, differ


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    benchlib.setup_django()
    print(f"Carnet availability bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"database      {benchlib.database_label()}")
    created = benchlib.ensure_bench_agendas(args.agendas, seed=args.seed)
    if created:
        print(
            f"setup         created {created} bench agendas (too few in the database)"
        )
    picked = sample_motives(args)
    motive_count = sum(len(m) for m in picked)
    which = "every active motive" if args.all_motives else "first active motive"
    print(
        f"sample        {len(picked)} agendas (seed {args.seed}), {which}: "
        f"{motive_count} computations of {args.days} days"
    )
    seconds, slots, queries = time_in_process(picked, args.days)
    print("in-process list_free_slots, per agenda (ms)")
    print(f"  {benchlib.summary_ms(seconds)}")
    print(
        f"  slots: {sum(slots)} in all, per agenda min {min(slots)} / "
        f"mean {sum(slots) / len(slots):.0f} / max {max(slots)}; "
        f"SQL queries per agenda: max {max(queries)}, "
        f"mean {sum(queries) / len(queries):.1f}"
    )
    status = 0
    if args.http:
        http_seconds, statuses, differ = time_http(picked, args, slots)
        print(f"HTTP GET {args.http}/api/v1/agendas/ID/availability, per agenda (ms)")
        print(f"  {benchlib.summary_ms(http_seconds)}")
        failures = sum(s != 200 for s in statuses)
        print(
            f"  non-200 answers: {failures}; slot counts differing from in-process: "
            f"{differ} (a booking in between, or the clock crossing a slot, explains a few)"
        )
        status = 1 if failures else 0
    print(f"rerun         {benchlib.rerun_command('availability', argv)}")
    return status


if __name__ == "__main__":
    benchlib.ensure_venv()
    sys.exit(main(sys.argv[1:]))
