"""REQUEST, then moves, then CANCEL: one UID, a SEQUENCE that only grows, no reasons."""

from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from carnet.booking.ics import appointment_cancel_ics, appointment_ics, appointment_uid
from carnet.booking.selectors import calendar_sequence
from carnet.booking.services import cancel_appointment
from carnet.booking.staff import staff_cancel, staff_move
from carnet.booking.tests.conftest import paris

pytestmark = pytest.mark.django_db

STAMP = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
VISIT_REASON = "Douleur thoracique persistante"
CANCEL_REASON = "Praticien hospitalise en urgence"


def texts(appointment):
    """What the e-mail layer passes in: practitioner and place only."""
    location = appointment.agenda.location
    return {
        "summary": f"Appointment with {appointment.agenda.practitioner.display_name}",
        "location": f"{location.address}, {location.postcode} {location.city}",
    }


def request_of(appointment):
    appointment.refresh_from_db()
    return appointment_ics(
        appointment=appointment,
        **texts(appointment),
        method="REQUEST",
        sequence=calendar_sequence(appointment),
        now=STAMP,
    )


def cancel_of(appointment):
    appointment.refresh_from_db()
    return appointment_cancel_ics(
        appointment=appointment,
        **texts(appointment),
        sequence=calendar_sequence(appointment),
        now=STAMP,
    )


def parsed(raw: bytes):
    """(the VCALENDAR, its single VEVENT)."""
    calendar = Calendar.from_ical(raw)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def assert_no_reason(raw: bytes):
    text = raw.decode()
    assert VISIT_REASON not in text
    assert CANCEL_REASON not in text
    _, event = parsed(raw)
    for name in ("DESCRIPTION", "COMMENT", "ORGANIZER", "ATTENDEE", "CATEGORIES"):
        assert name not in event


def test_request_move_cancel_keep_the_uid_and_raise_the_sequence(
    frozen_now, secretary, motive, patient, book
):
    appointment = book(motive, patient, paris(2026, 3, 3, 9, 0), reason=VISIT_REASON)
    booked = request_of(appointment)
    staff_move(
        actor=secretary,
        appointment_id=appointment.pk,
        starts_at=paris(2026, 3, 4, 10, 0),
    )
    moved = request_of(appointment)
    staff_cancel(actor=secretary, appointment_id=appointment.pk, reason=CANCEL_REASON)
    cancelled = cancel_of(appointment)

    calendars = [parsed(raw) for raw in (booked, moved, cancelled)]
    assert [str(c["method"]) for c, _ in calendars] == ["REQUEST", "REQUEST", "CANCEL"]
    assert {str(e["uid"]) for _, e in calendars} == {appointment_uid(appointment)}
    assert [int(e["sequence"]) for _, e in calendars] == [0, 1, 2]
    assert [str(e["status"]) for _, e in calendars] == [
        "CONFIRMED",
        "CONFIRMED",
        "CANCELLED",
    ]
    assert all(e["dtstamp"].dt == STAMP for _, e in calendars)
    # METHOD belongs to the VCALENDAR, never to the event.
    assert all("method" not in e for _, e in calendars)
    # The CANCEL names the time it withdraws (the moved one), in the practice's zone.
    assert calendars[1][1]["dtstart"].dt == paris(2026, 3, 4, 10, 0)
    assert calendars[2][1]["dtstart"].dt == paris(2026, 3, 4, 10, 0)
    assert str(calendars[2][1]["dtstart"].dt.tzinfo) == "Europe/Paris"
    assert calendars[2][1]["dtend"].dt == paris(2026, 3, 4, 10, 20)
    for raw in (booked, moved, cancelled):
        assert_no_reason(raw)


def test_the_cancel_carries_nothing_the_request_did_not(
    frozen_now, secretary, motive, patient, book
):
    appointment = book(motive, patient, paris(2026, 3, 3, 9, 0), reason=VISIT_REASON)
    _, request = parsed(request_of(appointment))
    staff_cancel(actor=secretary, appointment_id=appointment.pk, reason=CANCEL_REASON)
    _, cancel = parsed(cancel_of(appointment))

    assert set(cancel.keys()) == set(request.keys())
    for name in ("uid", "summary", "location", "dtstart", "dtend", "dtstamp"):
        assert cancel[name] == request[name], name


