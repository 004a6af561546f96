"""`manage.py seed`: load the demo data set (idempotent)."""

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from carnet.directory.demo.generator import MAX_PRACTITIONERS
from carnet.directory.demo.loader import DEFAULT_BATCH_SIZE, DEMO_ACCOUNTS, seed_demo

ALWAYS_SHOW_PROGRESS = 10_000


class Command(BaseCommand):
    help = (
        "Load a realistic demo data set: specialties, practices in French, German and "
        "Italian cities, practitioners with agendas, patients, appointments, and three "
        "demo logins. Idempotent: a second run creates nothing; a larger "
        "--practitioners adds only the missing ones."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--practitioners",
            type=int,
            default=300,
            help="How many practitioners the data set has (default 300).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Practitioners per transaction (default {DEFAULT_BATCH_SIZE}).",
        )

    def handle(self, *args, practitioners: int, batch_size: int, **options) -> None:
        if not 1 <= practitioners <= MAX_PRACTITIONERS:
            raise CommandError(
                f"--practitioners must be between 1 and {MAX_PRACTITIONERS:,}."
            )
        if batch_size < 1:
            raise CommandError("--batch-size must be positive.")
        started = time.monotonic()
        # The bar goes to stderr; it hides itself when stderr is not a terminal,
        # except on long runs, whose logs then show progress every few seconds.
        with tqdm(
            total=practitioners,
            unit="practitioner",
            desc="seed",
            disable=None if practitioners < ALWAYS_SHOW_PROGRESS else False,
            mininterval=1.0 if practitioners < ALWAYS_SHOW_PROGRESS else 5.0,
        ) as bar:
            result = seed_demo(
                practitioners=practitioners,
                batch_size=batch_size,
                on_progress=bar.update,
            )
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(warning))
        for account in DEMO_ACCOUNTS:
            self.stdout.write(
                f"  {account.role:<13} {account.email:<26} / {account.password}"
            )
        created = ", ".join(
            f"{result.created.get(label, 0)} {label}" for label in result.totals
        )
        totals = ", ".join(f"{count} {label}" for label, count in result.totals.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded in {time.monotonic() - started:.1f}s. Created: {created}. Totals: {totals}."
            )
        )
