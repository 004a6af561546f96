"""PKCS#11 backend: KEKs are non-extractable AES-256 keys inside an HSM token.

Each KEK is generated inside the token (CKA_SENSITIVE, not CKA_EXTRACTABLE, only
CKA_WRAP/CKA_UNWRAP) and found by its label, ``<prefix><UTC time>-<random>``: labels
sort by creation time and the newest one is current. A data key is wrapped by the
token with CKM_AES_KEY_WRAP_PAD (SoftHSM2 implements it as RFC 5649, the format the
local backend writes too); to do that, the data key briefly becomes a session object
(never stored on the token) that is destroyed right after.

One session per process, opened lazily and re-opened after a fork; PKCS#11 sessions
must not be used by two threads at once, so every call holds a lock. Settings:
VAULT_PKCS11_MODULE (the module's path), VAULT_PKCS11_TOKEN (token label),
VAULT_PKCS11_PIN (user PIN, from the environment), VAULT_PKCS11_KEY_LABEL (prefix).
"""

import contextlib
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured

from carnet.vault.backends.local import new_kek_id
from carnet.vault.errors import KekInUse, KekMissing, KeyBackendError

T = TypeVar("T")

# Errors after which a fresh session (and, once, a re-initialised library) may help.
_RETRYABLE = (
    "SessionClosed",
    "SessionHandleInvalid",
    "DeviceRemoved",
    "TokenNotPresent",
    "TokenNotRecognised",
    "UserNotLoggedIn",
)


