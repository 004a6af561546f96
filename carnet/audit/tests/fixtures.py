"""Audit test fixtures: tampering with stored rows past the append-only guards.

A pytest plugin: carnet/audit/tests/conftest.py loads it for the audit tests.
Transactional tests elsewhere that record events on PostgreSQL need
`purge_audit_trail` too (see its docstring).
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, transaction

from carnet.audit.models import AuditEvent

TABLE = AuditEvent._meta.db_table


def _run_unguarded(sql: str, params: list[Any]) -> int:
    """Run `sql` on the audit table with its append-only triggers off (PostgreSQL).

    The test role owns the table, so it may disable the table's triggers; the
    statement runs in one transaction (a savepoint inside a test's), so the
    triggers are back on whatever happens. On SQLite there is nothing to turn off.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        changed = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
    return changed


def _tamper(event_id: int, field: str, value: Any) -> None:
    column = connection.ops.quote_name(AuditEvent._meta.get_field(field).column)
    if field == "occurred_at":
        value = connection.ops.adapt_datetimefield_value(value)
    sql = f"UPDATE {TABLE} SET {column} = %s WHERE id = %s"  # noqa: S608 - names from the model
    assert _run_unguarded(sql, [value, event_id]) == 1


def _delete_row(event_id: int) -> None:
    sql = f"DELETE FROM {TABLE} WHERE id = %s"  # noqa: S608 - name from the model
    assert _run_unguarded(sql, [event_id]) == 1


@pytest.fixture
def tamper() -> Callable[[int, str, Any], None]:
    """tamper(event_id, field, value): overwrite one column of one stored event in SQL."""
    return _tamper


@pytest.fixture
def delete_row() -> Callable[[int], None]:
    """delete_row(event_id): delete one stored event in SQL."""
    return _delete_row


@pytest.fixture
def purge_audit_trail(transactional_db: None) -> Iterator[None]:
    """Empty the audit table after a transactional test, before Django's flush.

    On PostgreSQL the trigger refuses to TRUNCATE a non-empty audit table,
    and Django's flush after a transactional test is a TRUNCATE of every
    table: a `django_db(transaction=True)` test that records audit events
    must use this fixture (it tears down before the flush).
    """
    yield
    _run_unguarded(f"DELETE FROM {TABLE}", [])  # noqa: S608 - name from the model
