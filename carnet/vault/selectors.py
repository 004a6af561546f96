"""Read-only views of the vault's state."""

from dataclasses import dataclass

from django.db.models import Count, Q

from carnet.vault.backends import get_backend
from carnet.vault.errors import KeyBackendError
from carnet.vault.models import DataKey
from carnet.vault.registry import sealed_columns


@dataclass(frozen=True, slots=True)
class VaultStatus:
    """The backend, its KEKs and what the database holds."""

    backend: str
    current_kek_id: str | None
    backend_error: str | None
    kek_ids: list[str]
    live_keys_by_kek: dict[str, int]
    current_keys: int
    retired_keys: int
    destroyed_keys: int
    sealed_columns: list[str]


def get_vault_status() -> VaultStatus:
    """Backend, KEKs and key counts; a failing backend is reported, not raised."""
    backend = get_backend()
    key_file = getattr(backend, "path", None)
    current: str | None = None
    kek_ids: list[str] = []
    error: str | None = None
    if key_file is not None and not key_file.exists():
        error = f"no key file at {key_file} (run: manage.py vault_init)"
    else:
        try:
            current, kek_ids = backend.current_kek_id(), backend.kek_ids()
        except KeyBackendError as exc:
            error = str(exc)
    counts = DataKey.objects.aggregate(
        current=Count(
            "pk", filter=Q(retired_at__isnull=True, destroyed_at__isnull=True)
        ),
        retired=Count(
            "pk", filter=Q(retired_at__isnull=False, destroyed_at__isnull=True)
        ),
        destroyed=Count("pk", filter=Q(destroyed_at__isnull=False)),
    )
    by_kek = dict(
        DataKey.objects.filter(destroyed_at__isnull=True)
        .values_list("kek_id")
        .annotate(n=Count("pk"))
        .order_by("kek_id")
        .values_list("kek_id", "n")
    )
    return VaultStatus(
        backend=backend.name,
        current_kek_id=current,
        backend_error=error,
        kek_ids=kek_ids,
        live_keys_by_kek=by_kek,
        current_keys=counts["current"],
        retired_keys=counts["retired"],
        destroyed_keys=counts["destroyed"],
        sealed_columns=[column.label for column in sealed_columns()],
    )
