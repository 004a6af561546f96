from typing import Any

from django.core.management.base import BaseCommand

from carnet.vault.services import initialise_vault


class Command(BaseCommand):
    help = (
        "Make the vault usable: create the local key file, or the first KEK in the HSM"
        " token, and the blind-index key. Idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = initialise_vault()
        self.stdout.write(
            f"backend: {result.backend}\n"
            f"current KEK: {result.kek_id}{' (created)' if result.kek_created else ''}\n"
            f"blind-index key: {'created' if result.blind_index_key_created else 'present'}"
        )
