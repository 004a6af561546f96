"""Booking by phone in the practice's agenda: find or register the caller, then book.

Split from carnet.pro.views.agenda, whose gates and links these pages share.
The patient chosen travels between requests as a signed token naming a
patient a lookup of this practice returned, never as patient data. Writes go
through carnet.booking.staff and carnet.accounts.staff_patients.
"""

from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from carnet.accounts import staff_patients
from carnet.accounts.errors import MfaRequired
from carnet.accounts.models import Patient
from carnet.accounts.roles import Permission
from carnet.audit.models import Purpose
from carnet.booking import staff
from carnet.booking.access import record_staff_reads
from carnet.booking.errors import SlotUnavailable
from carnet.core.errors import DomainError
from carnet.directory.models import Practice
from carnet.pro.forms_agenda import BookingForm, NewPatientForm, PatientSearchForm
from carnet.pro.views.agenda import STAFF, agenda_url, require_practice
from carnet.pro.workspace import practice_context, see_other
from carnet.scheduling.availability import to_utc
from carnet.scheduling.models import VisitMotive
from carnet.vault.errors import BlindIndexValueInvalid, KeyDestroyed

PATIENT_TOKEN_SALT = "carnet.pro.agenda.patient"  # noqa: S105 (a signing salt)
PATIENT_TOKEN_MAX_AGE = 4 * 3600


def patient_token(*, practice_id: int, patient_id: int) -> str:
    """A signed reference to a patient a lookup of this practice returned (no data in it)."""
    return signing.dumps([practice_id, patient_id], salt=PATIENT_TOKEN_SALT)


def _patient_from_token(token: str, practice_id: int) -> Patient | None:
    try:
        value = signing.loads(
            token, salt=PATIENT_TOKEN_SALT, max_age=PATIENT_TOKEN_MAX_AGE
        )
    except signing.BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2 and value[0] == practice_id):
        return None
    return Patient.objects.filter(pk=value[1]).first()


def _motives(practice: Practice) -> list[VisitMotive]:
    return list(
        VisitMotive.objects.filter(
            agenda__practice=practice, agenda__is_active=True, is_active=True
        )
        .select_related("agenda__practitioner", "agenda__location")
        .order_by("agenda__practitioner__last_name", "agenda_id", "name", "pk")
    )


def _patient_label(patient: Patient, *, known: bool = True, show_birth: bool) -> str:
    label = str(patient)
    if show_birth:
        try:
            born = patient.birth_date
        except KeyDestroyed:
            born = None
        if born:
            label = _("%(name)s, born %(date)s") % {
                "name": label,
                "date": born.strftime("%d/%m/%Y"),
            }
    if not known:
        label = _("%(name)s (new to the practice)") % {"name": label}
    return label


def _initial_booking(
    request: HttpRequest, motives: list[VisitMotive]
) -> dict[str, Any]:
    """The form's starting values from the grid's link (?agenda=&starts_at= or &date=)."""
    initial: dict[str, Any] = {}
    agenda_id = request.GET.get("agenda", "")
    agenda_motives = [m for m in motives if str(m.agenda_id) == agenda_id] or motives
    motive_id = request.GET.get("motive", "")
    chosen = next((m for m in motives if str(m.pk) == motive_id), None)
    if chosen is None and agenda_motives:
        chosen = agenda_motives[0]
    if chosen is not None:
        initial["motive"] = chosen.pk
    zone = chosen.agenda.zone if chosen else ZoneInfo("Europe/Paris")
    starts_at = request.GET.get("starts_at", "")
    try:
        instant = datetime.fromisoformat(starts_at) if starts_at else None
    except ValueError:
        instant = None
    if instant is not None and instant.tzinfo is not None:
        local = instant.astimezone(zone)
        initial["date"], initial["time"] = local.date(), local.time()
    else:
        for key in ("date", "time"):
            if request.GET.get(key):
                initial[key] = request.GET[key]
    return initial


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def book(request: HttpRequest, practice_id: int) -> HttpResponse:
    """Book a patient on the phone: find them (or register them), choose motive and time.

    One form, two buttons: "Search" (action=search) lists matching patients
    as choices, "Book" (action=book) calls booking.staff.staff_book. Patient
    choices carry signed tokens, so only a patient a lookup of this practice
    returned can be booked.
    """
    practice, granted = require_practice(
        request, practice_id, Permission.MANAGE_APPOINTMENTS
    )
    show_birth = Permission.VIEW_CONTACT_DETAILS in granted
    motives = _motives(practice)
    patients: list[tuple[str, str]] = []
    searched = False
    data = request.POST if request.method == "POST" else None
    search = PatientSearchForm(data, prefix="find")
    token = (data or request.GET).get("patient", "")
    chosen = _patient_from_token(token, practice.pk) if token else None
    if chosen is not None:
        record_staff_reads(
            actor=request.user,
            actor_kind=STAFF,
            patient_ids=[chosen.pk],
            resource=f"practice:{practice.pk}:booking-form",
            purpose=Purpose.BOOKING,
        )
        patients.append(
            (
                token,
                _patient_label(
                    chosen,
                    known=staff_patients.is_practice_patient(
                        patient_id=chosen.pk, practice_id=practice.pk
                    ),
                    show_birth=show_birth,
                ),
            )
        )
    action = data.get("action", "book") if data is not None else ""
    search_error = ""
    if action == "search" and search.is_valid():
        searched = True
        try:
            found = staff_patients.find_patients_for_practice(
                actor=request.user,
                practice_id=practice.pk,
                country=practice.country,
                request=request,
                **search.cleaned_data,
            )
        except (staff_patients.PatientLookupEmpty, BlindIndexValueInvalid) as exc:
            search_error = exc.render()
            found = []
        for hit in found:
            hit_token = patient_token(
                practice_id=practice.pk, patient_id=hit.patient.pk
            )
            if chosen is not None and hit.patient.pk == chosen.pk:
                continue
            patients.append(
                (
                    hit_token,
                    _patient_label(hit.patient, known=hit.known, show_birth=show_birth),
                )
            )
    if data is not None and action == "book":
        form = BookingForm(data, motives=motives, patients=patients)
    elif data is not None:  # a search: keep what was typed, judge nothing yet
        initial = {
            key: data[key]
            for key in ("motive", "date", "time", "reason", "patient")
            if data.get(key)
        }
        initial["overbook"] = bool(data.get("overbook"))
        if chosen is None and len(patients) == 1:
            initial["patient"] = patients[0][0]  # the one match, preselected
        form = BookingForm(initial=initial, motives=motives, patients=patients)
    else:
        initial = _initial_booking(request, motives)
        if chosen is not None:
            initial["patient"] = token
        form = BookingForm(initial=initial, motives=motives, patients=patients)
    if action == "book" and form.is_valid():
        response = _book(request, practice, form, chosen, motives)
        if response is not None:
            return response
    carried = {}
    for key in ("motive", "date", "time"):
        value = form[key].value()
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, time):
            value = value.strftime("%H:%M")
        if value:
            carried[key] = str(value)
    new_patient_url = reverse(
        "pro:agenda-patient-new", kwargs={"practice_id": practice.pk}
    ) + (f"?{urlencode(carried)}" if carried else "")
    context = {
        **practice_context(request, practice, area="agenda"),
        "form": form,
        "search": search,
        "searched": searched,
        "search_error": search_error,
        "found_count": len(patients) - (1 if chosen is not None else 0),
        "new_patient_url": new_patient_url,
        "back_url": agenda_url(practice.pk),
    }
    return render(request, "pro/agenda/book.html", context)