class Pkcs11Backend:
    """KEKs inside a PKCS#11 token; thread-safe, one session per process."""

    name = "pkcs11"

    def __init__(
        self, *, module: str, token_label: str, pin: str, label_prefix: str
    ) -> None:
        if not pin:
            raise ImproperlyConfigured(
                "VAULT_BACKEND=pkcs11 needs the token's user PIN in CARNET_VAULT_PKCS11_PIN"
            )
        if not label_prefix:
            raise ImproperlyConfigured(
                "CARNET_VAULT_PKCS11_KEY_LABEL must not be empty"
            )
        self.module = module
        self.token_label = token_label
        self.label_prefix = label_prefix
        self._pin = pin
        self._lock = threading.RLock()
        self._session: Any = None
        self._pid = 0
        self._keks: dict[str, Any] = {}

    # -- the KeyBackend protocol -------------------------------------------------

    def wrap(self, data_key: bytes) -> tuple[str, bytes]:
        """Wrap `data_key` under the newest KEK, inside the token."""
        import pkcs11
        from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass

        def run(session: Any) -> tuple[str, bytes]:
            kek_id = self._current(session)
            kek = self._kek(session, kek_id)
            transient = session.create_object(
                {
                    Attribute.CLASS: ObjectClass.SECRET_KEY,
                    Attribute.KEY_TYPE: KeyType.AES,
                    Attribute.VALUE: data_key,
                    Attribute.TOKEN: False,
                    Attribute.SENSITIVE: False,
                    Attribute.EXTRACTABLE: True,
                }
            )
            try:
                return kek_id, kek.wrap_key(
                    transient, mechanism=Mechanism.AES_KEY_WRAP_PAD
                )
            finally:
                transient.destroy()

        try:
            return self._call(run)
        except pkcs11.PKCS11Error as exc:
            raise KeyBackendError(f"PKCS#11 wrap failed: {type(exc).__name__}") from exc

    def unwrap(self, kek_id: str, wrapped: bytes) -> bytes:
        """The data key inside `wrapped`, unwrapped by the token."""
        import pkcs11
        from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass

        def run(session: Any) -> bytes:
            kek = self._kek(session, kek_id)
            transient = kek.unwrap_key(
                ObjectClass.SECRET_KEY,
                KeyType.AES,
                wrapped,
                mechanism=Mechanism.AES_KEY_WRAP_PAD,
                store=False,
                template={Attribute.SENSITIVE: False, Attribute.EXTRACTABLE: True},
            )
            try:
                return bytes(transient[Attribute.VALUE])
            finally:
                transient.destroy()

        try:
            return self._call(run)
        except pkcs11.PKCS11Error as exc:
            raise KeyBackendError(
                f"PKCS#11 unwrap with {kek_id!r} failed: {type(exc).__name__}"
            ) from exc

    def current_kek_id(self) -> str:
        """The newest KEK's label; raises KekMissing when the token holds none."""
        return self._call(self._current)

    def create_kek(self) -> str:
        """Generate a new non-extractable AES-256 KEK in the token; it becomes current."""
        from pkcs11 import Attribute, KeyType

        label = new_kek_id(self.label_prefix)

        def run(session: Any) -> str:
            key = session.generate_key(
                KeyType.AES,
                256,
                label=label,
                id=label.encode(),
                store=True,
                template={
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.MODIFIABLE: False,
                    Attribute.WRAP: True,
                    Attribute.UNWRAP: True,
                    Attribute.ENCRYPT: False,
                    Attribute.DECRYPT: False,
                    Attribute.SIGN: False,
                    Attribute.VERIFY: False,
                    Attribute.DERIVE: False,
                },
            )
            self._keks[label] = key
            return label

        return self._call(run)

    def kek_ids(self) -> list[str]:
        """Every KEK label with our prefix, oldest first."""
        return self._call(lambda session: sorted(self._find(session)))

    def destroy_kek(self, kek_id: str) -> None:
        """Destroy a KEK inside the token (never the current one)."""

        def run(session: Any) -> None:
            if self._current(session) == kek_id:
                raise KekInUse(f"{kek_id!r} is the current KEK; rotate first")
            self._kek(session, kek_id).destroy()
            self._keks.pop(kek_id, None)

        self._call(run)

    # -- inspection (tests, vault_status) ----------------------------------------

    def kek_object(self, kek_id: str) -> Any:
        """The token object of a KEK (to check its attributes, never its value)."""
        return self._call(lambda session: self._kek(session, kek_id))

    def close(self) -> None:
        """Close the session (the library stays loaded for the process)."""
        import pkcs11

        with self._lock:
            session, self._session = self._session, None
            self._keks.clear()
            if session is not None and self._pid == os.getpid():
                with contextlib.suppress(pkcs11.PKCS11Error):
                    session.close()  # best effort: the token may already be gone

    # -- internals ---------------------------------------------------------------

    def _call(self, operation: Callable[[Any], T]) -> T:
        import pkcs11

        with self._lock:
            try:
                return operation(self._open())
            except pkcs11.PKCS11Error as exc:
                if type(exc).__name__ not in _RETRYABLE:
                    raise
            self._session = None
            self._keks.clear()
            return operation(self._open(reinitialize=True))

    def _open(self, *, reinitialize: bool = False) -> Any:
        import pkcs11

        pid = os.getpid()
        if self._session is not None and self._pid == pid and not reinitialize:
            return self._session
        forked = self._pid not in (0, pid)
        self._session = None
        self._keks.clear()
        try:
            lib = pkcs11.lib(self.module)
            if forked or reinitialize:
                lib.reinitialize()
            try:
                token = lib.get_token(token_label=self.token_label)
            except pkcs11.NoSuchToken:
                # The library may have been initialised before its configuration
                # (e.g. SOFTHSM2_CONF) pointed at this token: look again, once.
                lib.reinitialize()
                token = lib.get_token(token_label=self.token_label)
            session = token.open(rw=True, user_pin=self._pin)
        except pkcs11.NoSuchToken:
            raise KeyBackendError(
                f"no PKCS#11 token labelled {self.token_label!r} in {self.module}"
            ) from None
        except pkcs11.PKCS11Error as exc:
            raise KeyBackendError(
                f"cannot open a session on token {self.token_label!r}: {type(exc).__name__}"
            ) from exc
        except (OSError, RuntimeError) as exc:  # the module itself failed to load
            raise KeyBackendError(f"cannot load PKCS#11 module {self.module}") from exc
        self._session, self._pid = session, pid
        return session

    def _find(self, session: Any) -> dict[str, Any]:
        from pkcs11 import Attribute, KeyType, ObjectClass

        found = {}
        for obj in session.get_objects(
            {
                Attribute.CLASS: ObjectClass.SECRET_KEY,
                Attribute.KEY_TYPE: KeyType.AES,
                Attribute.TOKEN: True,
            }
        ):
            label = obj.label or ""
            if label.startswith(self.label_prefix):
                found[label] = obj
        self._keks = dict(found)
        return found

    def _current(self, session: Any) -> str:
        labels = self._find(session)
        if not labels:
            raise KekMissing(
                f"token {self.token_label!r} holds no KEK labelled {self.label_prefix}…;"
                " run: manage.py vault_init"
            )
        return max(labels)

    def _kek(self, session: Any, kek_id: str) -> Any:
        kek = self._keks.get(kek_id)
        if kek is None:
            kek = self._find(session).get(kek_id)
        if kek is None:
            raise KekMissing(f"token {self.token_label!r} holds no KEK {kek_id!r}")
        return kek
