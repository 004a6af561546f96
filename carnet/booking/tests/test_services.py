from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from carnet.accounts.tests.factories import PatientFactory
from carnet.booking.errors import (
    AppointmentNotActive,
    AppointmentNotFound,
    CancellationTooLate,
    IdempotencyKeyReused,
    MotiveClosedToNewPatients,
    NaiveDatetime,
    SlotInPast,
    SlotOutsideHours,
    SlotTooFar,
    SlotTooSoon,
    SlotUnavailable,
)
from carnet.booking.models import Appointment
from carnet.booking.selectors import list_free_slots
from carnet.booking.services import (
    book_appointment,
    cancel_appointment,
    reschedule_appointment,
)
from carnet.scheduling.errors import MotiveNotFound
from carnet.scheduling.tests.factories import AbsenceFactory, MotiveFactory

PARIS = ZoneInfo("Europe/Paris")
pytestmark = pytest.mark.django_db


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def book(motive, patient, starts_at, **kwargs):
    return book_appointment(
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        patient=patient,
        starts_at=starts_at,
        booked_by=patient.account,
        **kwargs,
    )


def test_booking_a_free_slot_creates_a_booked_appointment(frozen_now, motive, patient):
    appointment = book(motive, patient, paris(2026, 3, 2, 9, 0), reason="fièvre")

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert appointment.starts_at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert appointment.ends_at == datetime(2026, 3, 2, 8, 20, tzinfo=UTC)
    assert appointment.booked_by_kind == Appointment.Actor.PATIENT
    assert appointment.booked_by == patient.account


def test_second_booking_of_the_same_slot_is_refused_with_alternatives(
    frozen_now, motive, patient
):
    book(motive, patient, paris(2026, 3, 2, 9, 0))
    other = PatientFactory()

    with pytest.raises(SlotUnavailable) as caught:
        book(motive, other, paris(2026, 3, 2, 9, 0))

    assert Appointment.objects.count() == 1
    alternatives = caught.value.details["alternatives"]
    assert alternatives == [
        "2026-03-02T08:20:00+01:00",
        "2026-03-02T08:40:00+01:00",
        "2026-03-02T09:20:00+01:00",
        "2026-03-02T09:40:00+01:00",
        "2026-03-02T10:00:00+01:00",
    ]


def test_overlapping_booking_of_another_motive_is_refused(
    frozen_now, agenda, motive, patient
):
    long_visit = MotiveFactory(agenda=agenda, name="Bilan", duration_minutes=40)
    book(long_visit, patient, paris(2026, 3, 2, 8, 40))  # 08:40-09:20

    with pytest.raises(SlotUnavailable):
        book(motive, PatientFactory(), paris(2026, 3, 2, 9, 0))
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("starts_at", "error"),
    [
        (paris(2026, 3, 3, 7, 0), SlotOutsideHours),  # before opening
        (paris(2026, 3, 2, 17, 50), SlotOutsideHours),  # would end after closing
        (paris(2026, 3, 2, 9, 5), SlotOutsideHours),  # off the 20-minute grid
        (paris(2026, 3, 1, 9, 0), SlotInPast),
        (paris(2026, 3, 3, 7, 40), SlotOutsideHours),  # ends at opening, starts before
        (paris(2026, 3, 2, 8, 40), SlotTooSoon),  # 100 minutes ahead, 120 needed
        (paris(2026, 6, 2, 9, 0), SlotTooFar),
    ],
)
def test_rules_refuse_with_their_own_error(
    frozen_now, motive, patient, starts_at, error
):
    motive.min_notice_minutes = 120
    motive.save(update_fields=["min_notice_minutes"])

    with pytest.raises(error):
        book(motive, patient, starts_at)
    assert Appointment.objects.count() == 0


def test_naive_datetimes_are_refused(frozen_now, motive, patient):
    with pytest.raises(NaiveDatetime):
        book(motive, patient, datetime(2026, 3, 2, 9, 0))  # noqa: DTZ001
    assert Appointment.objects.count() == 0


def test_absence_blocks_its_slots(frozen_now, agenda, motive, patient):
    AbsenceFactory(
        agenda=agenda,
        starts_at=paris(2026, 3, 3, 0, 0),
        ends_at=paris(2026, 3, 4, 0, 0),
    )

    with pytest.raises(SlotUnavailable):
        book(motive, patient, paris(2026, 3, 3, 10, 0))
    assert (
        list_free_slots(
            motive=motive, first_day=paris(2026, 3, 3).date(), days=1, now=frozen_now
        )
        == []
    )


def test_motive_closed_to_new_patients_needs_a_past_visit(
    frozen_now, agenda, motive, patient
):
    follow_up = MotiveFactory(agenda=agenda, name="Suivi", open_to_new_patients=False)

    with pytest.raises(MotiveClosedToNewPatients):
        book(follow_up, patient, paris(2026, 3, 2, 10, 0))
    assert Appointment.objects.count() == 0

    with time_machine.travel(datetime(2026, 2, 20, 6, 0, tzinfo=UTC), tick=False):
        first = book(motive, patient, paris(2026, 2, 20, 9, 0))
    Appointment.objects.filter(pk=first.pk).update(status=Appointment.Status.FULFILLED)

    assert book(follow_up, patient, paris(2026, 3, 2, 10, 0)).motive == follow_up


