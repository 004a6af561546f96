"""The patient's rights over their data: export it, delete the account.

Export and deletion also use the booking context's selectors and services.
Booking depends on accounts (its models and selectors import ours), so
those imports are made inside the functions that need them: at module level
they would be circular.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from carnet.accounts.errors import (
    AccountDeletionBlocked,
    StaffAccountDeletionRefused,
)
from carnet.accounts.models import (
    ApiToken,
    NotificationPreferences,
    Patient,
    StaffMembership,
    User,
)
from carnet.accounts.selectors import (
    get_notification_preferences,
    list_patients_for_user,
    patient_audit_ref,
)
from carnet.accounts.services import (
    account_actor_label,
    erase_and_forget,
    list_account_appointments,
    list_upcoming_account_appointments,
    record_erasure,
)
from carnet.audit.models import Action, ActorKind, Purpose
from carnet.audit.selectors import list_events_for_patient
from carnet.audit.services import record_event
from carnet.vault.errors import KeyDestroyed

if TYPE_CHECKING:
    pass


EXPORT_FORMAT = "carnet-export"
EXPORT_VERSION = 1
ACCOUNT_DELETED_REASON = "account_deleted"


def _sealed(instance: Any, name: str) -> Any:
    """A sealed value in export form: ISO text for dates, None once erased."""
    try:
        value = getattr(instance, name)
    except KeyDestroyed:
        return None
    return value.isoformat() if isinstance(value, date) else value


def _iso(value: datetime | None, zone: Any = None) -> str | None:
    if value is None:
        return None
    return (value.astimezone(zone) if zone else value).isoformat()


def _export_answers(appointment: Any) -> list[dict[str, str]] | None:
    """The answers to the booking questions; None when erased with the patient's key."""
    from carnet.booking.answers import read_answers

    stored = _sealed(appointment, "answers")
    return None if stored is None else read_answers(stored)


def _export_appointment(appointment: Any) -> dict[str, Any]:
    agenda = appointment.agenda
    zone = agenda.zone
    location = agenda.location
    return {
        "id": appointment.pk,
        "status": appointment.status,
        "starts_at": _iso(appointment.starts_at, zone),
        "ends_at": _iso(appointment.ends_at, zone),
        "time_zone": agenda.time_zone,
        "practitioner": agenda.practitioner.display_name,
        "practice": agenda.practice.name,
        "address": {
            "line": location.address,
            "postcode": location.postcode,
            "city": location.city,
            "country": location.country,
        },
        "motive": appointment.motive.name,
        "channel": appointment.motive.channel,
        "reason": _sealed(appointment, "reason"),
        "answers": _export_answers(appointment),
        "booked_at": _iso(appointment.created_at),
        "booked_by": appointment.booked_by_kind,
        "cancelled_at": _iso(appointment.cancelled_at),
        "cancelled_by": appointment.cancelled_by_kind or None,
        "cancellation_reason": appointment.cancellation_reason or None,
    }


def _export_access_log(patient: Patient) -> list[dict[str, Any]]:
    return [
        {
            "at": _iso(event.occurred_at),
            "actor": event.actor_label,
            "actor_kind": event.actor_kind,
            "action": event.action,
            "purpose": event.purpose,
            "flagged": event.flagged,
        }
        for event in list_events_for_patient(
            patient_ref=patient_audit_ref(patient.pk)
        ).iterator()
    ]


def _export_patient(patient: Patient, appointments: list[Any]) -> dict[str, Any]:
    return {
        "id": patient.pk,
        "relationship": patient.relationship,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "birth_date": _sealed(patient, "birth_date"),
        "phone": _sealed(patient, "phone"),
        "email": _sealed(patient, "email"),
        "address": _sealed(patient, "address"),
        "national_health_id": _sealed(patient, "national_health_id"),
        "appointments": [_export_appointment(a) for a in appointments],
        "access_log": _export_access_log(patient),
    }


