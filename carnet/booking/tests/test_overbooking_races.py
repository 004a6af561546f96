"""Overbooking is deliberate and flagged; every other overlap stays impossible, even in races.

On PostgreSQL the exclusion constraint (migration 0006) spares only rows
flagged `is_overbooked`; on SQLite IMMEDIATE transactions serialise the
services' checks. Both databases run the races.
"""

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from carnet.accounts.models import StaffMembership
from carnet.accounts.tests.factories import PatientFactory
from carnet.booking.errors import SlotUnavailable
from carnet.booking.models import Appointment
from carnet.booking.services import book_appointment
from carnet.booking.staff import staff_book, staff_move
from carnet.booking.tests.conftest import member
from carnet.scheduling.tests.factories import (
    AgendaFactory,
    MotiveFactory,
    OpeningRuleFactory,
)

PARIS = ZoneInfo("Europe/Paris")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("purge_audit_trail"),  # staff writes are audited
]


def _open_agenda():
    agenda = AgendaFactory(time_zone="Europe/Paris")
    for weekday in range(7):
        OpeningRuleFactory(
            agenda=agenda, weekday=weekday, opens_time=time(8), closes_time=time(18)
        )
    return agenda


def _soon_at(hour: int, minute: int = 0) -> datetime:
    day = timezone.now().astimezone(PARIS).date() + timedelta(days=3)
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def _race(target, arguments):
    """Run target(*args) for each args in parallel threads released by one barrier."""
    barrier = threading.Barrier(len(arguments))
    outcomes = [None] * len(arguments)

    def run(index, args):
        try:
            barrier.wait()
            outcomes[index] = target(*args)
        except Exception as exc:  # noqa: BLE001 - every outcome is asserted below
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(i, a)) for i, a in enumerate(arguments)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def _plain_overlaps() -> int:
    """Pairs of overlapping appointments, neither cancelled nor overbooked."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM booking_appointment a JOIN booking_appointment b
              ON a.agenda_id = b.agenda_id AND a.id < b.id
             AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
             WHERE a.status <> 'cancelled' AND b.status <> 'cancelled'
               AND NOT a.is_overbooked AND NOT b.is_overbooked
            """
        )
        return cursor.fetchone()[0]


@pytest.fixture
def staff(enroll_totp):
    def make(agenda):
        user = member(agenda.practice, StaffMembership.Role.SECRETARY)
        enroll_totp(user)
        return user

    return make


def test_patients_racing_an_overbooking_secretary_leave_one_plain_booking(staff):
    motive = MotiveFactory(agenda=_open_agenda())
    secretary = staff(motive.agenda)
    patients = [PatientFactory() for _ in range(20)]
    slot = _soon_at(10)

    def by_patient(patient):
        return book_appointment(
            agenda_id=motive.agenda_id,
            motive_id=motive.pk,
            patient=patient,
            starts_at=slot,
            booked_by=patient.account,
        )

    def by_secretary(patient):
        return staff_book(
            actor=secretary,
            agenda_id=motive.agenda_id,
            motive_id=motive.pk,
            patient=patient,
            starts_at=slot,
            overbook=True,
        )

    calls = [
        (by_secretary, p) if i in (5, 15) else (by_patient, p)
        for i, p in enumerate(patients)
    ]
    outcomes = _race(lambda call, patient: call(patient), calls)

    booked = [o for o in outcomes if isinstance(o, Appointment)]
    refused = [o for o in outcomes if isinstance(o, SlotUnavailable)]
    assert len(booked) + len(refused) == len(patients), outcomes
    # Both secretaries always get in; exactly one booking is not overbooked.
    by_staff = [
        o for o, (call, _p) in zip(outcomes, calls, strict=True) if call is by_secretary
    ]
    assert all(isinstance(o, Appointment) for o in by_staff), by_staff
    rows = Appointment.objects.filter(agenda=motive.agenda, starts_at=slot)
    assert rows.filter(is_overbooked=False).count() == 1
    assert rows.filter(is_overbooked=True).count() == len(booked) - 1
    assert _plain_overlaps() == 0


