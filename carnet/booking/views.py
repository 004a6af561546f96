from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from carnet.accounts.errors import MfaRequired
from carnet.booking.access import access_agenda_day
from carnet.booking.models import Appointment
from carnet.core.errors import DomainError


@login_required
@require_GET
def agenda_day(request: HttpRequest, agenda_id: int, day: str) -> HttpResponse:
    try:
        on = date.fromisoformat(day)
    except ValueError:
        raise Http404 from None
    try:
        agenda, appointments = access_agenda_day(
            actor=request.user,
            agenda_id=agenda_id,
            day=on,
            actor_kind=Appointment.Actor.STAFF,
            request=request,
        )
    except MfaRequired as exc:
        raise PermissionDenied(exc.render()) from exc
    except DomainError as exc:
        raise Http404 from exc
    zone = agenda.zone
    rows = [(a.starts_at.astimezone(zone), a) for a in appointments]
    return render(
        request, "booking/agenda_day.html", {"agenda": agenda, "day": on, "rows": rows}
    )
