"""Writes on the patient file: clinical notes and flags.

Each goes through the same gate as the reads (carnet.records.selectors
.check_record_access), seals its text under the patient's data key and
appends its audit event, in one transaction.

Notes are never deleted. Their author may correct them at any time, and
each correction keeps the replaced text as a NoteRevision: the file shows
what was written and when, as a paper file with crossed-out lines would.
(Refusing edits after 24 hours was the alternative; keeping revisions loses
nothing and lets a typo be fixed next week.)
"""

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from carnet.accounts.errors import NotAllowedForRole
from carnet.accounts.roles import Permission, require_permission
from carnet.audit.models import Action, ActorKind
from carnet.booking.errors import AppointmentNotFound
from carnet.booking.models import Appointment
from carnet.records.errors import (
    FlagKindInvalid,
    FlagLabelInvalid,
    FlagNotFound,
    NoteNotEditable,
    NoteNotFound,
    NoteTextInvalid,
)
from carnet.records.models import (
    CLINICAL_FLAG_KINDS,
    FLAG_LABEL_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    ClinicalNote,
    NoteRevision,
    PatientFlag,
)
from carnet.records.selectors import (
    check_break_glass,
    check_record_access,
    note_resource,
    trace_record_access,
)


def _clean_text(text: str) -> str:
    """The note without surrounding blank space; raises NoteTextInvalid."""
    cleaned = text.strip()
    if not cleaned or len(cleaned) > NOTE_MAX_LENGTH:
        raise NoteTextInvalid(max_length=NOTE_MAX_LENGTH)
    return cleaned


@transaction.atomic
def write_note(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    patient_id: int,
    text: str,
    appointment_id: int | None = None,
    request: HttpRequest | None = None,
    break_glass_reason: str = "",
    actor_kind: str = ActorKind.STAFF,
) -> ClinicalNote:
    """Add a clinical note to the patient's file at the practice.

    For those who write clinical notes (practitioners). The text is sealed
    under the patient's data key; the note may name one of the patient's
    appointments at the practice. Raises the refusals of check_record_access,
    NoteTextInvalid, AppointmentNotFound (not this patient's visit here) or
    KeyDestroyed (the patient was erased); nothing is stored then. One
    "create" audit event (break-glass when the patient has no appointment at
    the practice and a reason is given).
    """
    access = check_record_access(
        actor=actor,
        practice_id=practice_id,
        patient_id=patient_id,
        permission=Permission.WRITE_CLINICAL_NOTES,
        break_glass_reason=break_glass_reason,
        request=request,
    )
    text = _clean_text(text)
    appointment = None
    if appointment_id is not None:
        appointment = Appointment.objects.filter(
            pk=appointment_id,
            patient=access.patient,
            agenda__practice_id=practice_id,
        ).first()
        if appointment is None:
            raise AppointmentNotFound()
    note = ClinicalNote(
        patient=access.patient,
        practice_id=practice_id,
        author_id=actor.pk,
        appointment=appointment,
    )
    note.text = text
    note.save()
    trace_record_access(
        access=access,
        actor=actor,
        actor_kind=actor_kind,
        action=Action.CREATE,
        resource=note_resource(practice_id, note.pk),
    )
    return note


@transaction.atomic
def edit_note(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    note_id: int,
    text: str,
    request: HttpRequest | None = None,
    break_glass_reason: str = "",
    actor_kind: str = ActorKind.STAFF,
) -> ClinicalNote:
    """Correct a note; the text it replaces is kept as a NoteRevision.

    Only the note's author, while they may still write clinical notes at the
    practice. Locks the note FOR UPDATE, so concurrent corrections queue and
    each keeps its predecessor. The same text again changes nothing. Raises
    the refusals of check_record_access, NoteNotFound (also for another
    practice's note), NoteNotEditable (not the author), NoteTextInvalid or
    KeyDestroyed; nothing changes then. One "update" audit event.
    """
    permissions = require_permission(
        user=actor,
        practice_id=practice_id,
        permission=Permission.WRITE_CLINICAL_NOTES,
        request=request,
    )
    note = (
        ClinicalNote.objects.select_for_update()
        .filter(pk=note_id, practice_id=practice_id)
        .first()
    )
    if note is None:
        raise NoteNotFound()
    if note.author_id != actor.pk:
        raise NoteNotEditable()
    text = _clean_text(text)
    access = check_break_glass(
        practice_id=practice_id,
        patient_id=note.patient_id,
        permissions=permissions,
        break_glass_reason=break_glass_reason,
    )
    note.patient = access.patient
    previous = note.text
    if previous == text:
        return note
    now = timezone.now()
    revision = NoteRevision(note=note, written_at=note.updated_at, replaced_at=now)
    revision.text = previous
    revision.save()
    note.text = text
    note.save(update_fields=["text", "updated_at"])
    trace_record_access(
        access=access,
        actor=actor,
        actor_kind=actor_kind,
        action=Action.UPDATE,
        resource=note_resource(practice_id, note.pk),
    )
    return note


