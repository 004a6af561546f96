"""Concurrent writers keep the chain linear (SQLite and PostgreSQL).

Each thread has its own database connection, as separate web workers do: on
PostgreSQL they queue on the chain head's row lock, on SQLite on the
IMMEDIATE transaction's write lock.
"""

import threading
from collections.abc import Callable

import pytest
from django.db import connections, transaction

from carnet.audit.chain import GENESIS_HASH
from carnet.audit.models import AuditEvent
from carnet.audit.selectors import VerificationResult, verify_chain
from carnet.audit.tests.factories import record

THREADS = 8
EVENTS_PER_THREAD = 25

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_audit_trail"),
]


class Aborted(Exception):
    """The access being recorded failed: its transaction rolls back."""


def _in_parallel(work: Callable[[int], None]) -> list[BaseException]:
    """Run work(thread_number) in THREADS threads released at once; return their errors."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(number: int) -> None:
        try:
            barrier.wait(timeout=30)
            work(number)
        except BaseException as exc:  # noqa: BLE001 - asserted by the caller
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def _assert_linear(expected_resources: set[str]) -> None:
    rows = list(AuditEvent.objects.order_by("id").values_list("prev_hash", "hash"))
    assert [prev for prev, _hash in rows] == [GENESIS_HASH] + [h for _p, h in rows[:-1]]
    assert set(AuditEvent.objects.values_list("resource", flat=True)) == (
        expected_resources
    )
    assert verify_chain() == VerificationResult(ok=True, count=len(expected_resources))


def test_eight_writers_appending_at_once_leave_one_valid_chain():
    def work(number: int) -> None:
        for index in range(EVENTS_PER_THREAD):
            record(resource=f"appointment:{number}-{index}")

    errors = _in_parallel(work)

    assert errors == []
    _assert_linear(
        {
            f"appointment:{n}-{i}"
            for n in range(THREADS)
            for i in range(EVENTS_PER_THREAD)
        }
    )


def test_rolled_back_accesses_leave_no_event_and_no_gap_in_the_chain():
    def work(number: int) -> None:
        for index in range(EVENTS_PER_THREAD):
            try:
                with transaction.atomic():
                    record(resource=f"appointment:{number}-{index}")
                    if index % 5 == 4:
                        raise Aborted()
            except Aborted:
                pass

    errors = _in_parallel(work)

    assert errors == []
    _assert_linear(
        {
            f"appointment:{n}-{i}"
            for n in range(THREADS)
            for i in range(EVENTS_PER_THREAD)
            if i % 5 != 4
        }
    )
