"""Key backends: where the key-encryption keys (KEKs) live and how data keys are wrapped.

A KEK never leaves its backend through this interface: callers hand over a data key
and get back the id of the KEK that wrapped it plus the wrapped bytes, which are all
the database ever stores. Chosen by the setting VAULT_BACKEND:

* ``local``: KEKs in a key file outside the database (development and tests only;
  ``manage.py check --deploy`` refuses it);
* ``pkcs11``: non-extractable AES-256 KEKs inside an HSM token (SoftHSM2 in tests).
"""

import threading
from typing import Any, Protocol, runtime_checkable

from django.core.exceptions import ImproperlyConfigured


@runtime_checkable
class KeyBackend(Protocol):
    """Custody of key-encryption keys. Implementations are thread-safe."""

    name: str

    def wrap(self, data_key: bytes) -> tuple[str, bytes]:
        """Wrap `data_key` under the current KEK: (kek_id, wrapped bytes)."""
        ...

    def unwrap(self, kek_id: str, wrapped: bytes) -> bytes:
        """The data key inside `wrapped`; raises KekMissing or KeyBackendError."""
        ...

    def current_kek_id(self) -> str:
        """The id of the KEK that wraps new data keys; raises KekMissing if none."""
        ...

    def create_kek(self) -> str:
        """Create a new KEK, make it current, return its id (for rotation)."""
        ...

    def kek_ids(self) -> list[str]:
        """Every KEK id the backend holds, oldest first."""
        ...

    def destroy_kek(self, kek_id: str) -> None:
        """Destroy a KEK for good: whatever it wrapped (backups too) is unreadable."""
        ...


_backend: KeyBackend | None = None
_lock = threading.Lock()


def build_backend() -> KeyBackend:
    """A new backend from the VAULT_* settings."""
    from django.conf import settings

    name = settings.VAULT_BACKEND
    if name == "local":
        from carnet.vault.backends.local import LocalKeyFile

        return LocalKeyFile(path=settings.VAULT_KEY_FILE)
    if name == "pkcs11":
        from carnet.vault.backends.pkcs11 import Pkcs11Backend

        return Pkcs11Backend(
            module=settings.VAULT_PKCS11_MODULE,
            token_label=settings.VAULT_PKCS11_TOKEN,
            pin=settings.VAULT_PKCS11_PIN,
            label_prefix=settings.VAULT_PKCS11_KEY_LABEL,
        )
    raise ImproperlyConfigured(
        f"VAULT_BACKEND must be 'local' or 'pkcs11', not {name!r}"
    )


def get_backend() -> KeyBackend:
    """The process's key backend (built once, on first use)."""
    global _backend
    if _backend is None:
        with _lock:
            if _backend is None:
                _backend = build_backend()
    return _backend


def reset_backend() -> None:
    """Forget the process's backend; the next call builds it again from settings."""
    global _backend
    with _lock:
        backend, _backend = _backend, None
    close = getattr(backend, "close", None)
    if close is not None:
        close()


def reset_on_setting_change(*, setting: str, **kwargs: Any) -> None:
    """`setting_changed` receiver: VAULT_* changes take effect at once (tests)."""
    if setting.startswith("VAULT_"):
        from carnet.vault.keycache import reset_key_cache

        reset_backend()
        reset_key_cache()
