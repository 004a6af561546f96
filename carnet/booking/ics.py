"""iCalendar (RFC 5545) files for appointments: times in the practice's own zone.

The UID is derived from the appointment's random vault row, so it is stable
across updates (a later METHOD:CANCEL or a moved time keeps it) and says
nothing about how many appointments exist.
"""

import uuid
from datetime import UTC, datetime

from icalendar import Calendar, Event

from carnet.booking.models import Appointment

UID_NAMESPACE = uuid.UUID("6f1c5d52-4a8e-4d0b-9a55-9d1f0c3a7e21")


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
    """One VEVENT with a VTIMEZONE for the agenda's zone; never the visit reason."""
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
