"""The practice's patients and a patient's file, for its team.

Every read goes through carnet.records.selectors, which check the role, the
second factor and the break-glass rule, and record one audit event per
patient whose data they return. Someone with no role at the practice gets
404, a role without the right 403; no refusal carries patient data.

Break-glass: a patient with no appointment at the practice opens only with a
stated reason. The reason is kept in the session for BREAK_GLASS_SECONDS
(per practice and patient), so the file's pages and forms work while every
read and write stays recorded as a flagged emergency access with it.
"""

import time
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carnet.accounts.errors import MfaRequired, NotAllowedForRole
from carnet.accounts.models import Patient
from carnet.accounts.roles import Permission, can, permissions_for, require_permission
from carnet.booking.errors import BreakGlassRequired
from carnet.core.errors import DomainError
from carnet.core.security import no_store
from carnet.directory.models import Practice
from carnet.pro.forms_patients import (
    BreakGlassForm,
    FlagForm,
    NoteForm,
    PatientSearchForm,
    flag_kinds_for,
)
from carnet.pro.workspace import practice_context, practice_zone, refuse, see_other
from carnet.records.errors import NoteNotEditable
from carnet.records.selectors import (
    check_record_access,
    get_note,
    get_patient_file,
    list_flags,
    list_notes,
    list_practice_patients,
)
from carnet.records.services import add_flag, edit_note, remove_flag, write_note
from carnet.vault.errors import KeyDestroyed

BREAK_GLASS_SESSION_KEY = "carnet_break_glass"
BREAK_GLASS_SECONDS = 15 * 60
# Refusals that are about the input, shown on the form (the rest are gates).
NOT_FOUND_CODES = frozenset({"not_found", "note_not_found", "flag_not_found"})


def _is_gate(exc: DomainError) -> bool:
    return (
        isinstance(exc, NotAllowedForRole | MfaRequired)
        or exc.code == "practice_not_found"
        or exc.code in NOT_FOUND_CODES
    )


# -- break-glass reasons kept in the session -----------------------------------------


def _glass_key(practice_id: int, patient_id: int) -> str:
    return f"{practice_id}:{patient_id}"


def break_glass_reason(request: HttpRequest, practice_id: int, patient_id: int) -> str:
    """The reason stated for this patient's file in this session, while still valid."""
    kept = request.session.get(BREAK_GLASS_SESSION_KEY, {})
    entry = kept.get(_glass_key(practice_id, patient_id))
    if not entry or entry.get("until", 0) < time.time():
        return ""
    return entry.get("reason", "")


def _keep_reason(
    request: HttpRequest, practice_id: int, patient_id: int, reason: str
) -> None:
    now = time.time()
    kept = {
        key: entry
        for key, entry in request.session.get(BREAK_GLASS_SESSION_KEY, {}).items()
        if entry.get("until", 0) >= now
    }
    kept[_glass_key(practice_id, patient_id)] = {
        "reason": reason,
        "until": now + BREAK_GLASS_SECONDS,
    }
    request.session[BREAK_GLASS_SESSION_KEY] = kept


# -- presentation of sealed values ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sealed:
    """A sealed value as shown: its text, or `erased` once the patient's key is gone."""

    value: Any
    erased: bool


def sealed(instance: Any, name: str) -> Sealed:
    """Read a sealed field through the model; KeyDestroyed becomes "erased"."""
    try:
        return Sealed(value=getattr(instance, name), erased=False)
    except KeyDestroyed:
        return Sealed(value="", erased=True)


IDENTITY_FIELDS = ("birth_date", "phone", "email", "address", "national_health_id")


def _identity(patient: Patient) -> list[tuple[str, str, Sealed]]:
    return [
        (name, str(Patient._meta.get_field(name).verbose_name), sealed(patient, name))
        for name in IDENTITY_FIELDS
    ]


def _practice(practice_id: int) -> Practice:
    return Practice.objects.get(pk=practice_id)


