"""Reads on the patient file, and the gate every read and write of it goes through.

A practice reaches a patient's notes and flags only if the actor's role
allows it (carnet.accounts.roles), with a second factor, and only for a
patient "of the practice": one who has (or had) an appointment there, the
rule of carnet.booking.access.access_patient_file. Any other patient needs a
stated reason (break-glass), and the access is flagged. Every read and write
appends one audit event for the patient (DESIGN invariant 4).
"""

from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Count, Prefetch
from django.http import HttpRequest

from carnet.accounts.models import Patient
from carnet.accounts.roles import Permission, require_permission
from carnet.accounts.selectors import patient_audit_ref
from carnet.audit.errors import BreakGlassReasonTooLong
from carnet.audit.models import Action, ActorKind, AuditEvent, Purpose
from carnet.audit.services import record_event
from carnet.booking.errors import BreakGlassRequired
from carnet.booking.models import Appointment
from carnet.core.errors import NotFound
from carnet.records.errors import NoteNotFound
from carnet.records.models import (
    CLINICAL_FLAG_KINDS,
    ClinicalNote,
    NoteRevision,
    PatientFlag,
)


@dataclass(frozen=True, slots=True)
class RecordAccess:
    """What the gate allowed: whose file, at which practice, and how it was opened."""

    patient: Patient
    practice_id: int
    permissions: frozenset[Permission]
    break_glass: bool
    reason: str


def is_patient_of_practice(*, patient_id: int, practice_id: int) -> bool:
    """Whether the patient has or had an appointment (of any status) at the practice."""
    return Appointment.objects.filter(
        patient_id=patient_id, agenda__practice_id=practice_id
    ).exists()


def _reason_max_length() -> int:
    return AuditEvent._meta.get_field("reason").max_length or 500


def check_break_glass(
    *,
    practice_id: int,
    patient_id: int,
    permissions: frozenset[Permission],
    break_glass_reason: str,
) -> RecordAccess:
    """The break-glass rule, once the actor's role was checked.

    A patient with no appointment at the practice needs a reason; a patient
    that does not exist has none either, so both get BreakGlassRequired
    without one (identifiers cannot be probed). With a reason, an unknown
    patient raises NotFound.
    """
    reason = break_glass_reason.strip()
    break_glass = not is_patient_of_practice(
        patient_id=patient_id, practice_id=practice_id
    )
    if break_glass:
        if not reason:
            raise BreakGlassRequired()
        if len(reason) > _reason_max_length():
            raise BreakGlassReasonTooLong(max_length=_reason_max_length())
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise NotFound()
    return RecordAccess(
        patient=patient,
        practice_id=practice_id,
        permissions=permissions,
        break_glass=break_glass,
        reason=reason if break_glass else "",
    )


def check_record_access(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    patient_id: int,
    permission: str,
    break_glass_reason: str = "",
    request: HttpRequest | None = None,
) -> RecordAccess:
    """Whether `actor` may use `permission` on the patient's file at the practice.

    Records nothing: the caller records the access with trace_record_access
    once it has the data. Raises NotStaffOfPractice (also for a practice that
    does not exist), NotAllowedForRole, MfaRequired, BreakGlassRequired (a
    patient with no appointment there, or no such patient, without a reason),
    BreakGlassReasonTooLong, or NotFound.
    """
    permissions = require_permission(
        user=actor, practice_id=practice_id, permission=permission, request=request
    )
    return check_break_glass(
        practice_id=practice_id,
        patient_id=patient_id,
        permissions=permissions,
        break_glass_reason=break_glass_reason,
    )


def _label(actor: AbstractBaseUser) -> str:
    max_length = AuditEvent._meta.get_field("actor_label").max_length or 100
    return (actor.get_full_name() or f"#{actor.pk}")[:max_length]


def trace_record_access(
    *,
    access: RecordAccess,
    actor: AbstractBaseUser,
    actor_kind: str,
    action: str,
    resource: str,
) -> None:
    """Append the audit event of one access to the patient's file.

    Purpose care; a break-glass access is recorded as such (action and
    purpose "break_glass"), with its reason, and flagged, as
    access_patient_file does. Joins the caller's transaction.
    """
    record_event(
        actor_id=actor.pk,
        actor_kind=actor_kind,
        actor_label=_label(actor),
        action=Action.BREAK_GLASS if access.break_glass else action,
        resource=resource,
        patient_ref=patient_audit_ref(access.patient.pk),
        purpose=Purpose.BREAK_GLASS if access.break_glass else Purpose.CARE,
        reason=access.reason,
        flagged=access.break_glass,
    )