def test_staff_without_overbook_race_patients_like_anyone(staff):
    motive = MotiveFactory(agenda=_open_agenda())
    secretary = staff(motive.agenda)
    patients = [PatientFactory() for _ in range(16)]
    slot = _soon_at(11)

    def attempt(index, patient):
        if index % 4 == 0:
            return staff_book(
                actor=secretary,
                agenda_id=motive.agenda_id,
                motive_id=motive.pk,
                patient=patient,
                starts_at=slot,
            )
        return book_appointment(
            agenda_id=motive.agenda_id,
            motive_id=motive.pk,
            patient=patient,
            starts_at=slot,
            booked_by=patient.account,
        )

    outcomes = _race(attempt, list(enumerate(patients)))

    assert sum(isinstance(o, Appointment) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, SlotUnavailable) for o in outcomes) == 15, outcomes
    assert not Appointment.objects.filter(is_overbooked=True).exists()
    assert _plain_overlaps() == 0


def test_racing_staff_moves_into_one_slot_yield_one_move(staff):
    motive = MotiveFactory(agenda=_open_agenda())
    secretary = staff(motive.agenda)
    appointments = [
        staff_book(
            actor=secretary,
            agenda_id=motive.agenda_id,
            motive_id=motive.pk,
            patient=PatientFactory(),
            starts_at=_soon_at(14) + i * timedelta(minutes=20),
        )
        for i in range(8)
    ]
    target = _soon_at(9)

    def attempt(appointment):
        return staff_move(
            actor=secretary, appointment_id=appointment.pk, starts_at=target
        )

    outcomes = _race(attempt, [(a,) for a in appointments])

    assert sum(isinstance(o, Appointment) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, SlotUnavailable) for o in outcomes) == 7, outcomes
    assert Appointment.objects.filter(starts_at=target).count() == 1
    assert _plain_overlaps() == 0


@pytest.mark.postgres
def test_the_database_spares_only_overbooked_rows():
    motive = MotiveFactory(agenda=_open_agenda())
    slot = _soon_at(12)
    fields = {
        "agenda": motive.agenda,
        "motive": motive,
        "starts_at": slot,
        "ends_at": slot + motive.duration,
    }
    Appointment.objects.create(patient=PatientFactory(), **fields)
    overbooked = Appointment.objects.create(
        patient=PatientFactory(), is_overbooked=True, **fields
    )

    with (
        pytest.raises(IntegrityError, match="appointment_no_overlap"),
        transaction.atomic(),
    ):
        Appointment.objects.create(patient=PatientFactory(), **fields)
    # Clearing the flag of a row on top of another is refused too.
    with (
        pytest.raises(IntegrityError, match="appointment_no_overlap"),
        transaction.atomic(),
    ):
        Appointment.objects.filter(pk=overbooked.pk).update(is_overbooked=False)

    assert Appointment.objects.filter(agenda=motive.agenda).count() == 2


@pytest.mark.postgres
def test_raw_concurrent_inserts_bypassing_the_services_yield_one_plain_row():
    """No agenda lock, no service check: the constraint alone decides."""
    motive = MotiveFactory(agenda=_open_agenda())
    slot = _soon_at(13)
    patients = [PatientFactory() for _ in range(12)]

    def insert(patient, overbooked):
        with transaction.atomic():
            return Appointment.objects.create(
                agenda=motive.agenda,
                motive=motive,
                patient=patient,
                starts_at=slot,
                ends_at=slot + motive.duration,
                is_overbooked=overbooked,
            )

    outcomes = _race(insert, [(p, i % 4 == 0) for i, p in enumerate(patients)])

    plain_won = [
        o for o in outcomes if isinstance(o, Appointment) and not o.is_overbooked
    ]
    refused = [o for o in outcomes if isinstance(o, IntegrityError)]
    assert len(plain_won) == 1, outcomes
    assert len(refused) == 8, outcomes
    assert Appointment.objects.filter(is_overbooked=True).count() == 3
    assert _plain_overlaps() == 0