def _detail_url(practice_id: int, patient_id: int) -> str:
    return reverse(
        "pro:patient-detail",
        kwargs={"practice_id": practice_id, "patient_id": patient_id},
    )


# -- the list ------------------------------------------------------------------------


@login_required
@no_store
@require_GET
def patients(request: HttpRequest, practice_id: int) -> HttpResponse:
    """The practice's patients, by name or exact phone / e-mail, a page at a time."""
    form = PatientSearchForm(request.GET or None)
    criteria = {"name": "", "phone": "", "email": "", "page": 1}
    status = 200
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        criteria = {
            "name": data["q"] or "",
            "phone": data["phone"] or "",
            "email": data["email"] or "",
            "page": data["page"] or 1,
        }
    elif form.is_bound:
        status = 400
    try:
        if status == 400:
            # Nothing is searched, but the gate still decides who sees the form.
            require_permission(
                user=request.user,
                practice_id=practice_id,
                permission=Permission.VIEW_CONTACT_DETAILS,
                request=request,
            )
            found = None
        else:
            found = list_practice_patients(
                actor=request.user, practice_id=practice_id, request=request, **criteria
            )
    except DomainError as exc:
        if _is_gate(exc) or exc.kind == "not_found":
            refuse(exc)
        form.add_error("phone", exc.render())
        found, status = None, 400
    query = request.GET.copy()
    query.pop("page", None)
    searching = any(criteria[k] for k in ("name", "phone", "email"))
    return render(
        request,
        "pro/patients/list.html",
        {
            **practice_context(request, _practice(practice_id), area="patients"),
            "form": form,
            "found": found,
            "searching": searching,
            "query": query.urlencode(),
            "zone": practice_zone(practice_id),
        },
        status=status,
    )


# -- the file ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoteRow:
    """A clinical note as listed: its text (or erased) and how often it was corrected."""

    note: Any
    text: Sealed


def _file_context(
    request: HttpRequest, practice_id: int, patient_id: int
) -> dict[str, Any] | None:
    """Everything the file shows, read through the audited selectors.

    None when the patient needs a break-glass reason that was not given.
    """
    reason = break_glass_reason(request, practice_id, patient_id)
    common = {
        "actor": request.user,
        "practice_id": practice_id,
        "patient_id": patient_id,
        "request": request,
        "break_glass_reason": reason,
    }
    try:
        file = get_patient_file(**common)
        flags = list_flags(**common)
        notes = None
        if Permission.VIEW_CLINICAL_NOTES in file.permissions:
            notes = [
                NoteRow(note=note, text=sealed(note, "text"))
                for note in list_notes(**common)
            ]
    except BreakGlassRequired:
        return None
    except DomainError as exc:
        refuse(exc)
    permissions = file.permissions
    return {
        **practice_context(request, _practice(practice_id), area="patients"),
        "file": file,
        "patient": file.patient,
        "identity": _identity(file.patient),
        "flags": [(flag, sealed(flag, "label")) for flag in flags],
        "notes": notes,
        "can_write_notes": Permission.WRITE_CLINICAL_NOTES in permissions,
        "can_add_flags": bool(flag_kinds_for(permissions)),
        "can_remove_clinical_flags": Permission.WRITE_CLINICAL_NOTES in permissions,
        "can_remove_other_flags": Permission.MANAGE_APPOINTMENTS in permissions,
        "note_form": NoteForm(),
        "zone": practice_zone(practice_id),
        "flag_form": FlagForm(permissions=permissions),
        "error": None,
    }


