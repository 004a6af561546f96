from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carnet.vault.errors import VaultError
from carnet.vault.services import rotate_all_data_keys, rotate_data_key


class Command(BaseCommand):
    help = (
        "Give a subject (or, with --all, every subject) a new data key, re-encrypt its"
        " sealed values under it and destroy the old key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subject", nargs="?", help='e.g. "patient:<uuid>"')
        parser.add_argument("--all", action="store_true", help="every live subject")

    def handle(self, *args: Any, **options: Any) -> None:
        subject, everyone = options["subject"], options["all"]
        if bool(subject) == everyone:
            raise CommandError("give one SUBJECT or --all")
        try:
            result = (
                rotate_all_data_keys() if everyone else rotate_data_key(subject=subject)
            )
        except VaultError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{result.keys_rotated} data keys rotated, {result.values_resealed} values"
            f" re-encrypted, {result.values_unreadable} unreadable values left as they were"
        )