def notes_resource(practice_id: int) -> str:
    """The audit resource of a patient's notes at a practice."""
    return f"practice:{practice_id}:clinical-notes"


def note_resource(practice_id: int, note_id: int) -> str:
    """The audit resource of one note."""
    return f"practice:{practice_id}:clinical-note:{note_id}"


def flags_resource(practice_id: int) -> str:
    """The audit resource of a patient's flags at a practice."""
    return f"practice:{practice_id}:patient-flags"


def list_notes(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    patient_id: int,
    request: HttpRequest | None = None,
    break_glass_reason: str = "",
    actor_kind: str = ActorKind.STAFF,
) -> list[ClinicalNote]:
    """The practice's clinical notes on a patient, newest first, and one audit event.

    For those who read clinical notes (practitioners); see
    check_record_access for the refusals, each leaving no trace and
    returning no data. Each note carries `revision_count` (its corrections)
    and its author. Reading a note's `text` raises KeyDestroyed once the
    patient was erased. The read is recorded even when there are no notes.
    """
    access = check_record_access(
        actor=actor,
        practice_id=practice_id,
        patient_id=patient_id,
        permission=Permission.VIEW_CLINICAL_NOTES,
        break_glass_reason=break_glass_reason,
        request=request,
    )
    notes = list(
        ClinicalNote.objects.filter(practice_id=practice_id, patient=access.patient)
        .select_related("author", "appointment")
        .annotate(revision_count=Count("revisions"))
        .order_by("-created_at", "-pk")
    )
    for note in notes:
        note.patient = access.patient
    trace_record_access(
        access=access,
        actor=actor,
        actor_kind=actor_kind,
        action=Action.READ,
        resource=notes_resource(practice_id),
    )
    return notes


def get_note(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    note_id: int,
    request: HttpRequest | None = None,
    break_glass_reason: str = "",
    actor_kind: str = ActorKind.STAFF,
) -> ClinicalNote:
    """One note of the practice with its earlier texts (`note.revisions.all()`), audited.

    Same gate as list_notes; raises NoteNotFound for a note that does not
    exist or belongs to another practice.
    """
    permissions = require_permission(
        user=actor,
        practice_id=practice_id,
        permission=Permission.VIEW_CLINICAL_NOTES,
        request=request,
    )
    note = (
        ClinicalNote.objects.filter(pk=note_id, practice_id=practice_id)
        .select_related("author", "appointment")
        .prefetch_related(
            Prefetch(
                "revisions", queryset=NoteRevision.objects.order_by("-replaced_at")
            )
        )
        .first()
    )
    if note is None:
        raise NoteNotFound()
    access = check_break_glass(
        practice_id=practice_id,
        patient_id=note.patient_id,
        permissions=permissions,
        break_glass_reason=break_glass_reason,
    )
    note.patient = access.patient
    for revision in note.revisions.all():
        revision.note = note
    trace_record_access(
        access=access,
        actor=actor,
        actor_kind=actor_kind,
        action=Action.READ,
        resource=note_resource(practice_id, note.pk),
    )
    return note


def list_flags(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    patient_id: int,
    request: HttpRequest | None = None,
    break_glass_reason: str = "",
    actor_kind: str = ActorKind.STAFF,
) -> list[PatientFlag]:
    """The patient's current flags at the practice that the actor may see, and one audit event.

    Everyone who sees contact details sees the practical flags (mobility,
    interpreter, other); allergies and medical alerts only those who read
    clinical notes. Same refusals as check_record_access.
    """
    access = check_record_access(
        actor=actor,
        practice_id=practice_id,
        patient_id=patient_id,
        permission=Permission.VIEW_CONTACT_DETAILS,
        break_glass_reason=break_glass_reason,
        request=request,
    )
    flags = PatientFlag.objects.filter(
        practice_id=practice_id, patient=access.patient, removed_at__isnull=True
    ).select_related("created_by")
    if Permission.VIEW_CLINICAL_NOTES not in access.permissions:
        flags = flags.exclude(kind__in=CLINICAL_FLAG_KINDS)
    result = list(flags.order_by("kind", "created_at", "pk"))
    for flag in result:
        flag.patient = access.patient
    trace_record_access(
        access=access,
        actor=actor,
        actor_kind=actor_kind,
        action=Action.READ,
        resource=flags_resource(practice_id),
    )
    return result