@transaction.atomic
def export_patient_data(*, user: User) -> dict[str, Any]:
    """Everything Carnet holds about the user and their relatives, ready for JSON.

    Account, notification preferences, and per patient (own profile first):
    identity and sealed contact data in clear, appointments with their
    reasons (times in the agenda's zone), and the access log. This reads
    health data, so one EXPORT event per patient is appended to the audit
    trail first, in the same transaction: the export lists it too.
    Erased values come out as null.
    """
    now = timezone.now()
    patients = sorted(
        list_patients_for_user(user=user), key=lambda p: (p.account_id is None, p.pk)
    )
    label = account_actor_label(user)
    for patient in patients:
        record_event(
            actor_id=user.pk,
            actor_kind=ActorKind.PATIENT,
            actor_label=label,
            action=Action.EXPORT,
            resource="export",
            patient_ref=patient_audit_ref(patient.pk),
            purpose=Purpose.PATIENT_REQUEST,
        )
    by_patient: dict[int, list[Any]] = {p.pk: [] for p in patients}
    appointments = list_account_appointments(user=user).select_related(
        "agenda__practitioner", "agenda__practice", "agenda__location"
    )
    for appointment in appointments.order_by("starts_at", "pk"):
        by_patient.setdefault(appointment.patient_id, []).append(appointment)
    preferences = get_notification_preferences(user=user)
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": _iso(now),
        "account": {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "language": user.language,
            "date_joined": _iso(user.date_joined),
        },
        "notification_preferences": {
            "email_reminders": preferences.email_reminders,
            "sms_reminders": preferences.sms_reminders,
            "reminder_offsets_hours": list(preferences.reminder_offsets),
        },
        "patients": [_export_patient(p, by_patient[p.pk]) for p in patients],
    }


@dataclass(frozen=True, slots=True)
class AccountDeletion:
    """What deleting an account did."""

    cancelled_appointment_ids: list[int]
    erased_patient_ids: list[int]


def _close_login(*, user: User, now: datetime) -> None:
    """Make the account unusable and forget its login data; ends every session.

    The row stays (appointments and the audit trail refer to it by id) with
    no name, a placeholder e-mail (so the address can sign up again), no
    usable password, no second factor, no API token.
    """
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.usersessions.models import UserSession

    for session in UserSession.objects.filter(user=user):
        session.end()
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    NotificationPreferences.objects.filter(user=user).delete()
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    user.is_active = False
    user.set_unusable_password()
    user.first_name = user.last_name = ""
    user.email = f"deleted-{user.pk}@deleted.invalid"
    user.save(
        update_fields=["is_active", "password", "first_name", "last_name", "email"]
    )


@transaction.atomic
def delete_account(*, user: User) -> AccountDeletion:
    """Close the user's account: cancel what is to come, crypto-shred every patient, log out.

    All or nothing, in one transaction. Refused, with nothing changed:
    StaffAccountDeletionRefused when the account works for a practice (or
    administers the platform); AccountDeletionBlocked (listing them) when an
    upcoming appointment is already inside its motive's cancellation
    cut-off, because cancelling it now is what the practice forbids online.
    Otherwise every upcoming appointment of the user and their relatives is
    cancelled as the patient would, each patient's data key is destroyed
    (their sealed data is unreadable everywhere), patients without any
    appointment are deleted, the others keep only their names for the
    practices' agendas, one ERASE event per patient is appended to the audit
    trail and the login is closed (see _close_login). Checking the password
    is the caller's job. Locks the user row FOR UPDATE.
    """
    from carnet.booking.errors import CancellationTooLate
    from carnet.booking.models import Appointment
    from carnet.booking.services import cancel_appointment

    User.objects.select_for_update().filter(pk=user.pk).first()
    if (
        user.is_superuser
        or user.is_staff
        or StaffMembership.objects.filter(user=user, is_active=True).exists()
    ):
        raise StaffAccountDeletionRefused()
    now = timezone.now()
    upcoming = list(list_upcoming_account_appointments(user=user, now=now))
    too_late = [a for a in upcoming if now > a.starts_at - a.motive.cancellation_cutoff]
    if too_late:
        raise AccountDeletionBlocked(appointments=too_late)
    for appointment in upcoming:
        try:
            cancel_appointment(
                user=user,
                appointment_id=appointment.pk,
                actor=Appointment.Actor.PATIENT,
                reason=ACCOUNT_DELETED_REASON,
            )
        except CancellationTooLate as exc:  # its cut-off passed a moment ago
            raise AccountDeletionBlocked(appointments=[appointment]) from exc
    # Relatives before the holder: deleting the holder's row cascades to theirs.
    patients = sorted(
        list_patients_for_user(user=user),
        key=lambda p: (p.account_id is not None, p.pk),
    )
    for patient in patients:
        record_erasure(user=user, patient=patient, resource="account")
    for patient in patients:
        erase_and_forget(patient=patient)
    _close_login(user=user, now=now)
    return AccountDeletion(
        cancelled_appointment_ids=[a.pk for a in upcoming],
        erased_patient_ids=[p.pk for p in patients],
    )
