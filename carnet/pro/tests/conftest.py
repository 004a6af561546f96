"""A practice's team (each with a second factor), logged in through the real pages."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from carnet.accounts.models import StaffMembership
from carnet.accounts.tests.factories import PatientFactory, UserFactory
from carnet.booking.models import Appointment
from carnet.directory.tests.factories import PracticeFactory
from carnet.scheduling.tests.factories import MotiveFactory
from conftest import login_with_totp

PARIS = ZoneInfo("Europe/Paris")
PASSWORD = "secret-password"  # UserFactory's


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def staff(agenda, enroll_totp):
    """staff(role, at=practice): a user holding `role` there, with TOTP set up."""

    def make(role: str, *, at=None, mfa: bool = True, **user_fields):
        user = UserFactory(**user_fields)
        StaffMembership.objects.create(
            user=user, practice=at or agenda.practice, role=role
        )
        if mfa:
            enroll_totp(user)
        return user

    return make


@pytest.fixture
def signed_in(totp_secret):
    """signed_in(user): a client logged in with password and TOTP, as staff do."""

    def sign_in(user) -> Client:
        client = Client()
        login_with_totp(client, email=user.email, password=PASSWORD, secret=totp_secret)
        return client

    return sign_in


@pytest.fixture
def other_practice_admin(staff):
    return staff(StaffMembership.Role.PRACTICE_ADMIN, at=PracticeFactory())


@pytest.fixture
def visit():
    """visit(agenda, patient, starts_at, **fields): an appointment made directly."""

    def make(agenda, patient, starts_at, *, motive=None, minutes=20, **fields):
        return Appointment.objects.create(
            agenda=agenda,
            patient=patient,
            motive=motive or MotiveFactory(agenda=agenda),
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            **fields,
        )

    return make


@pytest.fixture
def anne(db):
    """A patient with contact data on file."""
    patient = PatientFactory(first_name="Anne", last_name="Lefebvre")
    patient.phone = "+33612345678"
    patient.email = "anne.lefebvre@example.test"
    patient.save()
    return patient


@pytest.fixture
def bruno(db):
    return PatientFactory(first_name="Bruno", last_name="Garnier")
