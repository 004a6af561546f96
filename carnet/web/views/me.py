"""The patient area: appointments, profile, relatives, privacy and security pages."""

import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from carnet.accounts.data_rights import (
    delete_account as delete_account_service,
)
from carnet.accounts.data_rights import (
    export_patient_data,
)
from carnet.accounts.errors import AccountDeletionBlocked, NoPatientProfile
from carnet.accounts.models import Patient
from carnet.accounts.selectors import (
    get_notification_preferences,
    get_own_patient,
    get_relative_for_user,
    list_patients_for_user,
    list_relatives,
)
from carnet.accounts.services import (
    add_relative,
    create_own_patient,
    remove_relative,
    update_notification_preferences,
    update_own_patient,
    update_relative,
)
from carnet.booking.access import list_access_events_for_user
from carnet.booking.answers import read_answers
from carnet.booking.errors import SlotUnavailable
from carnet.booking.models import Appointment
from carnet.booking.selectors import (
    get_appointment_for_user,
    list_appointments_for_user,
)
from carnet.booking.services import cancel_appointment, reschedule_appointment
from carnet.core.errors import DomainError
from carnet.vault.errors import BlindIndexValueInvalid
from carnet.web.forms_me import (
    CancelForm,
    DeleteAccountForm,
    NotificationsForm,
    ProfileForm,
    RelativeForm,
    RescheduleForm,
)
from carnet.web.slots import build_week, parse_week

# Users have no time zone of their own yet: pages not tied to an agenda use this one.
DEFAULT_ZONE = "Europe/Paris"
PAST_SHOWN = 50


@dataclass(frozen=True, slots=True)
class AppointmentCard:
    """An appointment as the patient area shows it, with what may still be done online."""

    appointment: Appointment
    time_zone: str
    change_until: datetime
    can_change: bool
    is_upcoming: bool


def _card(appointment: Appointment, now: datetime) -> AppointmentCard:
    """Presentation only: the booking services stay the judge of every change."""
    change_until = appointment.starts_at - appointment.motive.cancellation_cutoff
    booked = appointment.status == Appointment.Status.BOOKED
    return AppointmentCard(
        appointment=appointment,
        time_zone=appointment.agenda.time_zone,
        change_until=change_until,
        can_change=booked and now <= change_until and now < appointment.starts_at,
        is_upcoming=booked and appointment.ends_at > now,
    )


def _posted(request: HttpRequest) -> QueryDict | None:
    """Form data of a POST, even an empty one (unticked boxes send nothing)."""
    return request.POST if request.method == "POST" else None


def _own_patient(request: HttpRequest) -> Patient | None:
    try:
        return get_own_patient(user=request.user)
    except NoPatientProfile:
        return None


def _appointment_or_404(request: HttpRequest, appointment_id: int) -> Appointment:
    try:
        appointment = get_appointment_for_user(
            user=request.user, appointment_id=appointment_id
        )
    except DomainError:
        raise Http404 from None
    return appointment


def _relative_or_404(request: HttpRequest, patient_id: int) -> Patient:
    try:
        return get_relative_for_user(user=request.user, patient_id=patient_id)
    except DomainError:
        raise Http404 from None


def _render(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    return render(request, f"web/me/{template}", context)


# -- appointments ------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def dashboard(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    appointments = list_appointments_for_user(user=request.user).select_related(
        "agenda__practitioner", "agenda__location", "agenda__practice"
    )
    cards = [_card(a, now) for a in appointments]
    upcoming = sorted(
        (c for c in cards if c.is_upcoming),
        key=lambda c: (c.appointment.starts_at, c.appointment.pk),
    )
    past = [c for c in cards if not c.is_upcoming][:PAST_SHOWN]
    return _render(
        request,
        "dashboard.html",
        {
            "section": "appointments",
            "upcoming": upcoming,
            "past": past,
            "own_patient": _own_patient(request),
        },
    )


