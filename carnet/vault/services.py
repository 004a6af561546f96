"""Seal and unseal values, shred subjects, rotate keys, compute blind indexes.

Every value is sealed under its subject's data key (one per patient, say); data keys
are stored only wrapped by a key-encryption key (KEK) held by the key backend, outside
the database. Unwrapped data keys live in a bounded process cache (keycache.py).

Concurrency contract. `seal` reads the subject's current key with ``FOR KEY SHARE``
on PostgreSQL, and the shredding and rotation services lock the same row ``FOR
UPDATE``: a value sealed in a transaction that is still open when a rotation starts
is committed before the rotation looks for old values, and a value sealed after it
uses the new key. Call `seal` inside the transaction that stores the token (services
are atomic) for this to hold; on SQLite, IMMEDIATE transactions serialise writers.
"""

import logging
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import IntegrityError, connections, models, router, transaction
from django.db.models import Max
from django.db.models.functions import Substr
from django.utils import timezone

from carnet.vault import crypto
from carnet.vault.backends import get_backend
from carnet.vault.blind_index import normalise
from carnet.vault.errors import (
    KekInUse,
    KeyDestroyed,
    ProtectedSubject,
    TokenInvalid,
    VaultError,
)
from carnet.vault.keycache import get_key_cache, reset_key_cache
from carnet.vault.models import (
    BLIND_INDEX_SUBJECT,
    SYSTEM_SUBJECT_PREFIX,
    DataKey,
)
from carnet.vault.registry import SealedColumn, sealed_columns

logger = logging.getLogger(__name__)

BLIND_INDEX_HEX_CHARS = 32  # 128 bits of HMAC-SHA256: no collision in practice
SWEEP_BATCH = 500
# Above this many retired keys, a sweep reads every sealed value instead of
# filtering on the token header in SQL (one IN list per key would get too long).
SQL_FILTER_MAX_KEYS = 100
_MAX_ATTEMPTS = 5

# Blind-index key material, by DataKey id (ids are never reused, so never stale).
_blind_roots: dict[int, bytes] = {}
_blind_subkeys: dict[tuple[int, str], bytes] = {}


@dataclass(frozen=True, slots=True)
class DataKeyRotation:
    """What a data-key rotation did."""

    keys_rotated: int
    values_resealed: int
    values_unreadable: int = 0


@dataclass(frozen=True, slots=True)
class VaultInit:
    """What `initialise_vault` found or created."""

    backend: str
    kek_id: str
    kek_created: bool
    blind_index_key_created: bool


# -- sealing ------------------------------------------------------------------------


def seal(*, subject: str, context: str, plaintext: bytes) -> bytes:
    """Encrypt `plaintext` for `context` under `subject`'s data key; return the token.

    Creates the subject's first data key if needed, inside the caller's transaction
    (a unique constraint makes racing creators agree on one key). Call it inside
    the transaction that stores the token. Raises KeyDestroyed if the subject was
    crypto-shredded: nothing is sealed for it again.
    """
    if not subject:
        raise ValueError("a subject is required")
    key_id, cipher = _current_key(subject)
    return crypto.encrypt(
        cipher=cipher, key_id=key_id, context=context, plaintext=plaintext
    )


def unseal(*, token: bytes, context: str) -> bytes:
    """Decrypt a token sealed for `context`.

    Raises KeyDestroyed when its subject was shredded, TokenInvalid when the token
    was tampered with, copied from another context, or names no data key.
    """
    token = bytes(token)
    key_id = crypto.read_key_id(token)
    cipher = get_key_cache().get(key_id)
    if cipher is None:
        cipher = _load_key(key_id)
    return crypto.decrypt(cipher=cipher, token=token, context=context)


def _db() -> str:
    return router.db_for_write(DataKey)


