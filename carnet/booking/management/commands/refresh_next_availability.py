"""`manage.py refresh_next_availability`: rebuild the next-availability index."""

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from carnet.booking.nextslots import list_stale_agenda_ids, refresh_all


class Command(BaseCommand):
    help = (
        "Recompute the first free slots of every active visit motive (the index "
        "search results show). With --stale, only the agendas whose index is stale "
        "or missing: run it every few minutes from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stale",
            action="store_true",
            help="Only the agendas whose index is stale or missing.",
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=500,
            help="Agendas per transaction (default 500).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="Parallel processes (PostgreSQL only; default 1).",
        )

    def handle(self, *args, stale: bool, batch: int, workers: int, **options) -> None:
        if batch < 1 or workers < 1:
            raise CommandError("--batch and --workers must be positive.")
        started = time.monotonic()
        total = len(list_stale_agenda_ids()) if stale else None
        with tqdm(
            total=total, unit="agenda", desc="refresh", disable=None, mininterval=2.0
        ) as bar:
            count = refresh_all(
                batch=batch,
                stale_only=stale,
                workers=workers,
                on_progress=bar.update,
            )
        elapsed = time.monotonic() - started
        rate = count / elapsed if elapsed > 0 else 0.0
        self.stdout.write(
            self.style.SUCCESS(
                f"Refreshed {count} agendas in {elapsed:.1f}s ({rate:.0f} agendas/s)."
            )
        )
