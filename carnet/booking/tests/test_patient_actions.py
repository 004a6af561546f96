"""The patient's one-click answers without a login: confirm and cancel by reference."""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carnet.booking.errors import (
    ActionLinkStale,
    AppointmentInPast,
    AppointmentNotActive,
    AppointmentNotFound,
    CancellationTooLate,
)
from carnet.booking.models import Appointment, ConfirmedVia
from carnet.booking.patient_actions import (
    appointment_version_at,
    cancel_appointment_by_patient,
    confirm_appointment_by_patient,
)
from carnet.booking.selectors import calendar_sequence
from carnet.booking.services import (
    book_appointment,
    cancel_appointment,
    reschedule_appointment,
)

PARIS = ZoneInfo("Europe/Paris")
pytestmark = pytest.mark.django_db


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def booked(frozen_now, motive, patient):
    """Wednesday 4 March 2026, 09:00 in Paris (24 h cut-off)."""
    return book_appointment(
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        patient=patient,
        starts_at=paris(2026, 3, 4, 9, 0),
        booked_by=patient.account,
    )


def snapshot(appointment) -> tuple:
    appointment.refresh_from_db()
    return (
        appointment.status,
        appointment.confirmed_at,
        appointment.confirmed_via,
        appointment.cancelled_at,
        appointment.updated_at,
    )


def test_confirming_records_when_and_how_once(booked, frozen_now):
    confirm_appointment_by_patient(
        vault_row=booked.vault_row, version=0, via=ConfirmedVia.SMS, now=frozen_now
    )
    first = snapshot(booked)

    again = confirm_appointment_by_patient(
        vault_row=str(booked.vault_row),
        version=0,
        via=ConfirmedVia.LINK,
        now=frozen_now + timedelta(hours=1),
    )

    assert again.confirmed_at == frozen_now
    assert again.confirmed_via == ConfirmedVia.SMS
    assert snapshot(booked) == first


def test_cancelling_by_reference_cancels_as_the_patient(booked, frozen_now):
    cancelled = cancel_appointment_by_patient(
        vault_row=booked.vault_row, version=0, now=frozen_now
    )

    assert cancelled.status == Appointment.Status.CANCELLED
    assert cancelled.cancelled_at == frozen_now
    assert cancelled.cancelled_by_kind == Appointment.Actor.PATIENT


def test_cancelling_a_cancelled_appointment_changes_nothing(booked, frozen_now):
    cancel_appointment_by_patient(vault_row=booked.vault_row, version=0, now=frozen_now)
    first = snapshot(booked)

    again = cancel_appointment_by_patient(
        vault_row=booked.vault_row, version=0, now=frozen_now + timedelta(minutes=5)
    )

    assert again.status == Appointment.Status.CANCELLED
    assert snapshot(booked) == first


def test_a_stale_version_is_refused_and_changes_nothing(booked, patient, frozen_now):
    reschedule_appointment(
        user=patient.account,
        appointment_id=booked.pk,
        starts_at=paris(2026, 3, 5, 11, 0),
    )
    before = snapshot(booked)

    with pytest.raises(ActionLinkStale, match="action_link_stale"):
        confirm_appointment_by_patient(
            vault_row=booked.vault_row, version=0, via="link", now=frozen_now
        )
    with pytest.raises(ActionLinkStale):
        cancel_appointment_by_patient(
            vault_row=booked.vault_row, version=0, now=frozen_now
        )

    assert snapshot(booked) == before
    assert calendar_sequence(booked) == 1


def test_cancelling_past_the_cut_off_is_refused(booked):
    late = paris(2026, 3, 3, 10, 0)  # 23 hours before
    before = snapshot(booked)

    with pytest.raises(CancellationTooLate) as caught:
        cancel_appointment_by_patient(vault_row=booked.vault_row, version=0, now=late)

    assert caught.value.params == {"hours": 24}
    assert snapshot(booked) == before


def test_an_appointment_that_has_started_cannot_be_confirmed(booked):
    with pytest.raises(AppointmentInPast):
        confirm_appointment_by_patient(
            vault_row=booked.vault_row,
            version=0,
            via="link",
            now=paris(2026, 3, 4, 9, 0),
        )


def test_a_cancelled_appointment_cannot_be_confirmed(booked, patient, frozen_now):
    cancel_appointment(user=patient.account, appointment_id=booked.pk)

    with pytest.raises(AppointmentNotActive):
        confirm_appointment_by_patient(
            vault_row=booked.vault_row, version=0, via="link", now=frozen_now
        )


def test_an_unknown_reference_is_not_found(db, frozen_now):
    for reference in (uuid.uuid4(), "not-a-uuid"):
        with pytest.raises(AppointmentNotFound):
            confirm_appointment_by_patient(
                vault_row=reference, version=0, via="link", now=frozen_now
            )
        with pytest.raises(AppointmentNotFound):
            cancel_appointment_by_patient(
                vault_row=reference, version=0, now=frozen_now
            )


def test_the_version_at_an_instant_counts_the_moves_made_by_then(
    booked, patient, frozen_now
):
    reschedule_appointment(
        user=patient.account,
        appointment_id=booked.pk,
        starts_at=paris(2026, 3, 5, 11, 0),
    )

    assert (
        appointment_version_at(
            appointment=booked, instant=frozen_now - timedelta(minutes=1)
        )
        == 0
    )
    assert (
        appointment_version_at(appointment=booked, instant=frozen_now + timedelta(1))
        == 1
    )
