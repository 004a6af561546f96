"""`manage.py reindex_search`: rebuild the practitioner search index."""

import time

from django.core.management.base import BaseCommand, CommandParser

from carnet.directory.services import reindex_agendas


class Command(BaseCommand):
    help = (
        "Rebuild the search entries of every active agenda (or of the given agenda "
        "ids) from the directory and the agendas' motives. The next-availability "
        "columns are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "agenda_ids",
            nargs="*",
            type=int,
            help="Only these agendas (default: all).",
        )

    def handle(self, *args, agenda_ids: list[int], **options) -> None:
        started = time.monotonic()
        written = reindex_agendas(agenda_ids=agenda_ids or None)
        self.stdout.write(
            self.style.SUCCESS(
                f"Indexed {written} agendas in {time.monotonic() - started:.1f}s."
            )
        )
