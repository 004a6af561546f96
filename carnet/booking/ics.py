"""iCalendar (RFC 5545/5546) files for appointments: times in the practice's own zone.

The UID is derived from the appointment's random vault row, so it is stable
across updates (a later METHOD:CANCEL or a moved time keeps it) and says
nothing about how many appointments exist.

SEQUENCE is not computed here: callers pass it in, from
carnet.booking.selectors.calendar_sequence (0 at booking, one more per
recorded move, and a cancelled appointment's count is always at least one
above the last REQUEST's), so the builders stay pure functions of their inputs.

Minimal content by design: practitioner (in `summary`), place, time. No visit
reason, no cancellation reason, no ORGANIZER or ATTENDEE (no personal data).
"""

import uuid
from datetime import UTC, datetime

from django.utils.translation import gettext
from icalendar import Calendar, Event

from carnet.booking.models import Appointment

UID_NAMESPACE = uuid.UUID("6f1c5d52-4a8e-4d0b-9a55-9d1f0c3a7e21")

METHODS = frozenset({"PUBLISH", "REQUEST", "CANCEL"})
"""The iTIP methods the builders accept (PUBLISH: a plain download)."""


def appointment_uid(appointment: Appointment) -> str:
    """The appointment's iCalendar UID, the same for its whole life."""
    return f"{uuid.uuid5(UID_NAMESPACE, str(appointment.vault_row))}@carnet"


def appointment_ics(
    *,
    appointment: Appointment,
    summary: str,
    location: str,
    method: str = "REQUEST",
    sequence: int = 0,
    now: datetime | None = None,
) -> bytes:
    """One VEVENT with a VTIMEZONE for the agenda's zone; never the visit reason.

    METHOD sits on the VCALENDAR; STATUS is CANCELLED for METHOD:CANCEL and
    CONFIRMED otherwise. DTSTAMP is `now` (an aware datetime, written in UTC),
    the current time when omitted. Raises ValueError for a method outside
    METHODS, a negative `sequence` or a naive `now`.
    """
    if method not in METHODS:
        raise ValueError(f"unsupported iCalendar method: {method!r}")
    if sequence < 0:
        raise ValueError(f"SEQUENCE must not be negative: {sequence}")
    if now is not None and now.utcoffset() is None:
        raise ValueError("`now` must be an aware datetime")
    zone = appointment.agenda.zone
    calendar = Calendar()
    calendar.add("prodid", "-//Carnet//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("dtstamp", (now or datetime.now(UTC)).astimezone(UTC))
    event.add("dtstart", appointment.starts_at.astimezone(zone))
    event.add("dtend", appointment.ends_at.astimezone(zone))
    event.add("sequence", sequence)
    event.add("summary", summary)
    event.add("location", location)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def appointment_cancel_ics(
    *,
    appointment: Appointment,
    summary: str,
    location: str,
    sequence: int,
    now: datetime | None = None,
) -> bytes:
    """The METHOD:CANCEL calendar of a cancelled appointment (STATUS:CANCELLED).

    Same UID, practitioner, place and time as the REQUEST it withdraws, and
    nothing more: never the visit or the cancellation reason. `sequence` must
    be above every REQUEST's, hence at least 1 (pass
    selectors.calendar_sequence(appointment) once the appointment is
    cancelled). Raises ValueError for a `sequence` below 1 or a naive `now`.
    """
    if sequence < 1:
        raise ValueError(f"a CANCEL's SEQUENCE must be at least 1: {sequence}")
    return appointment_ics(
        appointment=appointment,
        summary=summary,
        location=location,
        method="CANCEL",
        sequence=sequence,
        now=now,
    )


def appointment_calendar(
    *,
    appointment: Appointment,
    method: str = "REQUEST",
    sequence: int = 0,
    now: datetime | None = None,
) -> bytes:
    """The appointment's .ics in the active language: "Appointment with <practitioner>", its place.

    The one place that names an appointment in a calendar file (the patient's
    download, the messages' attachments). METHOD:CANCEL goes through
    appointment_cancel_ics (so `sequence` is at least 1 there).
    """
    agenda = appointment.agenda
    summary = gettext("Appointment with %(name)s") % {
        "name": agenda.practitioner.display_name
    }
    if method == "CANCEL":
        return appointment_cancel_ics(
            appointment=appointment,
            summary=summary,
            location=str(agenda.location),
            sequence=max(sequence, 1),
            now=now,
        )
    return appointment_ics(
        appointment=appointment,
        summary=summary,
        location=str(agenda.location),
        method=method,
        sequence=sequence,
        now=now,
    )
