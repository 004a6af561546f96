"""Local key file backend: KEKs in a JSON file outside the database. Development only.

Why production must not use it: the KEKs sit in clear on the application host, readable
by anything that runs as the application user, copied by any file-system backup taken
next to the database backup, with no access log and no protection against being read
out. Whoever holds the database and this file holds every sealed value. An HSM
(``pkcs11`` backend) keeps the KEKs non-extractable and audited; ``manage.py check
--deploy`` reports the local backend as an error.

The file is created lazily on first use (mode 0600 in a 0700 directory), so ``make
run`` and the tests need no extra step; ``manage.py vault_init`` creates it explicitly.
Losing it loses every sealed value: back it up, apart from the database backups.

Format (one object)::

    {"format": 1, "current": "<kek id>",
     "keks": [{"id": "local-20260302T060000123456Z-1a2b3c4d", "key": "<base64, 32 bytes>",
               "created_at": "2026-03-02T06:00:00.123456+00:00"}, ...]}

Data keys are wrapped with AES key wrap with padding (RFC 5649), the same format a
PKCS#11 token produces with CKM_AES_KEY_WRAP_PAD on SoftHSM2.
"""

import base64
import contextlib
import fcntl
import json
import os
import secrets
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap_with_padding,
    aes_key_wrap_with_padding,
)

from carnet.vault.errors import KekInUse, KekMissing, KeyBackendError

FORMAT = 1


@dataclass(frozen=True, slots=True)
class _KeyFile:
    current: str
    keks: dict[str, bytes]  # insertion order = creation order
    created: dict[str, str]
    stamp: tuple[int, int, int]  # (st_ino, st_mtime_ns, st_size) when read


def new_kek_id(prefix: str) -> str:
    """A sortable, unique KEK id: prefix, UTC time to the microsecond, random suffix."""
    now = datetime.now(tz=UTC)
    return f"{prefix}{now:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}"


class LocalKeyFile:
    """KEKs in a JSON key file; thread-safe, and safe across processes (flock)."""

    name = "local"

    def __init__(self, *, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._file: _KeyFile | None = None

    # -- the KeyBackend protocol -------------------------------------------------

    def wrap(self, data_key: bytes) -> tuple[str, bytes]:
        """Wrap `data_key` under the current KEK (RFC 5649)."""
        key_file = self._load()
        kek = key_file.keks[key_file.current]
        return key_file.current, aes_key_wrap_with_padding(kek, data_key)

    def unwrap(self, kek_id: str, wrapped: bytes) -> bytes:
        """The data key inside `wrapped`; raises KekMissing or KeyBackendError."""
        kek = self._load().keks.get(kek_id)
        if kek is None:
            kek = self._load(force=True).keks.get(kek_id)
        if kek is None:
            raise KekMissing(f"no KEK {kek_id!r} in {self.path}")
        try:
            return aes_key_unwrap_with_padding(kek, wrapped)
        except InvalidUnwrap:
            raise KeyBackendError(
                f"wrapped data key does not open with KEK {kek_id!r}"
            ) from None

    def current_kek_id(self) -> str:
        """The KEK that wraps new data keys (the file is created if missing)."""
        return self._load().current

    def create_kek(self) -> str:
        """Append a new KEK to the file and make it current."""
        kek_id = new_kek_id("local-")

        def add(data: dict[str, Any]) -> None:
            data["keks"].append(_kek_entry(kek_id))
            data["current"] = kek_id

        self._update(add)
        return kek_id

    def kek_ids(self) -> list[str]:
        """Every KEK id in the file, oldest first."""
        return list(self._load(force=True).keks)

    def destroy_kek(self, kek_id: str) -> None:
        """Remove a KEK from the file (never the current one)."""

        def remove(data: dict[str, Any]) -> None:
            if data["current"] == kek_id:
                raise KekInUse(f"{kek_id!r} is the current KEK; rotate first")
            before = len(data["keks"])
            data["keks"] = [k for k in data["keks"] if k["id"] != kek_id]
            if len(data["keks"]) == before:
                raise KekMissing(f"no KEK {kek_id!r} in {self.path}")

        self._update(remove)

    # -- the file ----------------------------------------------------------------

    def ensure(self) -> bool:
        """Create the key file with one KEK if it does not exist; True if created."""
        if self.path.exists():
            self._load(force=True)
            return False
        return self._create()

    def _load(self, *, force: bool = False) -> _KeyFile:
        """The parsed file, re-read when it changed on disk (another process rotated)."""
        with self._lock:
            cached = self._file
            try:
                st = os.stat(self.path)
            except FileNotFoundError:
                st = None
            if st is None:
                self._create()
                st = os.stat(self.path)
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
            if cached is not None and cached.stamp == stamp and not force:
                return cached
            self._file = self._read(st)
            return self._file

    def _read(self, st: os.stat_result) -> _KeyFile:
        if stat.S_IMODE(st.st_mode) & 0o077:
            raise KeyBackendError(
                f"{self.path} is readable by other users (mode "
                f"{stat.S_IMODE(st.st_mode):o}); run: chmod 600 {self.path}"
            )
        try:
            data = json.loads(self.path.read_text())
            if data.get("format") != FORMAT:
                raise KeyBackendError(f"{self.path}: unknown key file format")
            keks = {
                k["id"]: base64.b64decode(k["key"], validate=True) for k in data["keks"]
            }
            created = {k["id"]: k.get("created_at", "") for k in data["keks"]}
            current = data["current"]
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyBackendError(f"{self.path} is not a valid key file") from exc
        if current not in keks or any(len(k) != 32 for k in keks.values()):
            raise KeyBackendError(f"{self.path} is not a valid key file")
        return _KeyFile(
            current=current,
            keks=keks,
            created=created,
            stamp=(st.st_ino, st.st_mtime_ns, st.st_size),
        )

    def _create(self) -> bool:
        """Create the file atomically (link(2) fails if another process won)."""
        self._prepare_dir()
        kek_id = new_kek_id("local-")
        data = {"format": FORMAT, "current": kek_id, "keks": [_kek_entry(kek_id)]}
        tmp = self._write_tmp(data)
        try:
            os.link(tmp, self.path)
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)
        _fsync_dir(self.path.parent)
        return True

    def _update(self, change: "Any") -> None:
        """Read-modify-write the file under an exclusive lock, then replace it atomically."""
        self._load()  # creates it when missing
        with self._locked():
            try:
                data = json.loads(self.path.read_text())
            except ValueError as exc:
                raise KeyBackendError(f"{self.path} is not a valid key file") from exc
            change(data)
            tmp = self._write_tmp(data)
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
        self._load(force=True)

    def _prepare_dir(self) -> None:
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if stat.S_IMODE(directory.stat().st_mode) & 0o077:
            directory.chmod(0o700)

    def _write_tmp(self, data: dict[str, Any]) -> Path:
        tmp = self.path.with_name(
            f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}"
        )
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        return tmp

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._prepare_dir()
        lock_path = self.path.with_name(f".{self.path.name}.lock")
        fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _kek_entry(kek_id: str) -> dict[str, str]:
    return {
        "id": kek_id,
        "key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "created_at": datetime.now(tz=UTC).isoformat(),
    }


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