def test_a_patients_own_cancellation_still_outranks_the_request(
    frozen_now, motive, patient, book
):
    appointment = book(motive, patient, paris(2026, 3, 4, 9, 0))
    assert calendar_sequence(appointment) == 0

    cancel_appointment(
        user=patient.account, appointment_id=appointment.pk, reason=CANCEL_REASON
    )
    _, event = parsed(cancel_of(appointment))

    assert int(event["sequence"]) == 1
    assert str(event["status"]) == "CANCELLED"
    assert_no_reason(cancel_of(appointment))


def test_a_patient_cancellation_after_a_staff_move_counts_both(
    frozen_now, secretary, motive, patient, book
):
    appointment = book(motive, patient, paris(2026, 3, 4, 9, 0))
    staff_move(
        actor=secretary,
        appointment_id=appointment.pk,
        starts_at=paris(2026, 3, 5, 9, 0),
    )
    cancel_appointment(user=patient.account, appointment_id=appointment.pk)
    appointment.refresh_from_db()

    assert calendar_sequence(appointment) == 2


def test_every_move_counts_even_unnotified_ones_and_a_no_op_does_not(
    frozen_now, secretary, motive, patient, book
):
    appointment = book(motive, patient, paris(2026, 3, 4, 9, 0))
    seen = [calendar_sequence(appointment)]
    for starts_at, notify in (
        (paris(2026, 3, 5, 9, 0), True),
        (paris(2026, 3, 5, 9, 0), True),  # its own time: nothing changes
        (paris(2026, 3, 6, 9, 0), False),  # agreed with the patient: still a change
    ):
        staff_move(
            actor=secretary,
            appointment_id=appointment.pk,
            starts_at=starts_at,
            notify_patient=notify,
        )
        appointment.refresh_from_db()
        seen.append(calendar_sequence(appointment))
    staff_cancel(actor=secretary, appointment_id=appointment.pk, reason="x")
    appointment.refresh_from_db()
    seen.append(calendar_sequence(appointment))

    assert seen == [0, 1, 1, 2, 3]


def test_the_same_inputs_give_the_same_bytes(frozen_now, motive, patient, book):
    appointment = book(motive, patient, paris(2026, 3, 4, 9, 0))

    assert request_of(appointment) == request_of(appointment)
    assert b"DTSTAMP:20260302T063000Z" in request_of(appointment)


def test_the_builders_refuse_what_would_break_the_order(
    frozen_now, motive, patient, book
):
    appointment = book(motive, patient, paris(2026, 3, 4, 9, 0))
    common = {"appointment": appointment, **texts(appointment)}

    with pytest.raises(ValueError, match="at least 1"):
        appointment_cancel_ics(**common, sequence=0, now=STAMP)
    with pytest.raises(ValueError, match="negative"):
        appointment_ics(**common, sequence=-1, now=STAMP)
    with pytest.raises(ValueError, match="method"):
        appointment_ics(**common, method="REFRESH", now=STAMP)
    with pytest.raises(ValueError, match="aware"):
        appointment_ics(**common, now=STAMP.replace(tzinfo=None))


def test_a_patients_own_reschedule_raises_the_sequence_without_a_notice(
    frozen_now, motive, patient, book
):
    from carnet.booking.models import AppointmentChange
    from carnet.booking.services import reschedule_appointment

    appointment = book(motive, patient, paris(2026, 3, 4, 9, 0))
    first = appointment.starts_at

    reschedule_appointment(
        user=patient.account,
        appointment_id=appointment.pk,
        starts_at=paris(2026, 3, 5, 10, 0),
    )

    _, event = parsed(request_of(appointment))
    assert int(event["sequence"]) == 1
    change = AppointmentChange.objects.get(appointment=appointment)
    assert (change.kind, change.previous_starts_at) == ("moved", first)
    assert (change.notify_patient, change.actor_id) == (False, patient.account_id)
