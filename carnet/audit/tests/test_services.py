from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import RequestFactory

from carnet.audit.chain import GENESIS_HASH, HASHED_FIELDS, compute_hash
from carnet.audit.errors import (
    AuditTrailIsAppendOnly,
    BreakGlassReasonRequired,
    BreakGlassReasonTooLong,
)
from carnet.audit.models import AuditChainHead, AuditEvent
from carnet.audit.pseudonyms import pseudonymise_ip
from carnet.audit.selectors import verify_chain
from carnet.audit.tests.factories import record
from carnet.core.request_context import RequestContextMiddleware

pytestmark = pytest.mark.django_db

CLIENT_IP = "203.0.113.7"


def _head() -> tuple[int | None, str]:
    head = AuditChainHead.objects.get()
    return head.last_event_id, head.last_hash


def test_first_event_chains_to_genesis_and_moves_the_head():
    moment = datetime(2026, 3, 2, 6, 0, 0, 123456, tzinfo=UTC)

    with time_machine.travel(moment, tick=False):
        event = record(actor_label="")

    event.refresh_from_db()
    assert event.occurred_at == moment
    assert event.prev_hash == GENESIS_HASH
    assert event.hash == compute_hash({f: getattr(event, f) for f in HASHED_FIELDS})
    assert (event.actor_id, event.actor_kind, event.action, event.purpose) == (
        7,
        "staff",
        "read",
        "care",
    )
    assert (event.request_id, event.ip_pseudonym, event.flagged) == ("", "", False)
    assert _head() == (event.pk, event.hash)


def test_each_event_chains_to_the_one_before():
    first = record()
    second = record(action="update", resource="appointment:12")

    assert second.prev_hash == first.hash
    assert _head() == (second.pk, second.hash)


def test_request_id_and_pseudonym_come_from_the_request_and_the_raw_ip_is_never_stored():
    def view(request):
        record(resource="appointment:12")
        return HttpResponse()

    request = RequestFactory().get(
        "/", REMOTE_ADDR=CLIENT_IP, HTTP_X_REQUEST_ID="req-0123456789"
    )

    response = RequestContextMiddleware(view)(request)

    event = AuditEvent.objects.get()
    assert response["X-Request-ID"] == "req-0123456789"
    assert event.request_id == "req-0123456789"
    assert event.ip_pseudonym == pseudonymise_ip(CLIENT_IP)
    assert len(event.ip_pseudonym) == 16
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AuditEvent._meta.db_table}")  # noqa: S608
        stored = repr(cursor.fetchall())
    assert CLIENT_IP not in stored
    assert "203.0.113" not in stored


def test_break_glass_is_flagged_and_keeps_the_stated_reason_as_typed():
    event = record(
        action="break_glass",
        purpose="break_glass",
        reason="  Patient inconscient aux urgences ",
        flagged=False,
    )

    event.refresh_from_db()
    assert event.flagged is True
    assert event.reason == "  Patient inconscient aux urgences "


def test_other_events_can_be_flagged_by_the_caller():
    assert record(flagged=True).flagged is True


@pytest.mark.parametrize("reason", ["", "   "])
def test_break_glass_without_a_reason_is_refused_and_writes_nothing(reason):
    record()
    head_before = _head()

    with pytest.raises(BreakGlassReasonRequired):
        record(action="break_glass", purpose="break_glass", reason=reason)

    assert AuditEvent.objects.count() == 1
    assert _head() == head_before


def test_break_glass_reason_longer_than_500_characters_is_refused():
    with pytest.raises(BreakGlassReasonTooLong) as caught:
        record(action="break_glass", purpose="break_glass", reason="x" * 501)

    assert caught.value.render() == str(caught.value.message).format(max_length=500)
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"action": "peek"}, "unknown audit action: 'peek'"),
        ({"purpose": "curiosity"}, "unknown audit purpose: 'curiosity'"),
        ({"actor_kind": "robot"}, "unknown audit actor_kind: 'robot'"),
        ({"actor_id": None}, "a staff audit event needs an actor_id"),
        ({"resource": ""}, "an audit event needs a resource"),
        ({"resource": "r" * 201}, "audit resource longer than 200 characters"),
        ({"actor_label": "l" * 101}, "audit actor_label longer than 100 characters"),
        ({"reason": "because"}, "a reason is recorded only for break-glass access"),
    ],
)
def test_bad_arguments_are_refused_and_write_nothing(overrides, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        record(**overrides)

    assert AuditEvent.objects.count() == 0
    assert AuditChainHead.objects.count() == 0


def test_system_events_need_no_actor_id():
    event = record(actor_id=None, actor_kind="system", purpose="administration")

    assert event.actor_id is None


def test_event_rolls_back_with_the_access_it_records():
    kept = record()

    def failing_access() -> None:
        with transaction.atomic():
            record(resource="appointment:12")
            raise RuntimeError("the access failed")

    with pytest.raises(RuntimeError, match="the access failed"):
        failing_access()

    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert _head() == (kept.pk, kept.hash)
    after = record(resource="appointment:13")
    assert after.prev_hash == kept.hash
    assert verify_chain().ok


def test_a_lost_head_row_is_rebuilt_from_the_last_event():
    first = record()
    AuditChainHead.objects.all().delete()

    second = record(resource="appointment:12")

    assert second.prev_hash == first.hash
    assert verify_chain().ok


def test_the_orm_refuses_to_change_or_delete_events():
    event = record()
    event.resource = "appointment:666"

    with pytest.raises(AuditTrailIsAppendOnly):
        event.save()
    with pytest.raises(AuditTrailIsAppendOnly):
        event.delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(resource="appointment:666")
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.all().delete()

    event.refresh_from_db()
    assert event.resource == "practice:1:patient-file"
    assert verify_chain().ok