@login_required
@require_http_methods(["GET"])
def appointment(request: HttpRequest, appointment_id: int) -> HttpResponse:
    found = _appointment_or_404(request, appointment_id)
    return _render(
        request,
        "appointment.html",
        {
            "section": "appointments",
            "card": _card(found, timezone.now()),
            "answers": read_answers(found.answers),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, appointment_id: int) -> HttpResponse:
    found = _appointment_or_404(request, appointment_id)
    form = CancelForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            cancel_appointment(
                user=request.user,
                appointment_id=found.pk,
                actor=Appointment.Actor.PATIENT,
                reason=form.reason_text(),
            )
        except DomainError as exc:
            form.add_error(None, exc.render())
        else:
            messages.success(request, _("Your appointment is cancelled."))
            return redirect("web:me-appointment", appointment_id=found.pk)
    return _render(
        request,
        "cancel.html",
        {
            "section": "appointments",
            "card": _card(found, timezone.now()),
            "form": form,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def reschedule(request: HttpRequest, appointment_id: int) -> HttpResponse:
    found = _appointment_or_404(request, appointment_id)
    alternatives: list[datetime] = []
    form = RescheduleForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            moved = reschedule_appointment(
                user=request.user,
                appointment_id=found.pk,
                starts_at=form.cleaned_data["start"],
                actor=Appointment.Actor.PATIENT,
            )
        except SlotUnavailable as exc:
            form.add_error(None, exc.render())
            zone = found.agenda.zone
            alternatives = [
                datetime.fromisoformat(a).astimezone(zone) for a in exc.alternatives
            ]
        except DomainError as exc:
            form.add_error(None, exc.render())
        else:
            messages.success(request, _("Your appointment has been moved."))
            return redirect("web:me-appointment", appointment_id=moved.pk)
    now = timezone.now()
    week = build_week(
        motive=found.motive,
        week_start=parse_week(request.GET.get("week")),
        now=now,
        exclude_id=found.pk,
    )
    return _render(
        request,
        "reschedule.html",
        {
            "section": "appointments",
            "card": _card(found, now),
            "form": form,
            "week": week,
            "alternatives": alternatives,
            "action": request.path,
            "nav_url": request.path,
        },
    )


# -- profile and relatives ---------------------------------------------------------


def _default_country() -> str:
    """The phone country assumed for a number typed without +: the page's language's."""
    return {"de": "DE", "it": "IT"}.get((get_language() or "fr")[:2], "FR")


def _profile_initial(patient: Patient | None, request: HttpRequest) -> dict:
    if patient is None:
        return {
            "first_name": request.user.first_name,
            "last_name": request.user.last_name,
            "email": request.user.email,
            "country": _default_country(),
        }
    return {
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "birth_date": patient.birth_date,
        "phone": patient.phone,
        "email": patient.email,
        "country": _default_country(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    patient = _own_patient(request)
    form = ProfileForm(_posted(request), initial=_profile_initial(patient, request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {
            "user": request.user,
            "first_name": data["first_name"],
            "last_name": data["last_name"],
            "birth_date": data["birth_date"],
            "phone": data["phone"],
            "country": data["country"],
            "email": data["email"],
        }
        try:
            if patient is None:
                create_own_patient(**fields)
            else:
                update_own_patient(**fields)
        except BlindIndexValueInvalid as exc:
            form.add_error("phone", exc.render())
        except DomainError as exc:
            form.add_error(None, exc.render())
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("web:me-profile")
    return _render(
        request,
        "profile.html",
        {"section": "profile", "form": form, "own_patient": patient},
    )


@login_required
@require_http_methods(["GET", "POST"])
def relatives(request: HttpRequest) -> HttpResponse:
    holder = _own_patient(request)
    form = RelativeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            if holder is None:
                raise NoPatientProfile()
            added = add_relative(holder=holder, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.render())
        else:
            messages.success(
                request,
                _("{name} has been added to your relatives.").format(
                    name=added.first_name
                ),
            )
            return redirect("web:me-relatives")
    return _render(
        request,
        "relatives.html",
        {
            "section": "relatives",
            "relatives": list_relatives(user=request.user),
            "form": form,
            "own_patient": holder,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def relative(request: HttpRequest, patient_id: int) -> HttpResponse:
    found = _relative_or_404(request, patient_id)
    removing = request.method == "POST" and request.POST.get("action") == "remove"
    form = RelativeForm(
        None if removing else _posted(request),
        initial={
            "first_name": found.first_name,
            "last_name": found.last_name,
            "relationship": found.relationship,
            "birth_date": found.birth_date,
        },
    )
    remove_error = ""
    if removing:
        try:
            remove_relative(user=request.user, patient_id=found.pk)
        except DomainError as exc:
            remove_error = exc.render()
        else:
            messages.success(
                request,
                _("{name} has been removed from your relatives.").format(
                    name=found.first_name
                ),
            )
            return redirect("web:me-relatives")
    elif request.method == "POST" and form.is_valid():
        try:
            update_relative(user=request.user, patient_id=found.pk, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.render())
        else:
            messages.success(request, _("Your changes are saved."))
            return redirect("web:me-relatives")
    return _render(
        request,
        "relative.html",
        {
            "section": "relatives",
            "relative": found,
            "form": form,
            "remove_error": remove_error,
        },
    )


# -- privacy -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def access_log(request: HttpRequest) -> HttpResponse:
    names = {
        p.pk: f"{p.first_name} {p.last_name}"
        for p in list_patients_for_user(user=request.user)
    }
    rows = [
        (names.get(patient_id, ""), event)
        for patient_id, event in list_access_events_for_user(user=request.user)
    ]
    return _render(
        request,
        "access_log.html",
        {"section": "privacy", "rows": rows, "time_zone": DEFAULT_ZONE},
    )


@login_required
@require_http_methods(["GET", "POST"])
def export(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(request, "export.html", {"section": "privacy"})
    data = export_patient_data(user=request.user)
    day = timezone.now().astimezone(ZoneInfo(DEFAULT_ZONE)).date()
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="carnet-export-{day.isoformat()}.json"'
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = DeleteAccountForm(_posted(request), user=user)
    blocked: list[AppointmentCard] = []
    # Password guesses here are throttled like allauth's own re-authentication.
    throttled = request.method == "POST" and not ratelimit.consume(
        request, action="reauthenticate", user=user
    )
    if request.method == "POST" and not throttled and form.is_valid():
        try:
            delete_account_service(user=user)
        except AccountDeletionBlocked as exc:
            form.add_error(None, exc.render())
            now = timezone.now()
            blocked = [_card(a, now) for a in exc.appointments]
        except DomainError as exc:
            form.add_error(None, exc.render())
        else:
            logout(request)
            messages.success(
                request,
                _(
                    "Your account is deleted and your data erased. Take care of yourself."
                ),
            )
            return redirect("home")
    return _render(
        request,
        "delete.html",
        {
            "section": "privacy",
            "form": form,
            "blocked": blocked,
            "throttled": throttled,
            "has_password": user.has_usable_password(),
        },
    )


# -- settings ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    current = get_notification_preferences(user=request.user)
    form = NotificationsForm(
        _posted(request),
        initial={
            "email_reminders": current.email_reminders,
            "sms_reminders": current.sms_reminders,
            "reminder_offsets": current.reminder_offsets,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            update_notification_preferences(user=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.render())
        else:
            messages.success(request, _("Your notification preferences are saved."))
            return redirect("web:me-notifications")
    return _render(
        request, "notifications.html", {"section": "notifications", "form": form}
    )


@login_required
@require_http_methods(["GET"])
def security(request: HttpRequest) -> HttpResponse:
    return _render(
        request,
        "security.html",
        {
            "section": "security",
            "has_password": request.user.has_usable_password(),
            "password_url": reverse(
                "account_change_password"
                if request.user.has_usable_password()
                else "account_set_password"
            ),
        },
    )
