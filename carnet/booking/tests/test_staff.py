from datetime import UTC, datetime, timedelta

import pytest

from carnet.accounts.errors import MfaRequired, NotStaffOfPractice
from carnet.accounts.tests.factories import PatientFactory
from carnet.audit.models import AuditEvent
from carnet.booking.errors import (
    AppointmentInPast,
    AppointmentNotActive,
    AppointmentNotFound,
    CancellationReasonRequired,
    OverbookingNotAllowed,
    SlotDuringAbsence,
    SlotInPast,
    SlotOutsideHours,
    SlotTooFar,
    SlotTooSoon,
    SlotUnavailable,
)
from carnet.booking.models import Appointment, AppointmentChange, NextAvailability
from carnet.booking.services import hold_slot
from carnet.booking.staff import staff_book, staff_cancel, staff_move
from carnet.booking.tests.conftest import paris
from carnet.core.errors import NotFound
from carnet.scheduling.tests.factories import AbsenceFactory, MotiveFactory

pytestmark = pytest.mark.django_db


def first_slot(motive) -> datetime:
    return NextAvailability.objects.get(motive=motive).slot_instants()[0]


def by_staff(actor, motive, patient, starts_at, **kwargs):
    return staff_book(
        actor=actor,
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        patient=patient,
        starts_at=starts_at,
        **kwargs,
    )


# -- staff_book ----------------------------------------------------------------------


def test_staff_book_a_patient_by_phone(frozen_now, secretary, motive, patient):
    appointment = by_staff(
        secretary, motive, patient, paris(2026, 3, 2, 10, 0), reason="vaccin"
    )

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert appointment.starts_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert appointment.ends_at == datetime(2026, 3, 2, 9, 20, tzinfo=UTC)
    assert appointment.booked_by == secretary
    assert appointment.booked_by_kind == Appointment.Actor.STAFF
    assert appointment.is_overbooked is False
    assert appointment.reason == "vaccin"
    event = AuditEvent.objects.get()
    assert (event.actor_id, event.actor_kind, event.action, event.purpose) == (
        secretary.pk,
        "staff",
        "create",
        "booking",
    )
    assert event.patient_ref == f"patient:{patient.pk}"
    assert event.resource == f"appointment:{appointment.pk}"


def test_staff_book_refreshes_the_next_availability_index(
    frozen_now, secretary, motive, patient
):
    by_staff(secretary, motive, patient, paris(2026, 3, 2, 9, 0))
    first = first_slot(motive)

    by_staff(secretary, motive, PatientFactory(), first)

    assert first not in NextAvailability.objects.get(motive=motive).slot_instants()


def test_staff_may_book_inside_the_notice_a_patient_may_not(
    frozen_now, secretary, motive, patient, book
):
    soon = paris(2026, 3, 2, 8, 0)  # 60 minutes' notice from 07:00 has just passed
    with pytest.raises(SlotTooSoon):
        book(motive, patient, soon)

    appointment = by_staff(secretary, motive, patient, soon)

    assert appointment.starts_at == soon


def test_staff_fit_a_caller_in_at_any_five_minutes_patients_keep_the_grid(
    frozen_now, secretary, motive, patient, book
):
    off_grid = paris(2026, 3, 3, 9, 5)  # the 20-minute motive's grid is 09:00, 09:20...
    with pytest.raises(SlotOutsideHours):
        book(motive, patient, off_grid)

    appointment = by_staff(secretary, motive, patient, off_grid)

    assert (appointment.starts_at, appointment.is_overbooked) == (off_grid, False)


def test_staff_may_book_a_motive_closed_to_new_patients(
    frozen_now, secretary, agenda, patient
):
    follow_up = MotiveFactory(agenda=agenda, open_to_new_patients=False)

    appointment = by_staff(secretary, follow_up, patient, paris(2026, 3, 3, 9, 0))

    assert appointment.motive == follow_up


