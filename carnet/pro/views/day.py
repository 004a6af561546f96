"""Staff pages of the practitioner's workspace, and the agenda's calendar feed.

The pages need a logged-in member of the agenda's practice whose session
passed a second factor (StaffMfaMiddleware, then the service's gate); a
missing or forbidden agenda answers 404 alike. The feed needs no login: its
secret URL is the credential, and any token that opens nothing (unknown,
malformed, revoked) gets the same 404.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from carnet.accounts.roles import Permission, can
from carnet.booking.access import access_agenda_day
from carnet.booking.models import Appointment
from carnet.core.errors import DomainError
from carnet.core.security import no_store
from carnet.pro.agenda_grid import confirmation_label
from carnet.pro.feed import read_feed
from carnet.pro.workspace import patient_phone, refuse
from carnet.scheduling.feeds import get_feed_for_token
from carnet.scheduling.models import Agenda

FEED_CONTENT_TYPE = "text/calendar; charset=utf-8"


def _parse_day(day: str) -> date:
    try:
        return date.fromisoformat(day)
    except ValueError:
        raise Http404 from None


def _agenda_day(
    request: HttpRequest, agenda_id: int, on: date
) -> tuple[Agenda, list[Appointment]]:
    """The gate and the audited read of the day (carnet.booking.access), as pages answer."""
    try:
        return access_agenda_day(
            actor=request.user,
            agenda_id=agenda_id,
            day=on,
            actor_kind=Appointment.Actor.STAFF,
            request=request,
        )
    except DomainError as exc:
        refuse(exc)


@login_required
@require_GET
def agenda_day(request: HttpRequest, agenda_id: int, day: str) -> HttpResponse:
    """The agenda's day list for staff."""
    on = _parse_day(day)
    agenda, appointments = _agenda_day(request, agenda_id, on)
    zone = agenda.zone
    rows = [
        (a.starts_at.astimezone(zone), a, confirmation_label(a, zone))
        for a in appointments
    ]
    return render(
        request,
        "pro/agenda_day.html",
        {"agenda": agenda, "day": on, "day_iso": on.isoformat(), "rows": rows},
    )


@dataclass(frozen=True)
class SheetRow:
    """One line of the printed day sheet: what the front desk needs, nothing clinical."""

    starts_at: datetime
    minutes: int
    patient: str
    motive: str
    status: str
    is_cancelled: bool
    phone: str
    phone_erased: bool


def _sheet_rows(appointments: list[Appointment], *, show_phone: bool) -> list[SheetRow]:
    rows = []
    for appointment in appointments:
        phone, erased = (
            patient_phone(appointment.patient) if show_phone else ("", False)
        )
        rows.append(
            SheetRow(
                starts_at=appointment.starts_at,
                minutes=int(
                    (appointment.ends_at - appointment.starts_at).total_seconds() // 60
                ),
                patient=str(appointment.patient),
                motive=appointment.motive.name,
                status=appointment.get_status_display(),
                is_cancelled=not appointment.is_active,
                phone=phone,
                phone_erased=erased,
            )
        )
    return rows


@login_required
@require_GET
def day_sheet(request: HttpRequest, agenda_id: int, day: str) -> HttpResponse:
    """One practitioner's day, to print: times, patients, motives, statuses, phones.

    The same gate and audit as the day list (one read event per patient
    shown). Phone numbers only for roles that see contact details; never the
    visit reason nor clinical notes.
    """
    on = _parse_day(day)
    agenda, appointments = _agenda_day(request, agenda_id, on)
    show_phone = can(request.user, Permission.VIEW_CONTACT_DETAILS, agenda.practice_id)
    return render(
        request,
        "pro/day_sheet.html",
        {
            "agenda": agenda,
            "day": on,
            "day_iso": on.isoformat(),
            "rows": _sheet_rows(appointments, show_phone=show_phone),
            "show_phone": show_phone,
        },
    )


def _feed_not_found() -> HttpResponse:
    """The one answer for every token that opens nothing: short, and never echoing it."""
    return HttpResponse(
        _("Not found."), status=404, content_type="text/plain; charset=utf-8"
    )


@no_store
@require_GET
def agenda_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The agenda's iCalendar feed: no login, the token in the URL is the secret."""
    feed = get_feed_for_token(raw=token)
    if feed is None:
        response = _feed_not_found()
    else:
        response = HttpResponse(read_feed(feed=feed), content_type=FEED_CONTENT_TYPE)
        response["Content-Disposition"] = 'inline; filename="agenda.ics"'
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