def _book(
    request: HttpRequest,
    practice: Practice,
    form: BookingForm,
    chosen: Patient | None,
    motives: list[VisitMotive],
) -> HttpResponse | None:
    """Call staff_book with the form's values; None (errors on the form) when refused."""
    data = form.cleaned_data
    patient = (
        _patient_from_token(data["patient"], practice.pk) if data["patient"] else None
    )
    if patient is None:
        form.add_error("patient", _("Search for the patient and choose them."))
        return None
    motive = next((m for m in motives if m.pk == data["motive"]), None)
    if motive is None:  # the choices come from the same list
        form.add_error("motive", _("Choose a visit motive."))
        return None
    zone = motive.agenda.zone
    starts_at = to_utc(
        data["date"], data["time"].replace(second=0, microsecond=0), zone
    )
    if starts_at is None:
        form.add_error(
            "time", _("This time does not exist on that day (the clocks change).")
        )
        return None
    try:
        appointment = staff.staff_book(
            actor=request.user,
            agenda_id=motive.agenda_id,
            motive_id=motive.pk,
            patient=patient,
            starts_at=starts_at,
            reason=data["reason"],
            overbook=data["overbook"],
            request=request,
        )
    except MfaRequired as exc:
        raise PermissionDenied(exc.render()) from exc
    except SlotUnavailable as exc:
        form.add_error(
            None,
            _("%(error)s Tick “Overbook” to book it on top anyway.")
            % {"error": exc.render()},
        )
        return None
    except DomainError as exc:
        form.add_error(None, exc.render())
        return None
    local = appointment.starts_at.astimezone(zone)
    if appointment.is_overbooked:
        messages.warning(
            request,
            _("Appointment booked at %(time)s on %(date)s, overbooked.")
            % {"time": local.strftime("%H:%M"), "date": local.strftime("%d/%m/%Y")},
        )
    else:
        messages.success(
            request,
            _("Appointment booked at %(time)s on %(date)s.")
            % {"time": local.strftime("%H:%M"), "date": local.strftime("%d/%m/%Y")},
        )
    return see_other(agenda_url(practice.pk, date=local.date().isoformat()))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def new_patient(request: HttpRequest, practice_id: int) -> HttpResponse:
    """Register a caller as a patient of the practice, then back to the booking form."""
    practice, _granted = require_practice(
        request, practice_id, Permission.MANAGE_APPOINTMENTS
    )
    if request.method == "POST":
        form = NewPatientForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                patient = staff_patients.register_practice_patient(
                    actor=request.user,
                    practice_id=practice.pk,
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    birth_date=data["birth_date"],
                    phone=data["phone"],
                    email=data["email"],
                    country=practice.country,
                    request=request,
                )
            except MfaRequired as exc:
                raise PermissionDenied(exc.render()) from exc
            except BlindIndexValueInvalid as exc:
                form.add_error("phone", str(exc.message))
            except DomainError as exc:
                form.add_error(NewPatientForm.error_fields.get(type(exc)), exc.render())
            else:
                messages.success(request, _("Patient registered."))
                query = {
                    "patient": patient_token(
                        practice_id=practice.pk, patient_id=patient.pk
                    ),
                    **{k: data[k] for k in ("motive", "date", "time") if data[k]},
                }
                return see_other(
                    reverse("pro:agenda-book", kwargs={"practice_id": practice.pk})
                    + "?"
                    + urlencode(query)
                )
    else:
        form = NewPatientForm(
            initial={k: request.GET.get(k, "") for k in ("motive", "date", "time")}
        )
    back = reverse("pro:agenda-book", kwargs={"practice_id": practice.pk})
    context = {
        **practice_context(request, practice, area="agenda"),
        "form": form,
        "back_url": back,
    }
    return render(request, "pro/agenda/new_patient.html", context)