def test_motive_of_another_agenda_is_not_found(frozen_now, motive, patient):
    foreign = MotiveFactory()
    with pytest.raises(MotiveNotFound):
        book_appointment(
            agenda_id=motive.agenda_id,
            motive_id=foreign.pk,
            patient=patient,
            starts_at=paris(2026, 3, 2, 9, 0),
            booked_by=patient.account,
        )


def test_same_idempotency_key_books_once(frozen_now, motive, patient):
    first = book(motive, patient, paris(2026, 3, 2, 9, 0), idempotency_key="k-1")
    again = book(motive, patient, paris(2026, 3, 2, 9, 0), idempotency_key="k-1")

    assert again.pk == first.pk
    assert Appointment.objects.count() == 1


def test_idempotency_key_reused_for_another_request_is_refused(
    frozen_now, motive, patient
):
    book(motive, patient, paris(2026, 3, 2, 9, 0), idempotency_key="k-1")

    with pytest.raises(IdempotencyKeyReused):
        book(motive, patient, paris(2026, 3, 2, 10, 0), idempotency_key="k-1")
    assert Appointment.objects.count() == 1


def test_cancel_frees_the_slot(frozen_now, motive, patient):
    appointment = book(motive, patient, paris(2026, 3, 4, 9, 0))

    cancelled = cancel_appointment(
        user=patient.account, appointment_id=appointment.pk, reason="mieux"
    )

    assert cancelled.status == Appointment.Status.CANCELLED
    assert cancelled.cancelled_at is not None
    assert book(motive, PatientFactory(), paris(2026, 3, 4, 9, 0)).status == "booked"


def test_cancel_after_the_cut_off_is_refused(frozen_now, motive, patient):
    appointment = book(motive, patient, paris(2026, 3, 2, 18 - 1, 0))

    with pytest.raises(CancellationTooLate, match="cancellation_too_late"):
        cancel_appointment(user=patient.account, appointment_id=appointment.pk)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_staff_may_cancel_after_the_cut_off(frozen_now, motive, patient):
    appointment = book(motive, patient, paris(2026, 3, 2, 17, 0))
    cancelled = cancel_appointment(
        user=patient.account,
        appointment_id=appointment.pk,
        actor=Appointment.Actor.STAFF,
    )
    assert cancelled.status == Appointment.Status.CANCELLED


def test_cancelling_twice_is_refused(frozen_now, motive, patient):
    appointment = book(motive, patient, paris(2026, 3, 4, 9, 0))
    cancel_appointment(user=patient.account, appointment_id=appointment.pk)

    with pytest.raises(AppointmentNotActive):
        cancel_appointment(user=patient.account, appointment_id=appointment.pk)


def test_nobody_else_can_cancel_an_appointment(frozen_now, motive, patient):
    appointment = book(motive, patient, paris(2026, 3, 4, 9, 0))
    stranger = PatientFactory()

    with pytest.raises(AppointmentNotFound):
        cancel_appointment(user=stranger.account, appointment_id=appointment.pk)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_reschedule_moves_and_frees_the_old_slot(frozen_now, motive, patient):
    appointment = book(motive, patient, paris(2026, 3, 4, 9, 0))

    moved = reschedule_appointment(
        user=patient.account,
        appointment_id=appointment.pk,
        starts_at=paris(2026, 3, 5, 11, 0),
    )

    assert moved.starts_at == datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
    assert moved.ends_at == moved.starts_at + timedelta(minutes=20)
    assert book(motive, PatientFactory(), paris(2026, 3, 4, 9, 0)).status == "booked"


def test_reschedule_to_an_overlapping_time_of_its_own_slot_is_allowed(
    frozen_now, motive, patient
):
    appointment = book(motive, patient, paris(2026, 3, 4, 9, 0))
    moved = reschedule_appointment(
        user=patient.account,
        appointment_id=appointment.pk,
        starts_at=paris(2026, 3, 4, 9, 20),
    )
    assert moved.starts_at == paris(2026, 3, 4, 9, 20)


def test_reschedule_to_a_taken_slot_changes_nothing(frozen_now, motive, patient):
    mine = book(motive, patient, paris(2026, 3, 4, 9, 0))
    book(motive, PatientFactory(), paris(2026, 3, 4, 10, 0))

    with pytest.raises(SlotUnavailable):
        reschedule_appointment(
            user=patient.account,
            appointment_id=mine.pk,
            starts_at=paris(2026, 3, 4, 10, 0),
        )
    mine.refresh_from_db()
    assert mine.starts_at == paris(2026, 3, 4, 9, 0)


def test_every_listed_slot_across_the_spring_dst_change_can_be_booked(
    agenda, motive, patient
):
    now = datetime(2026, 3, 27, 6, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        slots = list_free_slots(
            motive=motive, first_day=paris(2026, 3, 28).date(), days=3, now=now
        )
        assert len(slots) == 3 * 30  # 10 hours a day, 20-minute visits, 30 each day
        for slot in slots[::7]:
            booked = book(motive, PatientFactory(), slot)
            assert booked.starts_at == slot
        sunday = [s.astimezone(PARIS) for s in slots if s.astimezone(PARIS).day == 29]
        assert sunday[0].utcoffset() == timedelta(hours=2)
        assert sunday[0].hour == 8
