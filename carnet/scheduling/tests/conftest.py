"""Scenario fixtures for the practice settings: an empty agenda and its team."""

from datetime import datetime

import pytest

from carnet.accounts.models import StaffMembership
from carnet.accounts.tests.factories import PatientFactory, UserFactory
from carnet.booking.models import Appointment
from carnet.directory.tests.factories import PracticeFactory
from carnet.scheduling.models import VisitMotive
from carnet.scheduling.tests.factories import AgendaFactory, MotiveFactory

ROLES = ["practice_admin", "practitioner", "secretary"]


@pytest.fixture
def empty_agenda(db):
    """A Paris agenda with no opening rule, no motive, no absence."""
    return AgendaFactory(time_zone="Europe/Paris")


@pytest.fixture
def consultation(empty_agenda) -> VisitMotive:
    """A 20-minute visit on the empty agenda: 60 min notice, 90 days horizon."""
    return MotiveFactory(agenda=empty_agenda)


@pytest.fixture
def make_staff(db, enroll_totp):
    """make_staff(practice, role, mfa=True): a user holding `role` at `practice`."""

    def make(practice, role: str, *, mfa: bool = True):
        user = UserFactory()
        StaffMembership.objects.create(user=user, practice=practice, role=role)
        if mfa:
            enroll_totp(user)
        return user

    return make


@pytest.fixture
def admin(make_staff, empty_agenda):
    """A practice admin of the empty agenda's practice, with TOTP."""
    return make_staff(empty_agenda.practice, "practice_admin")


@pytest.fixture
def secretary(make_staff, empty_agenda):
    """A secretary of the empty agenda's practice, with TOTP."""
    return make_staff(empty_agenda.practice, "secretary")


@pytest.fixture
def other_practice(db):
    """A practice the empty agenda does not belong to."""
    return PracticeFactory()


@pytest.fixture
def book(db):
    """book(motive, starts_at): a booked appointment, written directly."""

    def make(motive: VisitMotive, starts_at: datetime) -> Appointment:
        return Appointment.objects.create(
            agenda=motive.agenda,
            motive=motive,
            patient=PatientFactory(),
            starts_at=starts_at,
            ends_at=starts_at + motive.duration,
        )

    return make
