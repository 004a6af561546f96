"""One need booked twice at two practices: the pairs the reminders will ask about."""

from datetime import timedelta

import pytest

from carnet.accounts.tests.factories import PatientFactory
from carnet.booking.models import Appointment
from carnet.booking.selectors import list_duplicate_bookings
from carnet.booking.tests.conftest import paris
from carnet.directory.tests.factories import PractitionerRoleFactory, SpecialtyFactory
from carnet.scheduling.tests.factories import AgendaFactory, MotiveFactory
from conftest import NOW

pytestmark = pytest.mark.django_db


def agenda_of(specialty, practice=None):
    """An agenda of a practitioner of `specialty`, at `practice` or a new one."""
    place = {"location__practice": practice} if practice is not None else {}
    return AgendaFactory(
        role=PractitionerRoleFactory(practitioner__specialty=specialty, **place)
    )


def visit(agenda, patient, starts_at, *, motive_name="Consultation", **fields):
    motive = MotiveFactory(agenda=agenda, name=motive_name)
    return Appointment.objects.create(
        agenda=agenda,
        motive=motive,
        patient=patient,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=20),
        **fields,
    )


@pytest.fixture
def dermatology(db):
    return SpecialtyFactory(code="dermatology")


def test_the_same_need_at_two_practices_is_a_pair(dermatology):
    patient = PatientFactory()
    first = visit(agenda_of(dermatology), patient, paris(2026, 3, 10, 9, 0))
    second = visit(
        agenda_of(dermatology),
        patient,
        paris(2026, 4, 2, 9, 0),
        motive_name="  CONSULTATION ",
    )

    pairs = list_duplicate_bookings(patient_id=patient.pk, now=NOW)

    assert [(p.earlier, p.later) for p in pairs] == [(first, second)]


def test_different_needs_past_cancelled_or_same_practice_are_not(dermatology):
    patient = PatientFactory()
    here = agenda_of(dermatology)
    visit(here, patient, paris(2026, 3, 10, 9, 0))
    # the same practice (a follow-up with a colleague): not a duplicate
    visit(
        agenda_of(dermatology, practice=here.practice), patient, paris(2026, 3, 12, 9)
    )
    # another specialty, another motive, the past, a cancellation, someone else
    visit(
        agenda_of(SpecialtyFactory(code="cardiology")), patient, paris(2026, 3, 11, 9)
    )
    visit(agenda_of(dermatology), patient, paris(2026, 3, 13, 9), motive_name="Biopsie")
    visit(agenda_of(dermatology), patient, paris(2026, 2, 20, 9))
    visit(
        agenda_of(dermatology),
        patient,
        paris(2026, 3, 14, 9),
        status=Appointment.Status.CANCELLED,
    )
    visit(agenda_of(dermatology), PatientFactory(), paris(2026, 3, 15, 9))

    assert list_duplicate_bookings(patient_id=patient.pk, now=NOW) == []
