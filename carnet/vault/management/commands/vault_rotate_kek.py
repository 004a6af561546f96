from typing import Any

from django.core.management.base import BaseCommand

from carnet.vault.backends import get_backend
from carnet.vault.services import rotate_kek


class Command(BaseCommand):
    help = (
        "Create a new key-encryption key and rewrap every live data key with it."
        " No sealed value changes. Old KEKs can then be destroyed with vault_destroy_kek."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = rotate_kek()
        self.stdout.write(
            f"current KEK: {get_backend().current_kek_id()}; {count} data keys rewrapped"
        )
