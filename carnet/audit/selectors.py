"""Reads on the audit trail: chain verification and the patient's own view."""

import enum
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import QuerySet

from carnet.audit.chain import GENESIS_HASH, HASHED_FIELDS, compute_hash
from carnet.audit.models import CHAIN_HEAD_ID, AuditChainHead, AuditEvent

PATIENT_VIEW_FIELDS: tuple[str, ...] = (
    "occurred_at",
    "actor_kind",
    "actor_label",
    "action",
    "purpose",
    "flagged",
)


class BreakReason(enum.StrEnum):
    """Why verification stopped at an event."""

    HASH_MISMATCH = "hash_mismatch"
    """The event's content no longer matches its stored hash: it was edited."""

    BROKEN_LINK = "broken_link"
    """The event's prev_hash is not the previous event's hash: an event before
    it is missing or was rewritten together with its hash."""

    HEAD_MISMATCH = "head_mismatch"
    """The last event is not the one the chain head points to: events were cut
    off the end, or the last one was rewritten together with its hash."""

    HEAD_MISSING = "head_missing"
    """Events exist but the chain head row is gone."""


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The outcome of verify_chain.

    `count` is the number of events found intact, in chain order, before the
    first break (all of them when `ok`). `first_broken_id` is the id of the
    event where the chain breaks: the edited event for HASH_MISMATCH, the
    event after the gap for BROKEN_LINK, the event the head expects for
    HEAD_MISMATCH, None for HEAD_MISSING.
    """

    ok: bool
    count: int
    first_broken_id: int | None = None
    reason: BreakReason | None = None


def _read_transaction() -> AbstractContextManager[object]:
    """A transaction around a long read on PostgreSQL, none on SQLite.

    On PostgreSQL a server-side cursor opened outside a transaction is
    declared WITH HOLD, which makes the server copy the whole result before
    the first row arrives. On SQLite a transaction here would be IMMEDIATE
    and hold the write lock, stopping every writer for the whole read.
    """
    if connection.vendor == "postgresql":
        return transaction.atomic()
    return nullcontext()


def _broken(
    count: int, event_id: int | None, reason: BreakReason
) -> VerificationResult:
    return VerificationResult(
        ok=False, count=count, first_broken_id=event_id, reason=reason
    )


def verify_chain(*, chunk_size: int = 2000) -> VerificationResult:
    """Recompute every event's hash and link, in id order, up to the chain head.

    Streams rows with .iterator() (a server-side cursor on PostgreSQL), so
    memory stays bounded whatever the size of the trail, and takes no lock:
    writers keep appending meanwhile. Events committed after the head was
    read are left for the next run. Stops at the first break.
    """
    head = AuditChainHead.objects.filter(pk=CHAIN_HEAD_ID).first()
    if head is None or head.last_event_id is None:
        if not AuditEvent.objects.exists():
            return VerificationResult(ok=True, count=0)
        # The first event and the head commit together: look again before
        # calling the head missing, in case both landed in between.
        head = AuditChainHead.objects.filter(pk=CHAIN_HEAD_ID).first()
        if head is None or head.last_event_id is None:
            return _broken(0, None, BreakReason.HEAD_MISSING)

    rows = (
        AuditEvent.objects.filter(id__lte=head.last_event_id)
        .order_by("id")
        .values_list("id", "hash", *HASHED_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    expected_prev = GENESIS_HASH
    last_id: int | None = None
    count = 0
    with _read_transaction():
        for event_id, stored_hash, *values in rows:
            fields = dict(zip(HASHED_FIELDS, values, strict=True))
            if compute_hash(fields) != stored_hash:
                return _broken(count, event_id, BreakReason.HASH_MISMATCH)
            if fields["prev_hash"] != expected_prev:
                return _broken(count, event_id, BreakReason.BROKEN_LINK)
            expected_prev = stored_hash
            last_id = event_id
            count += 1
    if last_id != head.last_event_id or expected_prev != head.last_hash:
        return _broken(count, head.last_event_id, BreakReason.HEAD_MISMATCH)
    return VerificationResult(ok=True, count=count)


def list_events_for_patient(*, patient_ref: str) -> QuerySet[AuditEvent]:
    """The events filed under `patient_ref`, newest first: "who accessed my data".

    Loads only PATIENT_VIEW_FIELDS (and the id): an interface must show no
    other field. An empty `patient_ref` matches nothing, never the events
    that concern no patient.
    """
    if not patient_ref:
        return AuditEvent.objects.none()
    return (
        AuditEvent.objects.filter(patient_ref=patient_ref)
        .order_by("-occurred_at", "-id")
        .only("id", *PATIENT_VIEW_FIELDS)
    )
