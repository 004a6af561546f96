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
from django.core.paginator import Paginator
from django.db.models import Count, Max, Prefetch, Q
from django.http import HttpRequest

from carnet.accounts.models import Patient
from carnet.accounts.roles import Permission, require_permission
from carnet.accounts.selectors import find_patients_by_contact, patient_audit_ref
from carnet.accounts.staff_patients import (
    filter_by_name,
    is_practice_patient,
    practice_patients,
)
from carnet.audit.errors import BreakGlassReasonTooLong
from carnet.audit.models import Action, ActorKind, AuditEvent, Purpose
from carnet.audit.services import record_event
from carnet.booking.access import record_staff_reads
from carnet.booking.errors import BreakGlassRequired
from carnet.booking.models import Appointment
from carnet.core.errors import NotFound
from carnet.directory.models import Practice
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
    """Whether the patient is one of the practice's own (see practice_patients).

    An appointment there, of any status, or registered by the practice (a
    caller whose file the front desk opened before booking).
    """
    return is_practice_patient(patient_id=patient_id, practice_id=practice_id)


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


# -- the practice's patients and a patient's file, as the workspace shows them -------

PATIENTS_PER_PAGE = 25


def patients_resource(practice_id: int) -> str:
    """The audit resource of the practice's list of patients."""
    return f"practice:{practice_id}:patients"


def patient_file_resource(practice_id: int) -> str:
    """The audit resource of a patient's file (identity, contact, visits) at a practice."""
    return f"practice:{practice_id}:patient-file"


def relatives_resource(practice_id: int) -> str:
    """The audit resource of the relatives shown on a patient's file at a practice."""
    return f"practice:{practice_id}:patient-file:relatives"


@dataclass(frozen=True, slots=True)
class PatientListPage:
    """One page of the practice's patients, as list_practice_patients found them."""

    patients: list[Patient]
    number: int
    num_pages: int
    count: int

    @property
    def has_previous(self) -> bool:
        """Whether a page comes before this one."""
        return self.number > 1

    @property
    def has_next(self) -> bool:
        """Whether a page comes after this one."""
        return self.number < self.num_pages


def list_practice_patients(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    name: str = "",
    phone: str = "",
    email: str = "",
    page: int = 1,
    per_page: int = PATIENTS_PER_PAGE,
    request: HttpRequest | None = None,
    actor_kind: str = ActorKind.STAFF,
) -> PatientListPage:
    """One page of the practice's patients (an appointment there, or registered by it), by name.

    For those who see contact details. `name` keeps the patients whose first
    or last name contains every word given; `phone` and `email` the ones whose
    number or address is exactly that (blind indexes, never a search in
    clear). Each patient carries `last_visit_at` and `visit_count` at the
    practice. A page past the last is the last. One read event per patient
    on the page (none for the others). Raises the refusals of
    require_permission, or BlindIndexValueInvalid for an unreadable phone
    number (nothing is recorded then).
    """
    require_permission(
        user=actor,
        practice_id=practice_id,
        permission=Permission.VIEW_CONTACT_DETAILS,
        request=request,
    )
    of_practice = Q(appointments__agenda__practice_id=practice_id)
    patients = filter_by_name(practice_patients(practice_id=practice_id), name)
    if phone.strip():
        country = (
            Practice.objects.filter(pk=practice_id)
            .values_list("country", flat=True)
            .first()
        )
        patients = patients.filter(
            pk__in=find_patients_by_contact(
                phone=phone.strip(), country=country
            ).values("pk")
        )
    if email.strip():
        patients = patients.filter(
            pk__in=find_patients_by_contact(email=email.strip()).values("pk")
        )
    patients = patients.annotate(
        last_visit_at=Max("appointments__starts_at", filter=of_practice),
        visit_count=Count("appointments", filter=of_practice),
    ).order_by("last_name", "first_name", "pk")
    paginator = Paginator(patients, per_page)
    found = paginator.get_page(page)
    shown = list(found.object_list)
    record_staff_reads(
        actor=actor,
        actor_kind=actor_kind,
        patient_ids=[p.pk for p in shown],
        resource=patients_resource(practice_id),
        purpose=Purpose.CARE,
    )
    return PatientListPage(
        patients=shown,
        number=found.number,
        num_pages=paginator.num_pages,
        count=paginator.count,
    )


@dataclass(frozen=True, slots=True)
class PracticePatientFile:
    """A patient's file at a practice: who they are, their visits there, their relatives."""

    patient: Patient
    appointments: list[Appointment]
    manager: Patient | None
    relatives: list[Patient]
    permissions: frozenset[Permission]
    break_glass: bool
    reason: str


def get_patient_file(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    patient_id: int,
    request: HttpRequest | None = None,
    break_glass_reason: str = "",
    actor_kind: str = ActorKind.STAFF,
) -> PracticePatientFile:
    """A patient's identity, contact, visits across all the practice's agendas and relatives.

    For those who see contact details; see check_record_access for the
    refusals (a patient with no appointment at the practice needs a
    break-glass reason), each leaving no trace. Appointments come newest
    first with their agenda, practitioner and motive (never their reason).
    `manager` is the account holder who manages this patient, `relatives`
    the people this patient manages. One audit event for the patient's file
    and one per relative shown (break-glass and flagged alike when the file
    was opened so). Sealed fields raise KeyDestroyed once erased.
    """
    access = check_record_access(
        actor=actor,
        practice_id=practice_id,
        patient_id=patient_id,
        permission=Permission.VIEW_CONTACT_DETAILS,
        break_glass_reason=break_glass_reason,
        request=request,
    )
    patient = access.patient
    appointments = list(
        Appointment.objects.filter(patient=patient, agenda__practice_id=practice_id)
        .select_related("agenda__practitioner", "agenda__location", "motive")
        .order_by("-starts_at", "-pk")
    )
    manager = (
        Patient.objects.filter(pk=patient.managed_by_id).first()
        if patient.managed_by_id
        else None
    )
    relatives = list(
        Patient.objects.filter(managed_by=patient).order_by(
            "first_name", "last_name", "pk"
        )
    )
    trace_record_access(
        access=access,
        actor=actor,
        actor_kind=actor_kind,
        action=Action.READ,
        resource=patient_file_resource(practice_id),
    )
    for relative in ([manager] if manager else []) + relatives:
        trace_record_access(
            access=RecordAccess(
                patient=relative,
                practice_id=practice_id,
                permissions=access.permissions,
                break_glass=access.break_glass,
                reason=access.reason,
            ),
            actor=actor,
            actor_kind=actor_kind,
            action=Action.READ,
            resource=relatives_resource(practice_id),
        )
    return PracticePatientFile(
        patient=patient,
        appointments=appointments,
        manager=manager,
        relatives=relatives,
        permissions=access.permissions,
        break_glass=access.break_glass,
        reason=access.reason,
    )
