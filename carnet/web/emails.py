"""The appointment's calendar file for the patient's own download, in their language.

Messages to the patient (the booking confirmation with its .ics, reminders,
notices) are sent by the outbox (carnet.notifications), enqueued in the
booking's own transaction.
"""

from django.template.loader import render_to_string

from carnet.booking.ics import appointment_ics
from carnet.booking.models import Appointment


def appointment_calendar(*, appointment: Appointment, method: str) -> bytes:
    """The appointment as an .ics (practitioner, place, time; in the active language)."""
    agenda = appointment.agenda
    location = agenda.location
    summary = render_to_string(
        "web/email/ics_summary.txt", {"practitioner": agenda.practitioner}
    ).strip()
    return appointment_ics(
        appointment=appointment,
        summary=summary,
        location=f"{location.address}, {location.postcode} {location.city}",
        method=method,
    )
