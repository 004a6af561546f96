from datetime import timedelta

import pytest
import time_machine

from carnet.audit.chain import HASHED_FIELDS, compute_hash
from carnet.audit.models import AuditChainHead, AuditEvent
from carnet.audit.selectors import (
    PATIENT_VIEW_FIELDS,
    BreakReason,
    VerificationResult,
    list_events_for_patient,
    verify_chain,
)
from carnet.audit.tests.factories import record

pytestmark = pytest.mark.django_db


def _chain_of_five() -> list[AuditEvent]:
    """Five events; the fourth is a break-glass access (the only one with a reason)."""
    return [
        record(resource="appointment:1"),
        record(resource="appointment:2", actor_label="Logiciel Cabinet"),
        record(resource="appointment:3", actor_kind="api", actor_label="HIS Nord"),
        record(action="break_glass", purpose="break_glass", reason="Urgence vitale"),
        record(resource="appointment:5"),
    ]


def test_empty_trail_verifies():
    assert verify_chain() == VerificationResult(ok=True, count=0)


def test_a_chain_of_a_thousand_events_verifies():
    for number in range(1000):
        record(resource=f"appointment:{number}", patient_ref=f"patient:{number % 37}")

    assert verify_chain(chunk_size=100) == VerificationResult(ok=True, count=1000)


@pytest.mark.parametrize(
    ("field", "index", "forged"),
    [
        ("occurred_at", 2, lambda e: e.occurred_at + timedelta(microseconds=1)),
        ("actor_id", 2, lambda e: 8),
        ("actor_kind", 2, lambda e: "staff"),
        ("actor_label", 2, lambda e: "Someone else"),
        ("patient_ref", 2, lambda e: "patient:2"),
        ("resource", 2, lambda e: "appointment:4"),
        ("action", 2, lambda e: "update"),
        ("purpose", 2, lambda e: "administration"),
        ("reason", 3, lambda e: "Curiosité"),
        ("flagged", 2, lambda e: True),
        ("request_id", 2, lambda e: "forged-request-id"),
        ("ip_pseudonym", 2, lambda e: "0123456789abcdef"),
        ("prev_hash", 2, lambda e: "e" * 64),
        ("hash", 2, lambda e: "f" * 64),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_tampering_with_any_field_of_one_event_names_that_event(
    tamper, field, index, forged
):
    events = _chain_of_five()
    target = events[index]

    tamper(target.pk, field, forged(target))

    assert verify_chain() == VerificationResult(
        ok=False,
        count=index,
        first_broken_id=target.pk,
        reason=BreakReason.HASH_MISMATCH,
    )


def test_rewriting_an_event_with_a_fresh_hash_breaks_the_next_link(tamper):
    events = _chain_of_five()
    target = events[2]
    forged = {f: getattr(target, f) for f in HASHED_FIELDS} | {"resource": "x:1"}

    tamper(target.pk, "resource", "x:1")
    tamper(target.pk, "hash", compute_hash(forged))

    assert verify_chain() == VerificationResult(
        ok=False, count=3, first_broken_id=events[3].pk, reason=BreakReason.BROKEN_LINK
    )


@pytest.mark.parametrize("index", [0, 2])
def test_deleting_an_event_breaks_the_link_of_the_next_one(delete_row, index):
    events = _chain_of_five()

    delete_row(events[index].pk)

    assert verify_chain() == VerificationResult(
        ok=False,
        count=index,
        first_broken_id=events[index + 1].pk,
        reason=BreakReason.BROKEN_LINK,
    )


def test_deleting_the_last_event_is_caught_by_the_chain_head(delete_row):
    events = _chain_of_five()

    delete_row(events[-1].pk)

    assert verify_chain() == VerificationResult(
        ok=False,
        count=4,
        first_broken_id=events[-1].pk,
        reason=BreakReason.HEAD_MISMATCH,
    )


def test_a_missing_chain_head_is_reported():
    _chain_of_five()
    AuditChainHead.objects.all().delete()

    assert verify_chain() == VerificationResult(
        ok=False, count=0, first_broken_id=None, reason=BreakReason.HEAD_MISSING
    )


def test_events_past_the_head_are_left_for_the_next_run():
    events = _chain_of_five()
    AuditChainHead.objects.update(last_event_id=events[3].pk, last_hash=events[3].hash)

    assert verify_chain() == VerificationResult(ok=True, count=4)


def test_patient_sees_only_their_events_newest_first_with_the_public_fields():
    with time_machine.travel("2026-03-02T06:00:00Z", tick=False) as clock:
        oldest = record(patient_ref="patient:1", actor_kind="api", actor_label="HIS")
        clock.shift(60)
        record(patient_ref="patient:2")
        record(patient_ref="", resource="practice:1:agenda")
        clock.shift(60)
        newest = record(
            patient_ref="patient:1",
            action="break_glass",
            purpose="break_glass",
            reason="Urgence vitale",
        )

    events = list(list_events_for_patient(patient_ref="patient:1"))

    assert [e.pk for e in events] == [newest.pk, oldest.pk]
    assert [tuple(getattr(e, f) for f in PATIENT_VIEW_FIELDS) for e in events] == [
        (newest.occurred_at, "staff", "", "break_glass", "break_glass", True),
        (oldest.occurred_at, "api", "HIS", "read", "care", False),
    ]
    assert events[0].get_deferred_fields() == {
        "actor_id",
        "patient_ref",
        "resource",
        "reason",
        "request_id",
        "ip_pseudonym",
        "prev_hash",
        "hash",
    }


def test_patient_list_is_one_query(django_assert_num_queries):
    record(patient_ref="patient:1")
    record(patient_ref="patient:1")

    with django_assert_num_queries(1):
        events = list(list_events_for_patient(patient_ref="patient:1"))
        labels = [(e.get_action_display(), e.get_purpose_display()) for e in events]

    assert len(labels) == 2


def test_empty_patient_reference_matches_nothing():
    record(patient_ref="")

    assert list(list_events_for_patient(patient_ref="")) == []
