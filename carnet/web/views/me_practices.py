"""The patient's standing with practices: missed appointments (no-shows) and the waiting list.

Everything here belongs to the logged-in user and their relatives; another
user's strike or request answers 404 (the services' own "not found").
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from carnet.accounts.selectors import list_patients_for_user
from carnet.booking.errors import StrikeNotFound, WaitingListEntryNotFound
from carnet.booking.models import Strike, WaitingListEntry
from carnet.booking.policy import (
    NoShowStanding,
    list_no_show_standings_for_user,
    list_strikes_for_user,
    send_excuse,
)
from carnet.booking.waitlist import (
    join_waiting_list,
    leave_waiting_list,
    list_waiting_entries_for_user,
)
from carnet.core.errors import DomainError
from carnet.scheduling.models import Agenda, VisitMotive
from carnet.web.forms_waitlist import ExcuseForm, JoinWaitingListForm

DEFAULT_RANGE_DAYS = 30


# -- no-shows ----------------------------------------------------------------------


@dataclass(frozen=True)
class StrikeCard:
    """One missed appointment as the patient sees it, with the excuse form when one may be sent."""

    strike: Strike
    zone: str
    state: str
    form: ExcuseForm | None


def _state(strike: Strike, now: datetime) -> str:
    if strike.excused_at is not None:
        return "excused" if strike.excuse_sent_at else "forgiven"
    if strike.excuse_decided_at is not None:
        return "refused" if strike.expires_at > now else "expired"
    if strike.excuse_pending:
        return "pending" if strike.expires_at > now else "expired"
    return "counts" if strike.expires_at > now else "expired"


def _cards(
    standing: NoShowStanding, now: datetime, failed: ExcuseForm | None, failed_id: int
) -> list[StrikeCard]:
    cards = []
    for strike in standing.strikes:
        state = _state(strike, now)
        form = None
        if state == "counts":
            form = failed if strike.pk == failed_id else ExcuseForm(strike_id=strike.pk)
        cards.append(
            StrikeCard(
                strike=strike,
                zone=strike.appointment.agenda.time_zone,
                state=state,
                form=form,
            )
        )
    return cards


def _no_shows_page(
    request: HttpRequest,
    *,
    failed: ExcuseForm | None = None,
    failed_id: int = 0,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    standings = list_no_show_standings_for_user(user=request.user, now=now)
    groups = [(s, _cards(s, now, failed, failed_id)) for s in standings]
    shown = any(c.form is failed for _s, cards in groups for c in cards)
    # A refusal for a strike that no longer takes an excuse (already sent,
    # expired, decided) has no form to sit on: it goes on top of the page.
    errors = failed.errors.get("text", []) if failed is not None and not shown else []
    return render(
        request,
        "web/me/no_shows.html",
        {"section": "no_shows", "groups": groups, "errors": errors},
        status=status,
    )


@login_required
@require_http_methods(["GET"])
def no_shows(request: HttpRequest) -> HttpResponse:
    return _no_shows_page(request)


@login_required
@require_POST
def excuse(request: HttpRequest, strike_id: int) -> HttpResponse:
    form = ExcuseForm(request.POST, strike_id=strike_id)
    if form.is_valid():
        try:
            send_excuse(
                user=request.user, strike_id=strike_id, text=form.cleaned_data["text"]
            )
        except StrikeNotFound:
            raise Http404 from None
        except DomainError as exc:
            form.add_error("text", exc.render())
        else:
            messages.success(
                request,
                _("Your excuse is sent. The practice will accept or refuse it."),
            )
            return redirect("web:me-no-shows")
    elif not _is_own_strike(request, strike_id):
        raise Http404
    return _no_shows_page(request, failed=form, failed_id=strike_id, status=400)


def _is_own_strike(request: HttpRequest, strike_id: int) -> bool:
    """Whether the strike is the user's or a relative's (else: 404, as the service says)."""
    return list_strikes_for_user(user=request.user).filter(pk=strike_id).exists()


# -- waiting list ------------------------------------------------------------------


@dataclass(frozen=True)
class EntryCard:
    """One waiting list request as the patient sees it."""

    entry: WaitingListEntry
    zone: str


def _entry_card(entry: WaitingListEntry) -> EntryCard:
    return EntryCard(entry=entry, zone=entry.agenda.time_zone)


@login_required
@require_http_methods(["GET"])
def waiting_list(request: HttpRequest) -> HttpResponse:
    entries = list(
        list_waiting_entries_for_user(user=request.user).select_related(
            "agenda__practice", "agenda__location"
        )
    )
    return render(
        request,
        "web/me/waiting_list.html",
        {
            "section": "waiting_list",
            "live": [_entry_card(e) for e in entries if e.is_live],
            "closed": [_entry_card(e) for e in entries if not e.is_live][:50],
        },
    )


@login_required
@require_POST
def leave(request: HttpRequest, entry_id: int) -> HttpResponse:
    try:
        leave_waiting_list(user=request.user, entry_id=entry_id)
    except WaitingListEntryNotFound:
        raise Http404 from None
    messages.success(request, _("You have left the waiting list."))
    return redirect("web:me-waiting-list")


def _agenda_or_404(agenda_id: int) -> Agenda:
    agenda = (
        Agenda.objects.select_related("practitioner", "practice", "location")
        .filter(pk=agenda_id, is_active=True, practice__is_active=True)
        .first()
    )
    if agenda is None:
        raise Http404
    return agenda


@login_required
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, agenda_id: int) -> HttpResponse:
    agenda = _agenda_or_404(agenda_id)
    motives = list(
        VisitMotive.objects.filter(agenda=agenda, is_active=True).order_by("name", "pk")
    )
    if not motives:
        raise Http404
    today = timezone.now().astimezone(agenda.zone).date()
    chosen = request.GET.get("motive", "")
    initial_motive = next((m for m in motives if str(m.pk) == chosen), motives[0])
    patients = list(list_patients_for_user(user=request.user).order_by("pk"))
    form = JoinWaitingListForm(
        request.POST if request.method == "POST" else None,
        patients=patients,
        motives=motives,
        initial={
            "motive": initial_motive.pk,
            "earliest_on": today,
            "latest_on": today
            + timedelta(days=min(DEFAULT_RANGE_DAYS, initial_motive.horizon_days)),
        },
    )
    if request.method == "POST" and form.is_valid():
        earliest_on, latest_on = form.dates()
        try:
            join_waiting_list(
                user=request.user,
                patient_id=form.patient_id(),
                agenda_id=agenda.pk,
                motive_id=form.cleaned_data["motive"],
                earliest_on=earliest_on,
                latest_on=latest_on,
            )
        except DomainError as exc:
            form.add_error(None, exc.render())
        else:
            messages.success(
                request,
                _("You are on the waiting list. You will be told if a time frees up."),
            )
            return redirect("web:me-waiting-list")
    return render(
        request,
        "web/me/waiting_list_join.html",
        {
            "section": "waiting_list",
            "agenda": agenda,
            "form": form,
            "has_patients": bool(patients),
        },
        status=400 if form.errors else 200,
    )