def _flag_resource(practice_id: int, flag_id: int) -> str:
    return f"practice:{practice_id}:patient-flag:{flag_id}"


def _flag_write_permission(kind: str) -> Permission:
    """Clinical flags are written by those who write notes; practical ones by the front desk too."""
    if kind in CLINICAL_FLAG_KINDS:
        return Permission.WRITE_CLINICAL_NOTES
    return Permission.MANAGE_APPOINTMENTS


@transaction.atomic
def add_flag(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    patient_id: int,
    kind: str,
    label: str,
    request: HttpRequest | None = None,
    break_glass_reason: str = "",
    actor_kind: str = ActorKind.STAFF,
) -> PatientFlag:
    """Flag something the team must know about the patient (allergy, interpreter...).

    Allergies and medical alerts need the right to write clinical notes;
    mobility, interpreter and other flags the right to manage appointments.
    The label is sealed under the patient's data key. Raises the refusals of
    check_record_access, FlagKindInvalid, FlagLabelInvalid or KeyDestroyed;
    nothing is stored then. One "create" audit event.
    """
    access = check_record_access(
        actor=actor,
        practice_id=practice_id,
        patient_id=patient_id,
        permission=_flag_write_permission(kind),
        break_glass_reason=break_glass_reason,
        request=request,
    )
    if kind not in PatientFlag.Kind.values:
        raise FlagKindInvalid()
    label = label.strip()
    if not label or len(label) > FLAG_LABEL_MAX_LENGTH:
        raise FlagLabelInvalid(max_length=FLAG_LABEL_MAX_LENGTH)
    flag = PatientFlag(
        patient=access.patient,
        practice_id=practice_id,
        kind=kind,
        created_by_id=actor.pk,
    )
    flag.label = label
    flag.save()
    trace_record_access(
        access=access,
        actor=actor,
        actor_kind=actor_kind,
        action=Action.CREATE,
        resource=_flag_resource(practice_id, flag.pk),
    )
    return flag


@transaction.atomic
def remove_flag(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    flag_id: int,
    request: HttpRequest | None = None,
    break_glass_reason: str = "",
    actor_kind: str = ActorKind.STAFF,
) -> None:
    """Mark a flag as no longer applying (it is kept, with who removed it and when).

    The same rights as adding it. A clinical flag is "not found" for those
    who may not see it. Raises FlagNotFound (missing,
    another practice's, already removed or hidden), NotAllowedForRole and
    the refusals of check_record_access; nothing changes then. One "update"
    audit event.
    """
    permissions = require_permission(
        user=actor,
        practice_id=practice_id,
        permission=Permission.VIEW_CONTACT_DETAILS,
        request=request,
    )
    flag = (
        PatientFlag.objects.select_for_update()
        .filter(pk=flag_id, practice_id=practice_id, removed_at__isnull=True)
        .first()
    )
    if flag is None or (
        flag.is_clinical and Permission.VIEW_CLINICAL_NOTES not in permissions
    ):
        raise FlagNotFound()
    if _flag_write_permission(flag.kind) not in permissions:
        raise NotAllowedForRole()
    access = check_break_glass(
        practice_id=practice_id,
        patient_id=flag.patient_id,
        permissions=permissions,
        break_glass_reason=break_glass_reason,
    )
    flag.removed_at = timezone.now()
    flag.removed_by_id = actor.pk
    flag.save(update_fields=["removed_at", "removed_by", "updated_at"])
    trace_record_access(
        access=access,
        actor=actor,
        actor_kind=actor_kind,
        action=Action.UPDATE,
        resource=_flag_resource(practice_id, flag.pk),
    )
