"""The only doors to patients' data for staff: check the right, then record the access.

Each gate checks the actor's role at the practice and their second factor,
answers "not found" alike for missing and forbidden, and appends one audit
event per patient whose data it returns (DESIGN invariant 4).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest

from carnet.accounts.models import Patient
from carnet.accounts.roles import get_membership, require_mfa
from carnet.accounts.selectors import list_patients_for_user, patient_audit_ref
from carnet.audit.models import AuditEvent
from carnet.audit.selectors import list_events_for_patient
from carnet.audit.services import record_event
from carnet.booking.errors import BreakGlassRequired
from carnet.booking.models import Appointment
from carnet.booking.selectors import list_appointments_for_user
from carnet.core.errors import NotFound
from carnet.scheduling.models import Agenda


@dataclass(frozen=True)
class PatientFile:
    """What a practice sees of a patient: identity and visits at that practice."""

    patient: Patient
    appointments: list[Appointment]
    break_glass: bool


def _label(actor: AbstractBaseUser) -> str:
    """How the actor appears in the patient's "who accessed my data" view."""
    return (actor.get_full_name() or f"#{actor.pk}")[:100]


def _record_reads(
    *,
    appointments: list[Appointment],
    actor_id: int,
    actor_kind: str,
    actor_label: str,
    resource: str,
    purpose: str,
) -> None:
    """One read event per patient whose appointments were returned, in one transaction."""
    with transaction.atomic():
        for patient_id in sorted({a.patient_id for a in appointments}):
            record_event(
                actor_id=actor_id,
                actor_kind=actor_kind,
                actor_label=actor_label,
                action="read",
                resource=resource,
                patient_ref=patient_audit_ref(patient_id),
                purpose=purpose,
            )


def _staff_gate(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    request: HttpRequest | None,
    roles: list[str] | None = None,
) -> None:
    if not actor.is_superuser:
        get_membership(user=actor, practice_id=practice_id, roles=roles)
    require_mfa(user=actor, request=request)


def require_practice_staff(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    request: HttpRequest | None = None,
    roles: list[str] | None = None,
) -> None:
    """The gate of every staff service: a member of the practice, with a second factor.

    `roles` limits it to some roles (any role by default). Raises
    NotStaffOfPractice (the same for a practice that does not exist) or
    MfaRequired.
    """
    _staff_gate(actor=actor, practice_id=practice_id, request=request, roles=roles)


def record_staff_reads(
    *,
    actor: AbstractBaseUser,
    actor_kind: str,
    patient_ids: Iterable[int],
    resource: str,
    purpose: str,
) -> None:
    """One read event per patient whose data a staff read returned, in one transaction."""
    with transaction.atomic():
        for patient_id in sorted(set(patient_ids)):
            record_event(
                actor_id=actor.pk,
                actor_kind=actor_kind,
                actor_label=_label(actor),
                action="read",
                resource=resource,
                patient_ref=patient_audit_ref(patient_id),
                purpose=purpose,
            )


def record_staff_change(
    *,
    actor: AbstractBaseUser,
    actor_kind: str,
    action: str,
    patient_id: int,
    resource: str,
    purpose: str,
) -> None:
    """One event for a change staff made to a patient's data (joins the caller's transaction)."""
    record_event(
        actor_id=actor.pk,
        actor_kind=actor_kind,
        actor_label=_label(actor),
        action=action,
        resource=resource,
        patient_ref=patient_audit_ref(patient_id),
        purpose=purpose,
    )


def access_agenda_day(
    *,
    actor: AbstractBaseUser,
    agenda_id: int,
    day: date,
    actor_kind: str,
    request: HttpRequest | None = None,
) -> tuple[Agenda, list[Appointment]]:
    """An agenda's appointments on one local day, for a member of its practice.

    Raises NotStaffOfPractice/NotFound (same for missing and forbidden) or
    MfaRequired. Records one read event per patient shown.
    """
    agenda = (
        Agenda.objects.select_related("practice", "practitioner")
        .filter(pk=agenda_id)
        .first()
    )
    if agenda is None:
        raise NotFound()
    _staff_gate(actor=actor, practice_id=agenda.practice_id, request=request)
    zone = agenda.zone
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(
        day + timedelta(days=1), datetime.min.time(), tzinfo=zone
    ).astimezone(UTC)
    appointments = list(
        Appointment.objects.filter(
            agenda=agenda, starts_at__gte=start, starts_at__lt=end
        )
        .select_related("patient", "motive")
        .order_by("starts_at", "pk")
    )
    _record_reads(
        appointments=appointments,
        actor_id=actor.pk,
        actor_kind=actor_kind,
        actor_label=_label(actor),
        resource=f"agenda:{agenda.pk}:{day.isoformat()}",
        purpose="care",
    )
    return agenda, appointments


def access_patient_file(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    patient_id: int,
    actor_kind: str,
    reason: str = "",
    request: HttpRequest | None = None,
) -> PatientFile:
    """A patient's file as seen by a practice, recorded in the audit trail.

    A patient with no appointment at the practice can only be opened with a
    stated `reason` (break-glass): the event is flagged. Raises
    BreakGlassRequired without one, NotFound for an unknown patient.
    """
    _staff_gate(actor=actor, practice_id=practice_id, request=request)
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise NotFound()
    appointments = list(
        Appointment.objects.filter(patient=patient, agenda__practice_id=practice_id)
        .select_related("motive", "agenda")
        .order_by("-starts_at", "-pk")
    )
    break_glass = not appointments
    reason = reason.strip()
    if break_glass and not reason:
        raise BreakGlassRequired()
    record_event(
        actor_id=actor.pk,
        actor_kind=actor_kind,
        actor_label=_label(actor),
        action="break_glass" if break_glass else "read",
        resource=f"practice:{practice_id}:patient-file",
        patient_ref=patient_audit_ref(patient.pk),
        purpose="break_glass" if break_glass else "care",
        reason=reason[:500] if break_glass else "",
        flagged=break_glass,
    )
    return PatientFile(
        patient=patient, appointments=appointments, break_glass=break_glass
    )


def list_access_events_for_user(
    *, user: AbstractBaseUser, limit: int = 500
) -> list[tuple[int, AuditEvent]]:
    """Audit events about the user's own patient file and their relatives', newest first.

    The patient's "who accessed my data" view: (patient id, event) pairs.
    """
    events: list[tuple[int, AuditEvent]] = []
    for patient_id in list_patients_for_user(user=user).values_list("pk", flat=True):
        events.extend(
            (patient_id, e)
            for e in list_events_for_patient(patient_ref=patient_audit_ref(patient_id))[
                :limit
            ]
        )
    events.sort(key=lambda pair: (pair[1].occurred_at, pair[1].pk), reverse=True)
    return events[:limit]


def access_own_appointments(
    *, user: AbstractBaseUser, actor_kind: str, actor_label: str = ""
) -> list[Appointment]:
    """The user's and their relatives' appointments (newest first, at most 200).

    A read by connected software (an API client) is recorded in the audit
    trail, one event per patient whose appointments it returned.
    """
    appointments = list(list_appointments_for_user(user=user)[:200])
    if actor_kind == Appointment.Actor.API:
        _record_reads(
            appointments=appointments,
            actor_id=user.pk,
            actor_kind="api",
            actor_label=actor_label[:120],
            resource="appointments",
            purpose="patient_request",
        )
    return appointments
