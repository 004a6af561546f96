"""The booking funnel: slot → hold → log in or sign up → for whom, reason → confirm."""

import secrets
from datetime import datetime
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carnet.accounts.models import Patient
from carnet.accounts.selectors import list_patients_for_user
from carnet.accounts.services import (
    add_relative,
    create_own_patient,
)
from carnet.audit.pseudonyms import pseudonymise_ip
from carnet.booking.errors import (
    AppointmentNotFound,
    BookingBlockedByNoShows,
    HoldExpired,
    HoldNotFound,
    SlotUnavailable,
)
from carnet.booking.ics import appointment_calendar
from carnet.booking.models import Appointment, SlotHold
from carnet.booking.selectors import (
    get_appointment_booked_from_hold,
    get_appointment_for_user,
    get_lapsed_hold,
    get_live_hold,
    hold_idempotency_key,
)
from carnet.booking.services import book_appointment, hold_slot
from carnet.core.errors import DomainError
from carnet.scheduling.models import VisitMotive
from carnet.scheduling.selectors import get_motive
from carnet.web.forms import BookingDetailsForm

HOLDER_KEY = "carnet_holder"
# Holding is free and anonymous: bound how many slots one address can hold in a window,
# so that a script cannot empty a practitioner's agenda with fresh sessions.
HOLDS_PER_WINDOW = 20
HOLD_WINDOW_SECONDS = 600


def _holder(request: HttpRequest) -> str:
    """An opaque token naming this browser's holds; kept in the session across log-in."""
    token = request.session.get(HOLDER_KEY)
    if not token:
        token = secrets.token_urlsafe(24)
        request.session[HOLDER_KEY] = token
    return token


def _taken(
    request: HttpRequest, motive: VisitMotive, exc: SlotUnavailable
) -> HttpResponse:
    alternatives = []
    for value in exc.details.get("alternatives", []):
        try:
            alternatives.append(datetime.fromisoformat(value))
        except ValueError:
            continue
    return render(
        request,
        "web/booking/taken.html",
        {"motive": motive, "agenda": motive.agenda, "alternatives": alternatives},
        status=409,
    )


def _problem(
    request: HttpRequest, exc: DomainError, motive: VisitMotive | None = None
) -> HttpResponse:
    status = {"not_found": 404, "conflict": 409, "forbidden": 403}.get(exc.kind, 400)
    return render(
        request,
        "web/booking/problem.html",
        {"message": exc.render(), "motive": motive},
        status=status,
    )


def _too_many_holds(request: HttpRequest) -> bool:
    key = "carnet-holds:" + pseudonymise_ip(request.META.get("REMOTE_ADDR", ""))
    cache.add(key, 0, HOLD_WINDOW_SECONDS)
    try:
        return cache.incr(key) > HOLDS_PER_WINDOW
    except ValueError:  # expired between add and incr
        return False


@require_POST
def start(request: HttpRequest, agenda_id: int, motive_id: int) -> HttpResponse:
    try:
        motive = get_motive(agenda_id=agenda_id, motive_id=motive_id)
    except DomainError:
        raise Http404 from None
    if _too_many_holds(request):
        return render(
            request,
            "web/booking/problem.html",
            {
                "motive": motive,
                "message": _(
                    "Too many times chosen in a short while. Please wait a few minutes and try again."
                ),
            },
            status=429,
        )
    try:
        starts_at = datetime.fromisoformat(request.POST.get("start", ""))
    except ValueError:
        return render(
            request,
            "web/booking/problem.html",
            {"motive": motive, "message": None},
            status=400,
        )
    try:
        hold = hold_slot(
            agenda_id=agenda_id,
            motive_id=motive_id,
            starts_at=starts_at,
            holder=_holder(request),
        )
    except SlotUnavailable as exc:
        return _taken(request, motive, exc)
    except DomainError as exc:
        return _problem(request, exc, motive)
    return redirect("web:book-hold", hold_id=hold.pk)


def _own_profile(patients: list[Patient]) -> Patient | None:
    return next((p for p in patients if p.account_id is not None), None)