@pytest.mark.parametrize(
    ("starts_at", "error"),
    [
        (paris(2026, 3, 1, 9, 0), SlotInPast),
        (paris(2026, 7, 1, 9, 0), SlotTooFar),
        (paris(2026, 3, 3, 19, 0), SlotOutsideHours),
        (paris(2026, 3, 3, 9, 3), SlotOutsideHours),  # not on five minutes
        (paris(2026, 3, 3, 17, 50), SlotOutsideHours),  # would end after closing
    ],
)
def test_staff_book_keeps_the_other_time_rules(
    frozen_now, secretary, motive, patient, starts_at, error
):
    with pytest.raises(error):
        by_staff(secretary, motive, patient, starts_at, overbook=True)

    assert Appointment.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_a_taken_slot_is_refused_to_staff_without_overbook(
    frozen_now, secretary, motive, patient, book
):
    book(motive, patient, paris(2026, 3, 3, 9, 0))

    with pytest.raises(SlotUnavailable) as caught:
        by_staff(secretary, motive, PatientFactory(), paris(2026, 3, 3, 9, 0))

    assert caught.value.details["alternatives"]
    assert Appointment.objects.count() == 1


def test_staff_overbook_on_top_of_an_appointment_is_flagged(
    frozen_now, secretary, motive, patient, book
):
    first = book(motive, patient, paris(2026, 3, 3, 9, 0))

    second = by_staff(
        secretary, motive, PatientFactory(), paris(2026, 3, 3, 9, 0), overbook=True
    )

    second.refresh_from_db()
    first.refresh_from_db()
    assert second.is_overbooked is True
    assert first.is_overbooked is False
    assert Appointment.objects.active().count() == 2


def test_overbook_on_a_free_slot_is_a_plain_booking(
    frozen_now, secretary, motive, patient
):
    appointment = by_staff(
        secretary, motive, patient, paris(2026, 3, 3, 9, 0), overbook=True
    )

    assert appointment.is_overbooked is False


def test_overbook_over_a_hold_only_is_not_flagged(
    frozen_now, secretary, motive, patient
):
    hold_slot(
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        starts_at=paris(2026, 3, 3, 9, 0),
        holder="visitor",
    )
    with pytest.raises(SlotUnavailable):
        by_staff(secretary, motive, patient, paris(2026, 3, 3, 9, 0))

    appointment = by_staff(
        secretary, motive, patient, paris(2026, 3, 3, 9, 0), overbook=True
    )

    assert appointment.is_overbooked is False


def test_not_even_an_overbook_during_an_absence(frozen_now, secretary, motive, patient):
    AbsenceFactory(
        agenda=motive.agenda,
        starts_at=paris(2026, 3, 3, 8, 0),
        ends_at=paris(2026, 3, 3, 12, 0),
    )

    with pytest.raises(SlotDuringAbsence):
        by_staff(secretary, motive, patient, paris(2026, 3, 3, 9, 0), overbook=True)

    assert Appointment.objects.count() == 0


def test_a_patient_cannot_book_on_top_of_an_overbooked_slot(
    frozen_now, secretary, motive, patient, book
):
    first = book(motive, patient, paris(2026, 3, 3, 9, 0))
    by_staff(
        secretary, motive, PatientFactory(), paris(2026, 3, 3, 9, 0), overbook=True
    )
    first.refresh_from_db()
    Appointment.objects.filter(pk=first.pk).update(status=Appointment.Status.CANCELLED)

    with pytest.raises(SlotUnavailable):
        book(motive, PatientFactory(), paris(2026, 3, 3, 9, 0))


def test_an_api_client_never_overbooks(frozen_now, secretary, motive, patient, book):
    book(motive, patient, paris(2026, 3, 3, 9, 0))

    with pytest.raises(OverbookingNotAllowed):
        by_staff(
            secretary,
            motive,
            PatientFactory(),
            paris(2026, 3, 3, 9, 0),
            overbook=True,
            actor_kind=Appointment.Actor.API,
        )

    assert Appointment.objects.count() == 1


def test_an_api_client_books_for_staff_as_api(frozen_now, secretary, motive, patient):
    appointment = by_staff(
        secretary,
        motive,
        patient,
        paris(2026, 3, 3, 9, 0),
        actor_kind=Appointment.Actor.API,
    )

    assert appointment.booked_by_kind == Appointment.Actor.API
    assert AuditEvent.objects.get().actor_kind == "api"


# -- staff_move ----------------------------------------------------------------------


