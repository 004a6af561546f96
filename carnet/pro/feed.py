"""An agenda's iCalendar feed, as calendar apps fetch it through its secret URL.

Minimal content (DESIGN: connected calendars): busy times with the motive's
name, and the patient's name only when the practice switched
`show_patient_names` on for this feed; never the visit reason, a phone
number or an e-mail address. Times are written in the agenda's own zone,
with its VTIMEZONE, so a day of daylight-saving change stays right whatever
the calendar app's zone.

Every fetch is a read through the feed: one audit event for the fetch, and
when names are shown one per patient named, as the staff day list records.
"""

from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from icalendar import Calendar, Event, vDuration

from carnet.accounts.selectors import patient_audit_ref
from carnet.audit.models import Action, ActorKind, Purpose
from carnet.audit.services import record_event
from carnet.booking.ics import appointment_uid
from carnet.booking.models import Appointment
from carnet.scheduling.feeds import mark_feed_used
from carnet.scheduling.models import AgendaFeed

FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=90)
# Who reads through a feed in the audit trail: connected software (the
# calendar app), named after the feed. The audit trail has no "feed" kind.
FEED_ACTOR_KIND = ActorKind.API
# Calendar apps may refresh every quarter of an hour (a hint; they choose).
REFRESH_INTERVAL = timedelta(minutes=15)
SUMMARY_SEPARATOR = " — "


def feed_actor_label(feed: AgendaFeed) -> str:
    """How the feed appears in the audit trail: its name, or its token's public prefix."""
    return (feed.name or f"{feed.prefix}…")[:100]


def feed_resource(feed: AgendaFeed) -> str:
    """The audit resource of a read through the feed."""
    return f"feed:{feed.pk}"


def list_feed_appointments(
    *, feed: AgendaFeed, now: datetime | None = None
) -> list[Appointment]:
    """The feed agenda's active appointments from 30 days ago to 90 days ahead.

    Loads only what the feed writes: the patient's names only when the feed
    shows them, never a sealed field.
    """
    now = now or timezone.now()
    fields = ["pk", "vault_row", "starts_at", "ends_at", "updated_at", "motive__name"]
    related = ["motive"]
    if feed.show_patient_names:
        fields += ["patient__first_name", "patient__last_name"]
        related.append("patient")
    return list(
        Appointment.objects.active()
        .filter(
            agenda_id=feed.agenda_id,
            starts_at__gte=now - FEED_PAST,
            starts_at__lt=now + FEED_AHEAD,
        )
        .select_related(*related)
        .only(*fields, "agenda_id", "motive_id", "patient_id")
        .order_by("starts_at", "pk")
    )


def _summary(appointment: Appointment, *, with_name: bool) -> str:
    summary = appointment.motive.name
    if with_name:
        patient = appointment.patient
        name = f"{patient.first_name} {patient.last_name}".strip()
        if name:
            summary = f"{summary}{SUMMARY_SEPARATOR}{name}"
    return summary


def _record_feed_reads(*, feed: AgendaFeed, appointments: list[Appointment]) -> None:
    """One event for the fetch, then one per patient named (in one transaction)."""
    label = feed_actor_label(feed)
    resource = feed_resource(feed)
    with transaction.atomic():
        record_event(
            actor_id=None,
            actor_kind=FEED_ACTOR_KIND,
            actor_label=label,
            action=Action.READ,
            resource=resource,
            purpose=Purpose.CARE,
        )
        if not feed.show_patient_names:
            return
        for patient_id in sorted({a.patient_id for a in appointments}):
            record_event(
                actor_id=None,
                actor_kind=FEED_ACTOR_KIND,
                actor_label=label,
                action=Action.READ,
                resource=resource,
                patient_ref=patient_audit_ref(patient_id),
                purpose=Purpose.CARE,
            )


def render_feed_calendar(
    *, feed: AgendaFeed, appointments: list[Appointment], now: datetime
) -> bytes:
    """The VCALENDAR of the feed: one VEVENT per appointment, with the agenda's VTIMEZONE."""
    agenda = feed.agenda
    zone = agenda.zone
    stamp = now.astimezone(UTC)
    calendar = Calendar()
    calendar.add("prodid", "-//Carnet//Agenda feed//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", feed.name or str(agenda))
    calendar.add("x-wr-timezone", agenda.time_zone)
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL).to_ical().decode())
    for appointment in appointments:
        event = Event()
        event.add("uid", appointment_uid(appointment))
        event.add("dtstamp", stamp)
        event.add("last-modified", appointment.updated_at.astimezone(UTC))
        event.add("dtstart", appointment.starts_at.astimezone(zone))
        event.add("dtend", appointment.ends_at.astimezone(zone))
        event.add("summary", _summary(appointment, with_name=feed.show_patient_names))
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        event.add("class", "PRIVATE")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def read_feed(*, feed: AgendaFeed, now: datetime | None = None) -> bytes:
    """The feed's calendar as a fetch through its secret URL sees it.

    Records the read in the audit trail (one event for the fetch, one per
    patient named when names are shown) and the feed's last use (at most
    once a minute). The caller has checked the token (get_feed_for_token).
    """
    now = now or timezone.now()
    appointments = list_feed_appointments(feed=feed, now=now)
    _record_feed_reads(feed=feed, appointments=appointments)
    mark_feed_used(feed=feed, now=now)
    return render_feed_calendar(feed=feed, appointments=appointments, now=now)