def _select_current(
    subject: str, *, lock: bool = True
) -> tuple[int, str, bytes | None, Any] | None:
    """The subject's current key row (id, kek_id, wrapped, destroyed_at).

    With `lock`, locked FOR KEY SHARE on PostgreSQL (see the module docstring). Raw
    SQL: the ORM cannot express FOR KEY SHARE, and this runs on every seal.
    """
    connection = connections[_db()]
    table = connection.ops.quote_name(DataKey._meta.db_table)
    sql = (
        f"SELECT id, kek_id, wrapped_key, destroyed_at FROM {table} "  # noqa: S608 - table name from model metadata
        "WHERE subject = %s AND retired_at IS NULL"
    )
    if lock and connection.vendor == "postgresql":
        sql += " FOR KEY SHARE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [subject])
        row = cursor.fetchone()
    if row is None:
        return None
    key_id, kek_id, wrapped, destroyed_at = row
    return key_id, kek_id, None if wrapped is None else bytes(wrapped), destroyed_at


def _current_key(subject: str) -> tuple[int, AESGCM]:
    cache = get_key_cache()
    for _attempt in range(_MAX_ATTEMPTS):
        row = _select_current(subject)
        if row is None:
            created = _create_key(subject)
            if created is not None:
                return created
            continue  # another transaction created it first: read theirs
        key_id, kek_id, wrapped, destroyed_at = row
        if destroyed_at is not None or wrapped is None:
            raise KeyDestroyed()
        cipher = cache.get(key_id)
        if cipher is None:
            cipher = cache.put(key_id, get_backend().unwrap(kek_id, wrapped))
        return key_id, cipher
    raise VaultError(f"could not obtain a data key for {subject!r}")


def _create_key(
    subject: str, *, version: int | None = None
) -> tuple[int, AESGCM] | None:
    """Insert a new current key for `subject`; None if another one won the race."""
    data_key = crypto.new_data_key()
    kek_id, wrapped = get_backend().wrap(data_key)
    if version is None:
        latest = (
            DataKey.objects.using(_db())
            .filter(subject=subject)
            .aggregate(latest=Max("version"))["latest"]
        )
        version = (latest or 0) + 1
    try:
        with transaction.atomic(using=_db()):
            row = DataKey.objects.using(_db()).create(
                subject=subject, version=version, kek_id=kek_id, wrapped_key=wrapped
            )
    except IntegrityError:
        return None
    return row.pk, get_key_cache().put(row.pk, data_key)


