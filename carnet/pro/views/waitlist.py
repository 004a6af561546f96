"""The practice's waiting list for staff: live requests per agenda, in offer order.

The gate is the selector's (VIEW_WAITING_LIST, second factor): no role at
the practice answers 404, a role without the permission 403. As on the day
sheet, patients' names show to the team and phone numbers only to roles that
see contact details; every patient listed is recorded in the audit trail.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from carnet.accounts.roles import Permission, can
from carnet.booking.models import WaitingListEntry
from carnet.booking.offers import get_live_offer_expiries
from carnet.booking.waitlist import list_waiting_lists_for_practice
from carnet.core.errors import DomainError
from carnet.directory.models import Practice
from carnet.pro.forms_waitlist import AgendaFilterForm
from carnet.pro.workspace import patient_phone, practice_context, refuse
from carnet.scheduling.models import Agenda


@dataclass(frozen=True)
class WaitingRow:
    """One request as the list shows it; the phone only for roles that see contact details.

    `offered_until` is when the live offer of a freed slot to this request
    ends (None without one).
    """

    position: int
    entry: WaitingListEntry
    patient: str
    phone: str
    offered_until: datetime | None = None


def _rows(
    entries: list[WaitingListEntry],
    *,
    show_phone: bool,
    offered_until: dict[int, datetime],
) -> list[WaitingRow]:
    return [
        WaitingRow(
            position=position,
            entry=entry,
            patient=str(entry.patient),
            phone=patient_phone(entry.patient)[0] if show_phone else "",
            offered_until=offered_until.get(entry.pk),
        )
        for position, entry in enumerate(entries, start=1)
    ]


@login_required
@require_GET
def waiting_list(request: HttpRequest, practice_id: int) -> HttpResponse:
    """Each agenda's live waiting list (or one agenda's), oldest request first."""
    agendas = list(
        Agenda.objects.filter(practice_id=practice_id)
        .select_related("practitioner", "location")
        .order_by("practitioner__last_name", "name", "pk")
    )
    form = AgendaFilterForm(request.GET or None, agendas=agendas)
    valid = form.is_valid() if form.is_bound else True
    agenda_id = form.cleaned_data.get("agenda") if form.is_bound and valid else None
    try:
        lists = list_waiting_lists_for_practice(
            actor=request.user,
            practice_id=practice_id,
            agenda_id=agenda_id,
            request=request,
        )
    except DomainError as exc:
        refuse(exc)
    practice = Practice.objects.get(pk=practice_id)
    show_phone = can(request.user, Permission.VIEW_CONTACT_DETAILS, practice_id)
    offered_until = get_live_offer_expiries(
        entry_ids=[entry.pk for item in lists for entry in item.entries],
        now=timezone.now(),
    )
    sections = [
        (
            item.agenda,
            _rows(item.entries, show_phone=show_phone, offered_until=offered_until),
        )
        for item in lists
    ]
    context = {
        **practice_context(request, practice, area="waitlist"),
        "form": form,
        "sections": sections,
        "show_phone": show_phone,
        "filtered": agenda_id is not None,
    }
    return render(
        request, "pro/waitlist/list.html", context, status=200 if valid else 400
    )
