"""E-mails of the booking funnel: the confirmation with its .ics, in the patient's language.

Minimal content by design: practitioner, place and time; never the visit reason.
Sent once the booking's transaction has committed; a mail server that refuses
it is logged and never undoes the booking (issue "reminders" adds retries).
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from carnet.booking.ics import appointment_ics
from carnet.booking.models import Appointment

logger = logging.getLogger(__name__)


def _context(appointment: Appointment) -> dict:
    agenda = appointment.agenda
    location = agenda.location
    return {
        "appointment": appointment,
        "practitioner": agenda.practitioner,
        "practice": agenda.practice,
        "location": location,
        "zone": agenda.time_zone,
        "address": f"{location.address}, {location.postcode} {location.city}",
        "site_url": settings.CARNET_SITE_URL.rstrip("/"),
        "appointment_path": reverse("web:me-appointment", args=[appointment.pk]),
    }


def build_confirmation(
    *, appointment: Appointment, to: str, language: str
) -> EmailMultiAlternatives:
    """The confirmation message (text, HTML and an .ics with METHOD:REQUEST)."""
    with translation.override(language):
        context = {**_context(appointment), "language": language}
        subject = render_to_string("web/email/confirmation_subject.txt", context)
        text = render_to_string("web/email/confirmation.txt", context)
        html = render_to_string("web/email/confirmation.html", context)
        calendar = appointment_calendar(appointment=appointment, method="REQUEST")
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()), body=text, to=[to]
    )
    message.attach_alternative(html, "text/html")
    message.attach(
        "appointment.ics",
        calendar,
        "text/calendar; method=REQUEST; charset=utf-8",
    )
    return message


def appointment_calendar(*, appointment: Appointment, method: str) -> bytes:
    """The appointment as an .ics (practitioner, place, time; in the active language)."""
    context = _context(appointment)
    summary = render_to_string("web/email/ics_summary.txt", context).strip()
    return appointment_ics(
        appointment=appointment,
        summary=summary,
        location=context["address"],
        method=method,
    )


def send_confirmation_on_commit(
    *, appointment: Appointment, to: str, language: str
) -> None:
    """Send the confirmation after the booking commits; log (never raise) a refusal."""

    def send() -> None:
        try:
            build_confirmation(appointment=appointment, to=to, language=language).send()
        except OSError:
            logger.exception(
                "confirmation e-mail not sent", extra={"appointment": appointment.pk}
            )

    transaction.on_commit(send)
