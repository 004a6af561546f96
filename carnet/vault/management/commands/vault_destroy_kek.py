from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from carnet.vault.errors import VaultError
from carnet.vault.services import destroy_kek


class Command(BaseCommand):
    help = (
        "Destroy a key-encryption key for good (refused while it wraps a live data key"
        " or is current). Backups that need it become unreadable: keep it as long as"
        " the backups you must be able to restore."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kek_id")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            destroy_kek(kek_id=options["kek_id"])
        except VaultError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"destroyed KEK {options['kek_id']}")
