"""PostgreSQL itself refuses to change or delete audit events (migration 0002)."""

import pytest
from django.db import ProgrammingError, connection, transaction
from django.db.models import QuerySet

from carnet.audit.models import AuditEvent
from carnet.audit.selectors import VerificationResult, verify_chain
from carnet.audit.tests.factories import record

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TABLE = AuditEvent._meta.db_table


def _refused(statement):
    with (
        pytest.raises(ProgrammingError, match="audit events are append-only") as caught,
        transaction.atomic(),
    ):
        statement()
    return caught.value


def test_orm_update_is_refused_by_the_database():
    event = record()
    unguarded = QuerySet(model=AuditEvent)  # past the model's own refusal

    error = _refused(lambda: unguarded.filter(pk=event.pk).update(resource="x:1"))

    assert "UPDATE on audit_auditevent refused" in str(error)
    event.refresh_from_db()
    assert event.resource == "practice:1:patient-file"


def test_raw_delete_is_refused_by_the_database():
    event = record()

    def delete():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [event.pk])  # noqa: S608

    error = _refused(delete)

    assert "DELETE on audit_auditevent refused" in str(error)
    assert verify_chain() == VerificationResult(ok=True, count=1)


def test_update_matching_no_row_is_refused_too():
    record()

    def update_nothing():
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {TABLE} SET resource = 'x' WHERE false")  # noqa: S608

    _refused(update_nothing)


def test_truncate_of_a_non_empty_trail_is_refused():
    record()

    def truncate():
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {TABLE}")

    error = _refused(truncate)

    assert "TRUNCATE on audit_auditevent refused" in str(error)
    assert AuditEvent.objects.count() == 1


def test_truncate_of_an_empty_trail_is_allowed():
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLE}")

    assert AuditEvent.objects.count() == 0