def test_staff_move_records_that_the_patient_must_be_told(
    frozen_now, secretary, motive, patient, book
):
    appointment = book(motive, patient, paris(2026, 3, 3, 9, 0))

    moved = staff_move(
        actor=secretary,
        appointment_id=appointment.pk,
        starts_at=paris(2026, 3, 2, 8, 0),  # inside the notice: staff may
    )

    moved.refresh_from_db()
    assert moved.starts_at == paris(2026, 3, 2, 8, 0)
    assert moved.ends_at == paris(2026, 3, 2, 8, 20)
    change = AppointmentChange.objects.get()
    assert change.appointment == moved
    assert change.kind == AppointmentChange.Kind.MOVED
    assert change.previous_starts_at == paris(2026, 3, 3, 9, 0)
    assert change.actor == secretary
    assert change.notify_patient is True
    # The notice is in the outbox, written with the move.
    assert change.notified_at is not None
    assert NextAvailability.objects.get(motive=motive).slot_instants()[0] == paris(
        2026, 3, 2, 8, 20
    )
    event = AuditEvent.objects.get()
    assert (event.action, event.resource) == ("update", f"appointment:{moved.pk}")


def test_staff_move_to_a_taken_time_needs_overbook_and_is_flagged(
    frozen_now, secretary, motive, patient, book
):
    book(motive, patient, paris(2026, 3, 3, 9, 0))
    other = book(motive, PatientFactory(), paris(2026, 3, 3, 10, 0))

    with pytest.raises(SlotUnavailable):
        staff_move(
            actor=secretary, appointment_id=other.pk, starts_at=paris(2026, 3, 3, 9, 0)
        )
    assert AppointmentChange.objects.count() == 0

    moved = staff_move(
        actor=secretary,
        appointment_id=other.pk,
        starts_at=paris(2026, 3, 3, 9, 0),
        overbook=True,
    )
    assert moved.is_overbooked is True

    back = staff_move(
        actor=secretary, appointment_id=other.pk, starts_at=paris(2026, 3, 3, 11, 0)
    )
    back.refresh_from_db()
    assert back.is_overbooked is False


def test_staff_move_to_its_own_time_changes_nothing(
    frozen_now, secretary, motive, patient, book
):
    appointment = book(motive, patient, paris(2026, 3, 3, 9, 0))

    staff_move(
        actor=secretary,
        appointment_id=appointment.pk,
        starts_at=paris(2026, 3, 3, 9, 0),
    )

    assert AppointmentChange.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_staff_cannot_move_a_cancelled_or_past_appointment(
    frozen_now, secretary, motive, patient, book
):
    cancelled = book(motive, patient, paris(2026, 3, 3, 9, 0))
    staff_cancel(actor=secretary, appointment_id=cancelled.pk, reason="Absent")
    past = Appointment.objects.create(
        agenda=motive.agenda,
        motive=motive,
        patient=patient,
        starts_at=paris(2026, 3, 1, 9, 0),
        ends_at=paris(2026, 3, 1, 9, 20),
    )

    with pytest.raises(AppointmentNotActive):
        staff_move(
            actor=secretary,
            appointment_id=cancelled.pk,
            starts_at=paris(2026, 3, 4, 9, 0),
        )
    with pytest.raises(AppointmentInPast):
        staff_move(
            actor=secretary, appointment_id=past.pk, starts_at=paris(2026, 3, 4, 9, 0)
        )


# -- staff_cancel --------------------------------------------------------------------


def test_staff_cancel_inside_the_cut_off_with_a_reason(
    frozen_now, secretary, motive, patient, book
):
    appointment = book(motive, patient, paris(2026, 3, 2, 10, 0))  # in 3 hours

    cancelled = staff_cancel(
        actor=secretary, appointment_id=appointment.pk, reason="  Dr absent  "
    )

    cancelled.refresh_from_db()
    assert cancelled.status == Appointment.Status.CANCELLED
    assert cancelled.cancelled_by_kind == Appointment.Actor.STAFF
    assert cancelled.cancellation_reason == "Dr absent"
    change = AppointmentChange.objects.get()
    assert (change.kind, change.notify_patient) == ("cancelled", True)
    assert paris(2026, 3, 2, 10, 0) in (
        NextAvailability.objects.get(motive=motive).slot_instants()
    )
    event = AuditEvent.objects.get()
    assert (event.action, event.purpose) == ("cancel", "booking")


