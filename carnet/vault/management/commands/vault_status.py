from typing import Any

from django.core.management.base import BaseCommand

from carnet.vault.selectors import get_vault_status


class Command(BaseCommand):
    help = "Show the key backend, its key-encryption keys and the data-key counts."

    def handle(self, *args: Any, **options: Any) -> None:
        status = get_vault_status()
        lines = [
            f"backend: {status.backend}",
            f"current KEK: {status.current_kek_id or '-'}",
        ]
        if status.backend_error:
            lines.append(f"backend error: {status.backend_error}")
        lines.append("KEKs (live data keys wrapped):")
        for kek_id in sorted({*status.kek_ids, *status.live_keys_by_kek}):
            held = "" if kek_id in status.kek_ids else "  (NOT IN BACKEND)"
            lines.append(
                f"  {kek_id or '-'}: {status.live_keys_by_kek.get(kek_id, 0)}{held}"
            )
        lines += [
            f"data keys: {status.current_keys} current, {status.retired_keys} retired,"
            f" {status.destroyed_keys} destroyed",
            "sealed columns: " + (", ".join(status.sealed_columns) or "-"),
        ]
        self.stdout.write("\n".join(lines))
