"""A practice with its team (each with a second factor), a patient who came, one who never did."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from carnet.accounts.models import StaffMembership, User
from carnet.accounts.tests.factories import PatientFactory, UserFactory
from carnet.booking.models import Appointment
from carnet.scheduling.tests.factories import AgendaFactory, MotiveFactory


@pytest.fixture
def practice(agenda):
    return agenda.practice


@pytest.fixture
def staff(practice, enroll_totp):
    """staff(*roles, at=practice): a user holding `roles` there, with TOTP set up."""

    def make(*roles, at=None, mfa=True, **user_fields):
        user = UserFactory(**user_fields)
        for role in roles:
            StaffMembership.objects.create(
                user=user, practice=at or practice, role=role
            )
        if mfa:
            enroll_totp(user)
        return user

    return make


@pytest.fixture
def practitioner(staff):
    return staff(
        StaffMembership.Role.PRACTITIONER, first_name="Claire", last_name="Dubois"
    )


@pytest.fixture
def secretary(staff):
    return staff(StaffMembership.Role.SECRETARY)


@pytest.fixture
def practice_admin(staff):
    return staff(StaffMembership.Role.PRACTICE_ADMIN)


@pytest.fixture
def superuser(enroll_totp):
    root = User.objects.create_superuser("root@example.test", "a-long-pw-123")
    enroll_totp(root)
    return root


@pytest.fixture
def other_agenda(db):
    """An agenda of another practice."""
    return AgendaFactory()


@pytest.fixture
def other_practitioner(staff, other_agenda):
    return staff(StaffMembership.Role.PRACTITIONER, at=other_agenda.practice)


def make_visit(agenda, patient, *, days: int = -7, status=Appointment.Status.FULFILLED):
    """An appointment of `patient` on `agenda` (a past visit by default)."""
    starts_at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC) + timedelta(days=days)
    return Appointment.objects.create(
        agenda=agenda,
        patient=patient,
        motive=MotiveFactory(agenda=agenda),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=20),
        status=status,
    )


@pytest.fixture
def visit(agenda, patient):
    """The patient came to the practice once: they are a patient of the practice."""
    return make_visit(agenda, patient)


@pytest.fixture
def stranger(db):
    """A patient who never had an appointment at the practice."""
    return PatientFactory()


@pytest.fixture
def raw_column():
    """raw_column(model, field, pk): the bytes stored in the database, read in SQL."""

    def read(model, field: str, pk: int) -> bytes | None:
        table = connection.ops.quote_name(model._meta.db_table)
        column = connection.ops.quote_name(model._meta.get_field(field).column)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - names from the model
            value = cursor.fetchone()[0]
        return None if value is None else bytes(value)

    return read