def test_staff_cancel_needs_a_reason(frozen_now, secretary, motive, patient, book):
    appointment = book(motive, patient, paris(2026, 3, 3, 9, 0))

    with pytest.raises(CancellationReasonRequired):
        staff_cancel(actor=secretary, appointment_id=appointment.pk, reason="   ")

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert AppointmentChange.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_staff_cancel_twice_is_refused(frozen_now, secretary, motive, patient, book):
    appointment = book(motive, patient, paris(2026, 3, 3, 9, 0))
    staff_cancel(actor=secretary, appointment_id=appointment.pk, reason="Grève")

    with pytest.raises(AppointmentNotActive):
        staff_cancel(actor=secretary, appointment_id=appointment.pk, reason="Grève")

    assert AppointmentChange.objects.count() == 1


def test_cancelling_a_started_appointment_tells_nobody(
    frozen_now, secretary, motive, patient
):
    started = Appointment.objects.create(
        agenda=motive.agenda,
        motive=motive,
        patient=patient,
        starts_at=frozen_now - timedelta(minutes=10),
        ends_at=frozen_now + timedelta(minutes=10),
    )

    staff_cancel(actor=secretary, appointment_id=started.pk, reason="Appelé")

    assert AppointmentChange.objects.get().notify_patient is False


# -- who may: another practice, no second factor -----------------------------------


@pytest.fixture
def booked(frozen_now, motive, patient, book):
    return book(motive, patient, paris(2026, 3, 3, 9, 0))


def _calls(motive, booked):
    return {
        "staff_book": lambda actor: by_staff(
            actor, motive, PatientFactory(), paris(2026, 3, 3, 10, 0)
        ),
        "staff_move": lambda actor: staff_move(
            actor=actor, appointment_id=booked.pk, starts_at=paris(2026, 3, 3, 11, 0)
        ),
        "staff_cancel": lambda actor: staff_cancel(
            actor=actor, appointment_id=booked.pk, reason="x"
        ),
    }


@pytest.mark.parametrize("service", ["staff_book", "staff_move", "staff_cancel"])
def test_staff_of_another_practice_finds_nothing(booked, motive, outsider, service):
    expected = NotStaffOfPractice if service == "staff_book" else AppointmentNotFound

    with pytest.raises(expected) as caught:
        _calls(motive, booked)[service](outsider)

    assert caught.value.kind == "not_found"
    booked.refresh_from_db()
    assert (booked.status, booked.starts_at) == ("booked", paris(2026, 3, 3, 9, 0))
    assert Appointment.objects.count() == 1
    assert AppointmentChange.objects.count() == 0
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize("service", ["staff_book", "staff_move", "staff_cancel"])
def test_staff_without_a_second_factor_is_refused(booked, motive, without_mfa, service):
    with pytest.raises(MfaRequired):
        _calls(motive, booked)[service](without_mfa)

    assert Appointment.objects.count() == 1
    assert AuditEvent.objects.count() == 0


def test_a_patient_account_is_not_staff(booked, motive, patient):
    with pytest.raises(NotStaffOfPractice):
        _calls(motive, booked)["staff_book"](patient.account)
    with pytest.raises(AppointmentNotFound):
        _calls(motive, booked)["staff_cancel"](patient.account)


def test_missing_objects_are_not_found(frozen_now, secretary, motive, patient):
    with pytest.raises(NotFound):
        staff_book(
            actor=secretary,
            agenda_id=999999,
            motive_id=motive.pk,
            patient=patient,
            starts_at=paris(2026, 3, 3, 9, 0),
        )
    with pytest.raises(AppointmentNotFound):
        staff_cancel(actor=secretary, appointment_id=999999, reason="x")


def test_every_role_of_the_practice_may_book(
    frozen_now, secretary, practitioner, motive, patient
):
    by_staff(secretary, motive, patient, paris(2026, 3, 3, 9, 0))
    by_staff(practitioner, motive, PatientFactory(), paris(2026, 3, 3, 9, 20))

    assert Appointment.objects.count() == 2