def _break_glass_page(
    request: HttpRequest,
    practice_id: int,
    patient_id: int,
    *,
    form: BreakGlassForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The reason form, and nothing about the patient (who may not even exist)."""
    return render(
        request,
        "pro/patients/break_glass.html",
        {
            **practice_context(request, _practice(practice_id), area="patients"),
            "form": form or BreakGlassForm(),
            "practice_id": practice_id,
            "patient_id": patient_id,
        },
        status=status,
    )


def _render_file(
    request: HttpRequest,
    practice_id: int,
    patient_id: int,
    *,
    status: int = 200,
    **overrides: Any,
) -> HttpResponse:
    context = _file_context(request, practice_id, patient_id)
    if context is None:
        return _break_glass_page(request, practice_id, patient_id)
    context.update(overrides)
    return render(request, "pro/patients/detail.html", context, status=status)


@login_required
@no_store
@require_GET
def patient_detail(
    request: HttpRequest, practice_id: int, patient_id: int
) -> HttpResponse:
    """Identity, contact, visits across the practice, relatives, flags, notes."""
    return _render_file(request, practice_id, patient_id)


@login_required
@no_store
@require_POST
def patient_break_glass(
    request: HttpRequest, practice_id: int, patient_id: int
) -> HttpResponse:
    """State why the file of a patient with no appointment here must be opened."""
    form = BreakGlassForm(request.POST)
    reason = request.POST.get("reason", "").strip()
    try:
        # The gate (role, second factor); records nothing: the file's reads will.
        check_record_access(
            actor=request.user,
            practice_id=practice_id,
            patient_id=patient_id,
            permission=Permission.VIEW_CONTACT_DETAILS,
            break_glass_reason=reason or "-",
            request=request,
        )
    except DomainError as exc:
        if _is_gate(exc):
            refuse(exc)
        form.add_error("reason", exc.render())
    if not form.is_valid():
        return _break_glass_page(
            request, practice_id, patient_id, form=form, status=400
        )
    _keep_reason(request, practice_id, patient_id, form.cleaned_data["reason"])
    return see_other(_detail_url(practice_id, patient_id))


def _write(
    request: HttpRequest,
    practice_id: int,
    patient_id: int,
    action: Any,
    form: Any,
    field: str,
) -> HttpResponse | None:
    """Run a write on the file; its input refusals go to `field` of the re-rendered file."""
    try:
        action(break_glass_reason=break_glass_reason(request, practice_id, patient_id))
    except BreakGlassRequired:
        return see_other(_detail_url(practice_id, patient_id))
    except KeyDestroyed:
        form.add_error(None, _("This patient's data was erased: nothing can be added."))
    except DomainError as exc:
        if _is_gate(exc):
            refuse(exc)
        form.add_error(field, exc.render())
    else:
        return see_other(_detail_url(practice_id, patient_id))
    return None


@login_required
@no_store
@require_POST
def note_add(request: HttpRequest, practice_id: int, patient_id: int) -> HttpResponse:
    """Add a clinical note (practitioners)."""
    form = NoteForm(request.POST)
    if form.is_valid():
        done = _write(
            request,
            practice_id,
            patient_id,
            lambda **glass: write_note(
                actor=request.user,
                practice_id=practice_id,
                patient_id=patient_id,
                text=form.cleaned_data["text"],
                request=request,
                **glass,
            ),
            form,
            "text",
        )
        if done is not None:
            messages.success(request, _("The note was added."))
            return done
    else:
        _gate(request, practice_id, Permission.WRITE_CLINICAL_NOTES)
    return _render_file(request, practice_id, patient_id, status=400, note_form=form)


def _gate(request: HttpRequest, practice_id: int, permission: str) -> None:
    """The services' gate, for input they never saw: a refused role gets 403, not a form."""
    try:
        require_permission(
            user=request.user,
            practice_id=practice_id,
            permission=permission,
            request=request,
        )
    except DomainError as exc:
        refuse(exc)


@login_required
@no_store
@require_POST
def flag_add(request: HttpRequest, practice_id: int, patient_id: int) -> HttpResponse:
    """Flag something the team must know (clinical kinds for practitioners only)."""
    permissions = _permissions(request, practice_id)
    form = FlagForm(request.POST, permissions=permissions)
    if form.is_valid():
        done = _write(
            request,
            practice_id,
            patient_id,
            lambda **glass: add_flag(
                actor=request.user,
                practice_id=practice_id,
                patient_id=patient_id,
                kind=form.cleaned_data["kind"],
                label=form.cleaned_data["label"],
                request=request,
                **glass,
            ),
            form,
            "label",
        )
        if done is not None:
            messages.success(request, _("The flag was added."))
            return done
    else:
        _gate(request, practice_id, Permission.MANAGE_APPOINTMENTS)
    return _render_file(request, practice_id, patient_id, status=400, flag_form=form)


def _permissions(request: HttpRequest, practice_id: int) -> frozenset[Permission]:
    """The user's permissions here, for what forms offer (the services stay the judge)."""
    return permissions_for(user=request.user, practice_id=practice_id)


@login_required
@no_store
@require_POST
def flag_remove(
    request: HttpRequest, practice_id: int, patient_id: int, flag_id: int
) -> HttpResponse:
    """Mark a flag as no longer applying."""
    try:
        remove_flag(
            actor=request.user,
            practice_id=practice_id,
            flag_id=flag_id,
            request=request,
            break_glass_reason=break_glass_reason(request, practice_id, patient_id),
        )
    except BreakGlassRequired:
        return see_other(_detail_url(practice_id, patient_id))
    except DomainError as exc:
        refuse(exc)
    messages.success(request, _("The flag was removed."))
    return see_other(_detail_url(practice_id, patient_id))


# -- one note and its corrections ---------------------------------------------------------


def _note_context(
    request: HttpRequest, practice_id: int, patient_id: int, note_id: int
) -> dict[str, Any] | None:
    try:
        note = get_note(
            actor=request.user,
            practice_id=practice_id,
            note_id=note_id,
            request=request,
            break_glass_reason=break_glass_reason(request, practice_id, patient_id),
        )
    except BreakGlassRequired:
        return None
    except DomainError as exc:
        refuse(exc)
    if note.patient_id != patient_id:
        raise Http404
    text = sealed(note, "text")
    can_edit = (
        note.author_id == request.user.pk
        and not text.erased
        and can(request.user, Permission.WRITE_CLINICAL_NOTES, practice_id)
    )
    return {
        **practice_context(request, _practice(practice_id), area="patients"),
        "note": note,
        "patient": note.patient,
        "text": text,
        "revisions": [(r, sealed(r, "text")) for r in note.revisions.all()],
        "can_edit": can_edit,
        "zone": practice_zone(practice_id),
        "form": NoteForm(initial={"text": text.value}) if can_edit else None,
    }


@login_required
@no_store
@require_http_methods(["GET", "POST"])
def note_detail(
    request: HttpRequest, practice_id: int, patient_id: int, note_id: int
) -> HttpResponse:
    """A note with its earlier texts; its author may correct it (the old text is kept)."""
    status = 200
    form = None
    if request.method == "POST":
        form = NoteForm(request.POST)
        if form.is_valid():
            try:
                edit_note(
                    actor=request.user,
                    practice_id=practice_id,
                    note_id=note_id,
                    text=form.cleaned_data["text"],
                    request=request,
                    break_glass_reason=break_glass_reason(
                        request, practice_id, patient_id
                    ),
                )
            except BreakGlassRequired:
                return see_other(_detail_url(practice_id, patient_id))
            except KeyDestroyed:
                form.add_error(None, _("This patient's data was erased."))
            except NoteNotEditable as exc:
                # Allowed to read the note, not to correct it: the page again, with why.
                form.add_error("text", exc.render())
                status = 200
            except DomainError as exc:
                if _is_gate(exc):
                    refuse(exc)
                form.add_error("text", exc.render())
                status = 400
            else:
                messages.success(
                    request, _("The note was corrected; its earlier text is kept.")
                )
                return see_other(request.path)
        else:
            _gate(request, practice_id, Permission.WRITE_CLINICAL_NOTES)
            status = 400
    context = _note_context(request, practice_id, patient_id, note_id)
    if context is None:
        return _break_glass_page(request, practice_id, patient_id)
    if form is not None:
        context["form"] = form
    return render(request, "pro/patients/note.html", context, status=status)
