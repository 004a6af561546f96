"""Staff of the agenda's practice and of another practice, with a second factor."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from carnet.accounts.models import StaffMembership
from carnet.accounts.tests.factories import UserFactory
from carnet.booking.services import book_appointment
from carnet.directory.tests.factories import PracticeFactory

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def member(practice, role=StaffMembership.Role.SECRETARY, **user_fields):
    user = UserFactory(**user_fields)
    StaffMembership.objects.create(user=user, practice=practice, role=role)
    return user


@pytest.fixture
def secretary(agenda, enroll_totp):
    """A secretary of the agenda's practice, with TOTP set up."""
    user = member(agenda.practice, first_name="Sophie", last_name="Martin")
    enroll_totp(user)
    return user


@pytest.fixture
def practitioner(agenda, enroll_totp):
    """A practitioner of the agenda's practice, with TOTP set up."""
    user = member(agenda.practice, StaffMembership.Role.PRACTITIONER)
    enroll_totp(user)
    return user


@pytest.fixture
def outsider(db, enroll_totp):
    """A practice admin of another practice, with TOTP set up."""
    user = member(PracticeFactory(), StaffMembership.Role.PRACTICE_ADMIN)
    enroll_totp(user)
    return user


@pytest.fixture
def without_mfa(agenda):
    """A practitioner of the agenda's practice who never set up a second factor."""
    return member(agenda.practice, StaffMembership.Role.PRACTITIONER)


@pytest.fixture
def book():
    """Book as the patient would (the patient's own account)."""

    def book(motive, patient, starts_at, **kwargs):
        return book_appointment(
            agenda_id=motive.agenda_id,
            motive_id=motive.pk,
            patient=patient,
            starts_at=starts_at,
            booked_by=patient.account,
            **kwargs,
        )

    return book