def _load_key(key_id: int) -> AESGCM:
    """Fetch, unwrap and cache data key `key_id` (cache miss on unseal)."""
    connection = connections[_db()]
    table = connection.ops.quote_name(DataKey._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT kek_id, wrapped_key, destroyed_at FROM {table} WHERE id = %s",  # noqa: S608 - table name from model metadata
            [key_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise TokenInvalid("the token names no known data key")
    kek_id, wrapped, destroyed_at = row
    if destroyed_at is not None or wrapped is None:
        raise KeyDestroyed()
    return get_key_cache().put(key_id, get_backend().unwrap(kek_id, bytes(wrapped)))


def clear_key_cache() -> None:
    """Forget every unwrapped key held by this process (tests, or after an incident)."""
    reset_key_cache()
    _blind_roots.clear()
    _blind_subkeys.clear()


# -- crypto-shredding ---------------------------------------------------------------


def _refuse_system(subject: str) -> None:
    if subject.startswith(SYSTEM_SUBJECT_PREFIX):
        raise ProtectedSubject(f"{subject!r} belongs to the vault itself")


@transaction.atomic
def destroy_subject(*, subject: str) -> None:
    """Crypto-shred `subject`: erase every version of its data key, for good.

    Every value sealed for the subject becomes unreadable, in the database and in
    every copy of it, once no KEK that wrapped the key survives (see README:
    backups stay readable until the KEKs of their time are destroyed). The current
    key stays as a tombstone, so `seal` refuses the subject from now on.
    Idempotent; locks the subject's keys FOR UPDATE. Raises ProtectedSubject
    for "system:" subjects.
    """
    _refuse_system(subject)
    now = timezone.now()
    keys = DataKey.objects.using(_db()).select_for_update().filter(subject=subject)
    ids = list(keys.values_list("pk", flat=True))
    if ids:
        keys.filter(destroyed_at__isnull=True).update(
            wrapped_key=None, destroyed_at=now
        )
    else:
        DataKey.objects.using(_db()).create(
            subject=subject, version=1, wrapped_key=None, destroyed_at=now
        )
    _forget_keys(ids)


def _forget_keys(ids: list[int]) -> None:
    """Drop keys from this process's cache now and again once the transaction commits."""
    cache = get_key_cache()
    cache.discard(ids)
    transaction.on_commit(lambda: get_key_cache().discard(ids), using=_db())


# -- rotation -----------------------------------------------------------------------


def rotate_kek() -> int:
    """Create a new KEK and rewrap every live data key with it; return how many.

    No token changes: data keys stay the same, only their wrapping does. Each key
    is rewrapped with a compare-and-swap update (a key shredded meanwhile is left
    alone) and checked to unwrap before it is stored. Afterwards the old KEKs wrap
    nothing that is still live (`vault_status` shows it) and can be destroyed with
    `destroy_kek` once no backup that needs them is kept.
    """
    backend = get_backend()
    new_kek_id = backend.create_kek()
    rewrapped = 0
    for _attempt in range(_MAX_ATTEMPTS):  # again, for keys created meanwhile
        pending = (
            DataKey.objects.using(_db())
            .filter(destroyed_at__isnull=True, wrapped_key__isnull=False)
            .exclude(kek_id=new_kek_id)
            .order_by("pk")
        )
        done_this_pass = 0
        last_pk = 0
        while True:
            batch = list(
                pending.filter(pk__gt=last_pk).values_list(
                    "pk", "kek_id", "wrapped_key"
                )[:SWEEP_BATCH]
            )
            if not batch:
                break
            last_pk = batch[-1][0]
            for pk, kek_id, wrapped in batch:
                data_key = backend.unwrap(kek_id, bytes(wrapped))
                wrapped_kek_id, new_wrapped = backend.wrap(data_key)
                if backend.unwrap(wrapped_kek_id, new_wrapped) != data_key:
                    raise VaultError(f"rewrapping data key {pk} did not round-trip")
                done_this_pass += (
                    DataKey.objects.using(_db())
                    .filter(
                        pk=pk,
                        kek_id=kek_id,
                        wrapped_key=bytes(wrapped),
                        destroyed_at__isnull=True,
                    )
                    .update(kek_id=wrapped_kek_id, wrapped_key=new_wrapped)
                )
        rewrapped += done_this_pass
        if done_this_pass == 0:
            break
    logger.info(
        "vault: KEK rotated to %s, %d data keys rewrapped", new_kek_id, rewrapped
    )
    return rewrapped


def destroy_kek(*, kek_id: str) -> None:
    """Destroy a KEK in the backend for good. Refuses the current KEK and any KEK
    that still wraps a live data key in this database (raises KekInUse).

    Whatever it wrapped in older backups becomes unreadable: that is how shredded
    subjects disappear from backups too.
    """
    backend = get_backend()
    if kek_id == backend.current_kek_id():
        raise KekInUse(f"{kek_id!r} is the current KEK; rotate first")
    live = (
        DataKey.objects.using(_db())
        .filter(kek_id=kek_id, destroyed_at__isnull=True)
        .count()
    )
    if live:
        raise KekInUse(f"{kek_id!r} still wraps {live} live data keys; rotate first")
    backend.destroy_kek(kek_id)


def rotate_data_key(*, subject: str) -> DataKeyRotation:
    """Give `subject` a new data key, re-encrypt its values under it, destroy the old one.

    Walks every registered sealed column for tokens naming the subject's retired
    keys, re-seals each (compare-and-swap update) and then shreds the retired keys.
    Resumable: a run that stopped half-way is completed by the next. Raises
    KeyDestroyed for a shredded subject and ProtectedSubject for "system:" ones.
    """
    _refuse_system(subject)
    with transaction.atomic(using=_db()):
        keys = list(
            DataKey.objects.using(_db())
            .select_for_update()
            .filter(subject=subject)
            .order_by("version")
        )
        if not keys:
            return DataKeyRotation(keys_rotated=0, values_resealed=0)
        current = next((k for k in keys if k.retired_at is None), None)
        if current is not None and current.is_destroyed:
            raise KeyDestroyed()
        _retire_and_replace(subject, current=current, version=keys[-1].version + 1)
    return _finish_rotation(subjects=[subject])


def rotate_all_data_keys() -> DataKeyRotation:
    """`rotate_data_key` for every live subject (not "system:" ones), in batches.

    Reads every sealed value once, whatever the number of subjects.
    """
    # The ids are read first: new keys get random ids, a pk-ordered walk would meet them.
    ids = list(
        DataKey.objects.using(_db())
        .filter(retired_at__isnull=True, destroyed_at__isnull=True)
        .exclude(subject__startswith=SYSTEM_SUBJECT_PREFIX)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    rotated = 0
    for start in range(0, len(ids), SWEEP_BATCH):
        with transaction.atomic(using=_db()):
            batch = list(
                DataKey.objects.using(_db())
                .select_for_update()
                .filter(
                    pk__in=ids[start : start + SWEEP_BATCH],
                    retired_at__isnull=True,
                    destroyed_at__isnull=True,
                )
                .order_by("pk")
            )
            for key in batch:
                _retire_and_replace(key.subject, current=key, version=None)
            rotated += len(batch)
    result = _finish_rotation(subjects=None)
    return DataKeyRotation(
        keys_rotated=rotated,
        values_resealed=result.values_resealed,
        values_unreadable=result.values_unreadable,
    )


def _retire_and_replace(
    subject: str, *, current: DataKey | None, version: int | None
) -> None:
    """Retire `current` (locked FOR UPDATE by the caller) and insert the next version."""
    if current is not None:
        current.retired_at = timezone.now()
        current.save(update_fields=["retired_at"])
    if _create_key(subject, version=version) is None:
        raise VaultError(f"could not create a new data key for {subject!r}")


def _finish_rotation(*, subjects: list[str] | None) -> DataKeyRotation:
    """Re-seal every value under a retired, live key of `subjects` (all if None), then shred those keys."""
    retired_keys = (
        DataKey.objects.using(_db())
        .filter(retired_at__isnull=False, destroyed_at__isnull=True)
        .exclude(subject__startswith=SYSTEM_SUBJECT_PREFIX)
    )
    if subjects is not None:
        retired_keys = retired_keys.filter(subject__in=subjects)
    retired = dict(retired_keys.values_list("pk", "subject"))
    resealed = unreadable = 0
    if retired:
        for _attempt in range(_MAX_ATTEMPTS):  # the last pass finds nothing left
            found, failed = 0, 0
            for column in sealed_columns():
                column_found, column_failed = _reseal_column(column, retired)
                found += column_found
                failed += column_failed
            resealed += found
            unreadable = failed
            if found == 0:
                break
        with transaction.atomic(using=_db()):
            ids = list(
                DataKey.objects.using(_db())
                .select_for_update()
                .filter(pk__in=list(retired), destroyed_at__isnull=True)
                .values_list("pk", flat=True)
            )
            DataKey.objects.using(_db()).filter(pk__in=ids).update(
                wrapped_key=None, destroyed_at=timezone.now()
            )
            _forget_keys(ids)
    if unreadable:
        logger.warning(
            "vault: %d sealed values could not be read during rotation and were left as they were",
            unreadable,
        )
    return DataKeyRotation(
        keys_rotated=len(set(retired.values())),
        values_resealed=resealed,
        values_unreadable=unreadable,
    )


def _reseal_column(column: SealedColumn, retired: dict[int, str]) -> tuple[int, int]:
    """Re-seal the values of one column sealed under a `retired` key: (re-sealed, unreadable)."""
    model, field = column
    manager = model._base_manager.db_manager(_db())
    attname = field.attname
    values = manager.filter(**{f"{attname}__isnull": False})
    if len(retired) <= SQL_FILTER_MAX_KEYS:
        values = values.annotate(
            vault_header=Substr(
                attname, 1, crypto.HEADER_BYTES, output_field=models.BinaryField()
            )
        ).filter(vault_header__in=[crypto.token_header(pk) for pk in retired])
    values = values.order_by("pk")
    resealed = unreadable = 0
    last_pk: Any = None
    while True:
        page = values if last_pk is None else values.filter(pk__gt=last_pk)
        rows = list(page.values_list("pk", "vault_row", attname)[:SWEEP_BATCH])
        if not rows:
            return resealed, unreadable
        last_pk = rows[-1][0]
        for pk, vault_row, stored in rows:
            token = bytes(stored)
            try:
                key_id = crypto.read_key_id(token)
            except TokenInvalid:
                unreadable += 1
                continue
            if key_id not in retired:
                continue
            context = field.context_for(vault_row)
            with transaction.atomic(using=_db()):
                try:
                    plaintext = unseal(token=token, context=context)
                    new_token = seal(
                        subject=retired[key_id], context=context, plaintext=plaintext
                    )
                except (TokenInvalid, KeyDestroyed):
                    unreadable += 1
                    continue
                resealed += manager.filter(pk=pk, **{attname: token}).update(
                    **{attname: new_token}
                )


# -- blind indexes ------------------------------------------------------------------


def blind_index(*, kind: str, value: str, country: str | None = None) -> str:
    """Keyed, deterministic index of `value` for exact-match lookups (32 hex characters).

    HMAC-SHA256 of the normalised value (see blind_index.normalise: kinds "email",
    "phone" with an optional `country` "FR"/"DE"/"IT", "nhi") under a per-kind key
    derived (HKDF) from the vault's blind-index key: a key of its own, subject
    "system:blind-index", wrapped by the KEK like a data key but never a data key.
    The same normalised value always gives the same index; nothing of the value can
    be read back from it without the key. Raises BlindIndexValueInvalid.
    """
    normalised = normalise(kind=kind, value=value, country=country)
    key_id, root = _blind_index_root()
    derived_key = (key_id, kind)
    subkey = _blind_subkeys.get(derived_key)
    if subkey is None:
        subkey = crypto.derive_key(key=root, purpose=f"blind-index/{kind}")
        _blind_subkeys[derived_key] = subkey
    digest = crypto.keyed_digest(key=subkey, message=normalised.encode())
    return digest.hex()[:BLIND_INDEX_HEX_CHARS]


def _blind_index_root() -> tuple[int, bytes]:
    """The blind-index key (id, bytes), created on first use; one indexed query per call.

    The query is deliberate: a key created in a transaction that then rolled back
    must not keep producing indexes nobody else can reproduce.
    """
    for _attempt in range(_MAX_ATTEMPTS):
        # No lock: the blind-index key is never rotated nor destroyed.
        row = _select_current(BLIND_INDEX_SUBJECT, lock=False)
        if row is None:
            root = crypto.new_data_key()
            kek_id, wrapped = get_backend().wrap(root)
            try:
                with transaction.atomic(using=_db()):
                    key = DataKey.objects.using(_db()).create(
                        subject=BLIND_INDEX_SUBJECT, kek_id=kek_id, wrapped_key=wrapped
                    )
            except IntegrityError:
                continue
            _blind_roots[key.pk] = root
            return key.pk, root
        key_id, kek_id, wrapped, _destroyed_at = row
        root = _blind_roots.get(key_id)
        if root is None:
            if wrapped is None:
                raise VaultError("the blind-index key is missing its wrapped bytes")
            root = get_backend().unwrap(kek_id, wrapped)
            _blind_roots[key_id] = root
        return key_id, root
    raise VaultError("could not obtain the blind-index key")


# -- set-up -------------------------------------------------------------------------


def initialise_vault() -> VaultInit:
    """Make sure the backend has a KEK and the blind-index key exists. Idempotent.

    The local backend creates its key file; the PKCS#11 backend generates the first
    KEK in the token when it holds none.
    """
    from carnet.vault.errors import KekMissing

    backend = get_backend()
    ensure = getattr(backend, "ensure", None)
    kek_created = bool(ensure()) if ensure is not None else False
    try:
        kek_id = backend.current_kek_id()
    except KekMissing:
        kek_id = backend.create_kek()
        kek_created = True
    with transaction.atomic(using=_db()):
        existed = _select_current(BLIND_INDEX_SUBJECT, lock=False) is not None
        _blind_index_root()
    return VaultInit(
        backend=backend.name,
        kek_id=kek_id,
        kek_created=kek_created,
        blind_index_key_created=not existed,
    )


def provision_data_key(*, subject: str) -> DataKey:
    """The subject's current data key, created if it has none (what a first seal does).

    Raises KeyDestroyed for a shredded subject, ProtectedSubject for "system:" ones.
    """
    _refuse_system(subject)
    with transaction.atomic(using=_db()):
        key_id, _cipher = _current_key(subject)
        return DataKey.objects.using(_db()).get(pk=key_id)
