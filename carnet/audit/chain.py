"""The audit hash chain: canonical serialisation of an event and its SHA-256 link.

Pure standard library, so that a third party can re-verify an exported trail
with nothing but this file. Each event's hash covers the fields in
HASHED_FIELDS (its own `prev_hash` included); the first event's `prev_hash`
is GENESIS_HASH. The database id is not hashed: it is assigned on insert,
after the hash is known, and the order of the chain is carried by the
`prev_hash` links themselves. Changing HASHED_FIELDS or the serialisation
invalidates every existing chain: it needs a new chain version, not an edit.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

HASHED_FIELDS: tuple[str, ...] = (
    "occurred_at",
    "actor_id",
    "actor_kind",
    "actor_label",
    "patient_ref",
    "resource",
    "action",
    "purpose",
    "reason",
    "flagged",
    "request_id",
    "ip_pseudonym",
    "prev_hash",
)

_TEXT_FIELDS = tuple(
    name for name in HASHED_FIELDS if name not in ("occurred_at", "actor_id", "flagged")
)


def canonical_instant(value: datetime) -> str:
    """ISO 8601 in UTC with microseconds, e.g. "2026-03-02T06:00:00.000000+00:00".

    Raises ValueError for a naive datetime: an instant must say its zone.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("audit instants must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_bytes(values: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed: JSON of exactly HASHED_FIELDS, keys sorted, no spaces.

    `values` maps each name of HASHED_FIELDS to the value as stored:
    `occurred_at` an aware datetime, `actor_id` an int or None, `flagged` a
    bool, every other field a str. Raises KeyError when one is missing.
    """
    actor_id = values["actor_id"]
    document: dict[str, Any] = {name: str(values[name]) for name in _TEXT_FIELDS}
    document["occurred_at"] = canonical_instant(values["occurred_at"])
    document["actor_id"] = None if actor_id is None else int(actor_id)
    document["flagged"] = bool(values["flagged"])
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def compute_hash(values: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of canonical_bytes(values): an event's `hash`."""
    return hashlib.sha256(canonical_bytes(values)).hexdigest()