def _book(
    request: HttpRequest,
    held: SlotHold,
    form: BookingDetailsForm,
    patients: list[Patient],
) -> Appointment:
    data = form.cleaned_data
    with transaction.atomic():
        patient = form.chosen_patient()
        if patient is None:
            own = _own_profile(patients) or create_own_patient(
                user=request.user,
                first_name=data["first_name"],
                last_name=data["last_name"],
                birth_date=data["birth_date"],
                phone=data.get("phone", ""),
                country=held.agenda.practice.country,
            )
            patient = own
            if data["for_whom"] == "new":
                patient = add_relative(
                    holder=own,
                    first_name=data["relative_first_name"],
                    last_name=data["relative_last_name"],
                    relationship=data["relationship"],
                    birth_date=data.get("relative_birth_date"),
                )
        return book_appointment(
            agenda_id=held.agenda_id,
            motive_id=held.motive_id,
            patient=patient,
            starts_at=held.starts_at,
            booked_by=request.user,
            reason=data.get("reason", ""),
            answers=form.answers(),
            hold_id=held.pk,
            holder=_holder(request),
            idempotency_key=hold_idempotency_key(held.pk),
        )


@require_http_methods(["GET", "POST"])
def hold(request: HttpRequest, hold_id: UUID) -> HttpResponse:
    holder = _holder(request)
    try:
        held = get_live_hold(hold_id=hold_id, holder=holder)
    except HoldNotFound as exc:
        booked = get_appointment_booked_from_hold(user=request.user, hold_id=hold_id)
        if (
            booked is not None
        ):  # confirmed twice (a double click, a reload): same answer
            return redirect("web:book-confirmed", appointment_id=booked.pk)
        return render(
            request, "web/booking/expired.html", {"message": exc.render()}, status=410
        )
    except HoldExpired:
        # Lapsed while the patient signed up or hesitated: take the time again
        # if it is still free, else say it was taken and offer the nearest ones.
        lapsed = get_lapsed_hold(hold_id=hold_id, holder=holder)
        try:
            held = hold_slot(
                agenda_id=lapsed.agenda_id,
                motive_id=lapsed.motive_id,
                starts_at=lapsed.starts_at,
                holder=holder,
            )
        except SlotUnavailable as exc:
            return _taken(request, lapsed.motive, exc)
        except DomainError as exc:
            return _problem(request, exc, lapsed.motive)
        if request.method == "GET":
            return redirect("web:book-hold", hold_id=held.pk)
    context: dict = {"held": held, "motive": held.motive, "agenda": held.agenda}
    if not request.user.is_authenticated:
        return render(request, "web/booking/hold.html", context)
    patients = sorted(
        list_patients_for_user(user=request.user),
        key=lambda p: (p.account_id is None, p.pk),
    )
    has_profile = _own_profile(patients) is not None
    form = BookingDetailsForm(
        request.POST if request.method == "POST" else None,
        patients=patients,
        has_profile=has_profile,
        questions=held.motive.booking_questions,
    )
    context["form"] = form
    if request.method == "POST" and form.is_valid():
        try:
            appointment = _book(request, held, form, patients)
        except SlotUnavailable as exc:
            return _taken(request, held.motive, exc)
        except DomainError as exc:
            form.add_error(None, exc.render())
            # A patient blocked by no-shows gets the way to send an excuse.
            context["blocked_by_no_shows"] = isinstance(exc, BookingBlockedByNoShows)
        else:
            return redirect("web:book-confirmed", appointment_id=appointment.pk)
    return render(
        request, "web/booking/hold.html", context, status=400 if form.errors else 200
    )


def _mine(request: HttpRequest, appointment_id: int) -> Appointment:
    try:
        return get_appointment_for_user(
            user=request.user, appointment_id=appointment_id
        )
    except AppointmentNotFound:
        raise Http404 from None


@login_required
@require_GET
def confirmed(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appointment = _mine(request, appointment_id)
    return render(
        request,
        "web/booking/confirmed.html",
        {"appointment": appointment, "agenda": appointment.agenda},
    )


@login_required
@require_GET
def calendar_file(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appointment = _mine(request, appointment_id)
    body = appointment_calendar(appointment=appointment, method="PUBLISH")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response
