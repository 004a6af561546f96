"""No double booking under real concurrency.

On PostgreSQL the exclusion constraint is the judge; on SQLite, IMMEDIATE
transactions serialise the check and the insert. Both run these races.
"""

import multiprocessing
import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from carnet.accounts.tests.factories import PatientFactory
from carnet.booking.errors import SlotUnavailable
from carnet.booking.models import Appointment
from carnet.booking.services import book_appointment, reschedule_appointment
from carnet.scheduling.tests.factories import (
    AgendaFactory,
    MotiveFactory,
    OpeningRuleFactory,
)

PARIS = ZoneInfo("Europe/Paris")
CLIENTS = 50

pytestmark = pytest.mark.django_db(transaction=True)


def _open_agenda():
    agenda = AgendaFactory(time_zone="Europe/Paris")
    for weekday in range(7):
        OpeningRuleFactory(
            agenda=agenda, weekday=weekday, opens_time=time(8), closes_time=time(18)
        )
    return agenda


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


def _race_processes(target, arguments):
    """Run target(*args) in forked processes released by one barrier.

    Separate processes (not threads sharing one interpreter lock) reach the
    database truly at once, as gunicorn workers do. Returns, per process, the
    outcome's class name ("Appointment", "SlotUnavailable", ...).
    """
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(arguments))
    results = context.Queue()
    connections.close_all()  # children open their own connections

    def run(index, args):
        try:
            barrier.wait(timeout=60)
            outcome = type(target(*args)).__name__
        except Exception as exc:  # noqa: BLE001 - every outcome is asserted by the caller
            outcome = (
                type(exc).__name__ if isinstance(exc, SlotUnavailable) else repr(exc)
            )
        finally:
            connections.close_all()
        results.put((index, outcome))

    processes = [
        context.Process(target=run, args=(i, a)) for i, a in enumerate(arguments)
    ]
    for process in processes:
        process.start()
    outcomes = dict(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=30)
    return [outcomes[i] for i in range(len(arguments))]


def _overlaps() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM booking_appointment a JOIN booking_appointment b
              ON a.agenda_id = b.agenda_id AND a.id < b.id
             AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
             WHERE a.status <> 'cancelled' AND b.status <> 'cancelled'
            """
        )
        return cursor.fetchone()[0]


def _soon_at(hour: int, minute: int = 0) -> datetime:
    """A wall-clock time three days from now: past notice and cut-off, within horizon."""
    day = timezone.now().astimezone(PARIS).date() + timedelta(days=3)
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def test_fifty_clients_racing_for_one_slot_yield_exactly_one_booking():
    motive = MotiveFactory(agenda=_open_agenda())
    patients = [PatientFactory() for _ in range(CLIENTS)]
    slot = _soon_at(10)

    def attempt(patient):
        return book_appointment(
            agenda_id=motive.agenda_id,
            motive_id=motive.pk,
            patient=patient,
            starts_at=slot,
            booked_by=patient.account,
        )

    outcomes = _race(attempt, [(p,) for p in patients])

    winners = [o for o in outcomes if isinstance(o, Appointment)]
    losers = [o for o in outcomes if isinstance(o, SlotUnavailable)]
    assert len(winners) == 1, outcomes
    assert len(losers) == CLIENTS - 1, [
        o for o in outcomes if not isinstance(o, (Appointment, SlotUnavailable))
    ]
    assert all(loser.code == "slot_unavailable" for loser in losers)
    assert Appointment.objects.filter(agenda=motive.agenda).count() == 1
    assert _overlaps() == 0


def test_racing_overlapping_motives_yield_one_booking():
    agenda = _open_agenda()
    short = MotiveFactory(agenda=agenda, duration_minutes=20)
    long = MotiveFactory(agenda=agenda, name="Bilan", duration_minutes=60)
    patients = [PatientFactory() for _ in range(20)]
    # 60-minute visits at 10:00 and 20-minute visits at 10:20 / 10:40 all meet.
    plan = [(long, _soon_at(10)), (short, _soon_at(10, 20)), (short, _soon_at(10, 40))]

    def attempt(patient, motive, slot):
        return book_appointment(
            agenda_id=agenda.pk,
            motive_id=motive.pk,
            patient=patient,
            starts_at=slot,
            booked_by=patient.account,
        )

    outcomes = _race(attempt, [(p, *plan[i % 3]) for i, p in enumerate(patients)])

    assert all(isinstance(o, (Appointment, SlotUnavailable)) for o in outcomes), (
        outcomes
    )
    assert _overlaps() == 0
    booked = Appointment.objects.filter(agenda=agenda)
    # Either the long visit won alone, or the short ones (which do not meet each other).
    assert booked.count() in (1, 2)


def test_racing_reschedules_into_one_slot_yield_one_move():
    motive = MotiveFactory(agenda=_open_agenda())
    patients = [PatientFactory() for _ in range(10)]
    appointments = [
        book_appointment(
            agenda_id=motive.agenda_id,
            motive_id=motive.pk,
            patient=p,
            starts_at=_soon_at(14, 0) + i * timedelta(minutes=20),
            booked_by=p.account,
        )
        for i, p in enumerate(patients)
    ]
    target = _soon_at(9)

    def attempt(appointment):
        return reschedule_appointment(
            user=appointment.patient.account,
            appointment_id=appointment.pk,
            starts_at=target,
        )

    outcomes = _race(attempt, [(a,) for a in appointments])

    assert sum(isinstance(o, Appointment) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, SlotUnavailable) for o in outcomes) == 9
    assert Appointment.objects.filter(starts_at=target).count() == 1
    assert _overlaps() == 0


@pytest.mark.postgres
def test_the_database_refuses_an_overlap_even_without_the_service():
    motive = MotiveFactory(agenda=_open_agenda())
    first, second = PatientFactory(), PatientFactory()
    slot = _soon_at(11)
    fields = {"agenda": motive.agenda, "motive": motive, "starts_at": slot}
    Appointment.objects.create(patient=first, ends_at=slot + motive.duration, **fields)

    with (
        pytest.raises(IntegrityError, match="appointment_no_overlap"),
        transaction.atomic(),
    ):
        Appointment.objects.create(
            patient=second, ends_at=slot + motive.duration, **fields
        )

    # A cancelled appointment does not hold its time.
    Appointment.objects.update(status=Appointment.Status.CANCELLED)
    Appointment.objects.create(patient=second, ends_at=slot + motive.duration, **fields)
    assert Appointment.objects.active().count() == 1


def test_repeated_lockstep_races_of_processes_never_deadlock():
    """Rounds of simultaneous bookings from separate processes, overlapping motives:
    one booking per round, every other process a clear SlotUnavailable (no
    deadlock, no database error)."""
    agenda = _open_agenda()
    motives = [MotiveFactory(agenda=agenda, duration_minutes=d) for d in (20, 40, 60)]
    patients = [PatientFactory() for _ in range(12)]

    def attempt(patient, motive, slot):
        return book_appointment(
            agenda_id=agenda.pk,
            motive_id=motive.pk,
            patient=patient,
            starts_at=slot,
            booked_by=patient.account,
        )

    # Every two hours from 08:00 lies on the 20-, 40- and 60-minute grids.
    for slot in [
        _soon_at(hour) + timedelta(days=day)
        for day in range(3)
        for hour in range(8, 17, 2)
    ]:
        outcomes = _race_processes(
            attempt, [(p, motives[i % 3], slot) for i, p in enumerate(patients)]
        )
        assert sorted(set(outcomes)) == ["Appointment", "SlotUnavailable"], outcomes
        assert outcomes.count("Appointment") == 1
    assert _overlaps() == 0
