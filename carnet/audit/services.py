"""Writes on the audit trail: record_event is the only way an event is created."""

from django.db import transaction
from django.utils import timezone

from carnet.audit.chain import GENESIS_HASH, HASHED_FIELDS, compute_hash
from carnet.audit.errors import BreakGlassReasonRequired, BreakGlassReasonTooLong
from carnet.audit.models import (
    CHAIN_HEAD_ID,
    Action,
    ActorKind,
    AuditChainHead,
    AuditEvent,
    Purpose,
)
from carnet.audit.pseudonyms import pseudonymise_ip
from carnet.core.request_context import get_client_ip, get_request_id

_NAMED_ACTORS = frozenset({ActorKind.PATIENT, ActorKind.STAFF})


def _max_length(field_name: str) -> int:
    return AuditEvent._meta.get_field(field_name).max_length or 0


def _require_choice(name: str, value: str, allowed: list[str]) -> None:
    if value not in allowed:
        raise ValueError(f"unknown audit {name}: {value!r}")


def _require_fits(name: str, value: str) -> None:
    if len(value) > _max_length(name):
        raise ValueError(f"audit {name} longer than {_max_length(name)} characters")


def _lock_chain_head() -> AuditChainHead:
    """The chain head, locked FOR UPDATE until the current transaction ends.

    Must be called inside transaction.atomic(). Creates the row on first use
    (or after a test flush), pointing at the last existing event, if any.
    """
    locked = AuditChainHead.objects.select_for_update()
    head = locked.filter(pk=CHAIN_HEAD_ID).first()
    if head is not None:
        return head
    last = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
    seed = AuditChainHead(
        pk=CHAIN_HEAD_ID,
        last_event_id=last[0] if last else None,
        last_hash=last[1] if last else GENESIS_HASH,
    )
    # Two first writers may race here: one inserts, the other's insert waits
    # for it and does nothing, then both queue on the row lock below.
    AuditChainHead.objects.bulk_create([seed], ignore_conflicts=True)
    return locked.get(pk=CHAIN_HEAD_ID)


def record_event(
    *,
    actor_id: int | None,
    actor_kind: str,
    action: str,
    resource: str,
    patient_ref: str = "",
    purpose: str,
    reason: str = "",
    flagged: bool = False,
    actor_label: str = "",
) -> AuditEvent:
    """Append one event to the audit trail, chained to the previous one, and return it.

    Joins the caller's transaction (or opens one): the event commits or rolls
    back with the access it records, and if recording fails the whole
    transaction is marked for rollback, so an access is never kept without its
    trace. Holds a SELECT FOR UPDATE lock on the chain head until that
    transaction ends (on SQLite the IMMEDIATE transaction's write lock plays
    that role), which serialises writers and keeps the chain linear: call it
    as late as possible in long transactions. Fills `occurred_at` (under the
    lock, so the chain is in time order), `request_id` and `ip_pseudonym` from
    carnet.core.request_context; the raw address is never stored.

    `action` and `purpose` are Action/Purpose values, `actor_kind` an
    ActorKind value; patient and staff actors need an `actor_id`. Break-glass
    (action or purpose BREAK_GLASS) needs a `reason`, stored as given, and is
    always flagged; any other event takes no reason. Raises
    BreakGlassReasonRequired or BreakGlassReasonTooLong for a bad reason and
    ValueError for any other bad argument; nothing is written then.
    """
    _require_choice("actor_kind", actor_kind, ActorKind.values)
    _require_choice("action", action, Action.values)
    _require_choice("purpose", purpose, Purpose.values)
    if actor_kind in _NAMED_ACTORS and actor_id is None:
        raise ValueError(f"a {actor_kind} audit event needs an actor_id")
    if not resource:
        raise ValueError("an audit event needs a resource")
    for name, value in (
        ("actor_label", actor_label),
        ("patient_ref", patient_ref),
        ("resource", resource),
    ):
        _require_fits(name, value)
    break_glass = action == Action.BREAK_GLASS or purpose == Purpose.BREAK_GLASS
    if break_glass:
        if not reason.strip():
            raise BreakGlassReasonRequired()
        if len(reason) > _max_length("reason"):
            raise BreakGlassReasonTooLong(max_length=_max_length("reason"))
    elif reason:
        raise ValueError("a reason is recorded only for break-glass access")

    event = AuditEvent(
        actor_id=actor_id,
        actor_kind=str(actor_kind),
        actor_label=actor_label,
        patient_ref=patient_ref,
        resource=resource,
        action=str(action),
        purpose=str(purpose),
        reason=reason,
        flagged=flagged or break_glass,
        request_id=get_request_id()[: _max_length("request_id")],
        ip_pseudonym=pseudonymise_ip(get_client_ip()),
    )
    # savepoint=False: a failure here dooms the caller's transaction too.
    with transaction.atomic(savepoint=False):
        head = _lock_chain_head()
        event.occurred_at = timezone.now()
        event.prev_hash = head.last_hash
        event.hash = compute_hash({f: getattr(event, f) for f in HASHED_FIELDS})
        event.save()
        head.last_event_id = event.pk
        head.last_hash = event.hash
        head.save(update_fields=["last_event_id", "last_hash"])
    return event
