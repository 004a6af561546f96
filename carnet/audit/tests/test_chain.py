import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from carnet.audit.chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    canonical_bytes,
    compute_hash,
)

VALUES = {
    "occurred_at": datetime(2026, 3, 2, 7, 0, tzinfo=timezone(timedelta(hours=1))),
    "actor_id": 7,
    "actor_kind": "staff",
    "actor_label": "",
    "patient_ref": "patient:1",
    "resource": "practice:1:patient-file",
    "action": "break_glass",
    "purpose": "break_glass",
    "reason": "Urgence : patient inconscient",
    "flagged": True,
    "request_id": "0123456789abcdef",
    "ip_pseudonym": "a1b2c3d4e5f60718",
    "prev_hash": GENESIS_HASH,
}


def test_canonical_form_is_sorted_compact_utf8_json_with_utc_microseconds():
    expected = (
        '{"action":"break_glass","actor_id":7,"actor_kind":"staff","actor_label":"",'
        '"flagged":true,"ip_pseudonym":"a1b2c3d4e5f60718",'
        '"occurred_at":"2026-03-02T06:00:00.000000+00:00",'
        '"patient_ref":"patient:1","prev_hash":"' + "0" * 64 + '",'
        '"purpose":"break_glass","reason":"Urgence : patient inconscient",'
        '"request_id":"0123456789abcdef","resource":"practice:1:patient-file"}'
    )

    assert canonical_bytes(VALUES) == expected.encode("utf-8")
    assert compute_hash(VALUES) == hashlib.sha256(expected.encode()).hexdigest()


def test_same_instant_in_another_zone_hashes_the_same():
    in_utc = {**VALUES, "occurred_at": datetime(2026, 3, 2, 6, 0, tzinfo=UTC)}

    assert compute_hash(in_utc) == compute_hash(VALUES)


@pytest.mark.parametrize("field", HASHED_FIELDS)
def test_every_hashed_field_changes_the_hash(field):
    changed = {
        "occurred_at": VALUES["occurred_at"] + timedelta(microseconds=1),
        "actor_id": None,
        "flagged": False,
    }.get(field, str(VALUES[field]) + "x")

    assert compute_hash({**VALUES, field: changed}) != compute_hash(VALUES)


def test_naive_instant_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_hash({**VALUES, "occurred_at": datetime(2026, 3, 2, 6, 0)})  # noqa: DTZ001


def test_extra_keys_are_ignored_and_missing_ones_refused():
    assert compute_hash({**VALUES, "id": 99, "hash": "f" * 64}) == compute_hash(VALUES)
    with pytest.raises(KeyError):
        compute_hash({k: v for k, v in VALUES.items() if k != "purpose"})
