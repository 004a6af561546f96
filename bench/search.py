#!/usr/bin/env python3
"""Search: latency of the search page and of the search API, next free slots included.

A mix of realistic queries (specialties typed with and without accents, with a
typo or cut short, practitioner names, cities and postcodes, filters, the three
sorts) is sent by `--clients` concurrent clients to a running server: first to
GET /search/ (the HTML page, whose results carry their next free slots), then
to GET /api/v1/practitioners (JSON). Prints p50/p95/p99 per target, the
throughput, and how many results showed bookable slots.

Run it through the wrapper: bench/search --help. The data set is the seed's:
`manage.py seed --practitioners 100000` then `manage.py refresh_next_availability`.
"""

import argparse
import random
import re
import sys
import threading
import time
from datetime import UTC, datetime

import benchlib

SPECIALTY_WORDS = [
    "pediatre",
    "pédiatre",
    "generaliste",
    "médecin généraliste",
    "dermatolog",
    "dermatologue",
    "gynecologue",
    "ophtalmo",
    "cardiologue",
    "kinesitherapeute",
    "dentiste",
    "psychiatre",
    "Allgemeinmedizin",
    "Kinderarzt",
    "Hautarzt",
    "Zahnarzt",
    "pediatra",
    "dermatologo",
    "medico di base",
    "ginecologo",
    "pediatr",
    "dermatologe",
    "generalist",
]
CITIES = [
    "Paris",
    "Lyon",
    "Marseille",
    "Toulouse",
    "Bordeaux",
    "Lille",
    "Nantes",
    "Strasbourg",
    "Munchen",
    "München",
    "Berlin",
    "Hamburg",
    "Koln",
    "Frankfurt",
    "Milano",
    "Roma",
    "Torino",
    "Napoli",
    "75011",
    "69003",
    "10115",
]
FILTERS = [
    {},
    {},
    {},
    {"video": "on"},
    {"new_patients": "on"},
    {"language": "en"},
    {"within": "7"},
    {"fee_sector": "fr_1"},
    {"sort": "earliest"},
    {"sort": "distance"},
]
SLOT = re.compile(rb'name="start"')
RESULT = re.compile(rb'class="card result"')


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/search",
        description="Latency of the search page and API under concurrent clients.",
    )
    parser.add_argument(
        "url", help="server to load (loopback only), e.g. http://127.0.0.1:8001"
    )
    parser.add_argument("--requests", type=int, default=400, help="requests per target")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument(
        "--seed", type=int, default=1, help="random seed of the query mix"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout (s)")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 100_000:
        parser.error("--requests must be in 1..100000")
    if not 1 <= args.clients <= 64:
        parser.error("--clients must be in 1..64")
    args.url = benchlib.require_loopback(args.url)
    return args


def query_mix(count: int, seed: int) -> list[dict[str, str]]:
    """`count` search queries: a specialty or a name, a place, maybe a filter."""
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        query = {"q": rng.choice(SPECIALTY_WORDS), "place": rng.choice(CITIES)}
        query.update(rng.choice(FILTERS))
        queries.append(query)
    return queries


def run(args: argparse.Namespace, path: str, queries: list[dict], api: bool) -> dict:
    """Send `queries` to `path` with `args.clients` threads; durations and counts."""
    import httpx

    lock = threading.Lock()
    todo = list(enumerate(queries))
    seconds: list[float] = []
    stats = {"errors": 0, "results": 0, "with_slots": 0, "empty": 0}

    def worker() -> None:
        with httpx.Client(base_url=args.url, timeout=args.timeout) as client:
            while True:
                with lock:
                    if not todo:
                        return
                    _, params = todo.pop()
                if api:
                    params = {
                        "q": params["q"],
                        "place": params["place"],
                        **{k: v for k, v in params.items() if k not in ("q", "place")},
                    }
                    params = {
                        k: ("true" if v == "on" else v) for k, v in params.items()
                    }
                began = time.perf_counter()
                try:
                    response = client.get(path, params=params)
                except httpx.TransportError:
                    with lock:
                        stats["errors"] += 1
                    continue
                elapsed = time.perf_counter() - began
                with lock:
                    seconds.append(elapsed)
                    if response.status_code != 200:
                        stats["errors"] += 1
                        continue
                    if api:
                        items = response.json().get("items", [])
                        stats["results"] += len(items)
                        stats["with_slots"] += sum(
                            bool(i.get("next_slots")) for i in items
                        )
                        stats["empty"] += not items
                    else:
                        found = len(RESULT.findall(response.content))
                        stats["results"] += found
                        stats["with_slots"] += _slotted(response.content)
                        stats["empty"] += not found

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats["wall"] = time.perf_counter() - began
    stats["seconds"] = seconds
    return stats


def _slotted(page: bytes) -> int:
    """Results of a page that show at least one slot button."""
    return sum(
        1 for block in page.split(b'class="card result"')[1:] if SLOT.search(block)
    )


def report(label: str, stats: dict, count: int) -> None:
    print(label)
    print(f"  {benchlib.summary_ms(stats['seconds'])}")
    print(
        f"  throughput {count / stats['wall']:.1f} req/s; non-200 or failed: "
        f"{stats['errors']}; queries with no result: {stats['empty']}; results "
        f"shown: {stats['results']}, with next free slots: {stats['with_slots']}"
    )


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    benchlib.setup_django()
    import logging

    logging.getLogger("httpx").setLevel(
        logging.WARNING
    )  # one line per request otherwise
    from carnet.directory.models import Practitioner, SearchEntry

    print(f"Carnet search bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"database      {benchlib.database_label()}")
    print(
        f"data          {Practitioner.objects.count()} practitioners, "
        f"{SearchEntry.objects.count()} search entries, "
        f"{SearchEntry.objects.exclude(next_slot_at=None).count()} with a next slot"
    )
    queries = query_mix(args.requests, args.seed)
    print(
        f"load          {args.requests} requests per target, {args.clients} clients, seed {args.seed}"
    )
    status = 0
    for label, path, api in (
        ("GET /search/ (HTML page, next slots inline)", "/search/", False),
        ("GET /api/v1/practitioners (JSON, next slots)", "/api/v1/practitioners", True),
    ):
        stats = run(args, path, queries, api)
        report(label, stats, len(queries))
        status |= bool(stats["errors"])
    print(f"rerun         {benchlib.rerun_command('search', argv)}")
    return status


if __name__ == "__main__":
    benchlib.ensure_venv()
    sys.exit(main(sys.argv[1:]))
