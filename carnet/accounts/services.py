"""Writes on accounts: users, patient profiles, relatives, API tokens, preferences.

Account export and deletion also use the booking context's selectors and
services. Booking depends on accounts (its models and selectors import
ours), so those imports are made inside the functions that need them: at
module level they would be circular.
"""

import secrets
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from carnet.accounts.errors import (
    BirthDateInvalid,
    PatientNameInvalid,
    PatientProfileExists,
    RelationshipInvalid,
    RelativeHasUpcomingAppointments,
    ReminderOffsetInvalid,
    SmsNeedsPhone,
)
from carnet.accounts.models import (
    ApiToken,
    NotificationPreferences,
    Patient,
    ReminderOffset,
    User,
)
from carnet.accounts.selectors import (
    TOKEN_PREFIX,
    get_own_patient,
    get_relative_for_user,
    hash_token,
    patient_audit_ref,
)
from carnet.accounts.staff_patients import birth_date_index
from carnet.audit.models import Action, ActorKind, AuditEvent, Purpose
from carnet.audit.services import record_event
from carnet.vault.blind_index import normalise
from carnet.vault.services import blind_index, destroy_subject

if TYPE_CHECKING:
    from carnet.booking.models import Appointment


@transaction.atomic
def mint_api_token(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the raw token, shown once only."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:12], digest=hash_token(raw)
    )
    return token, raw


def revoke_api_token(*, token: ApiToken) -> None:
    """Revoke `token`; revoking twice keeps the first revocation instant."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def _blind_indexes(
    *, phone: str, email: str, national_health_id: str, country: str | None
) -> dict[str, str]:
    """Keyed blind indexes of the contact fields; raises BlindIndexValueInvalid on a bad phone."""
    return {
        "phone_index": blind_index(kind="phone", value=phone, country=country)
        if phone
        else "",
        "email_index": blind_index(kind="email", value=email) if email else "",
        "nhi_index": blind_index(kind="nhi", value=national_health_id)
        if national_health_id
        else "",
    }


@transaction.atomic
def create_patient_account(
    *,
    email: str,
    password: str | None,
    first_name: str,
    last_name: str,
    language: str = User.Language.FR,
    birth_date: date | None = None,
    phone: str = "",
    address: str = "",
    national_health_id: str = "",
    country: str | None = None,
    contact_email: str | None = None,
) -> User:
    """Create a user with their own patient profile.

    Date of birth, phone, address and national health identifier are sealed
    under the new patient's own data key; phone, e-mail and identifier get
    keyed blind indexes for exact-match lookups. The login e-mail stays in
    clear on the user (it is how one logs in); `contact_email`, when given,
    is the sealed contact address (by default the login one). The phone is
    stored in E.164 form. Raises BlindIndexValueInvalid for a phone number
    that cannot be read (nothing is created).
    """
    contact_email = email if contact_email is None else contact_email
    phone = normalise(kind="phone", value=phone, country=country) if phone else ""
    indexes = _blind_indexes(
        phone=phone,
        email=contact_email,
        national_health_id=national_health_id,
        country=country,
    )
    user = User.objects.create_user(
        email, password, first_name=first_name, last_name=last_name, language=language
    )
    Patient.objects.create(
        account=user,
        first_name=first_name,
        last_name=last_name,
        birth_date=birth_date,
        phone=phone,
        email=contact_email,
        address=address,
        national_health_id=national_health_id,
        birth_date_index=birth_date_index(birth_date),
        **indexes,
    )
    return user


@transaction.atomic
def erase_patient_data(*, patient: Patient) -> None:
    """Crypto-shred a patient: destroy their data key, so every sealed value is gone.

    Every copy of their sealed data (reasons, date of birth, contact details;
    in backups too, once the key-encryption key that wrapped the key is
    retired) becomes unreadable. Blind indexes are cleared. Irreversible.
    """
    destroy_subject(subject=patient.vault_subject())
    Patient.objects.filter(pk=patient.pk).update(
        phone_index="", email_index="", nhi_index="", birth_date_index=""
    )


# -- the patient's own profile and relatives -------------------------------------

NAME_MAX_LENGTH = 150
EARLIEST_BIRTH_DATE = date(1900, 1, 1)


def _clean_names(first_name: str, last_name: str) -> tuple[str, str]:
    """Stripped names; raises PatientNameInvalid when one is empty or too long."""
    first, last = first_name.strip(), last_name.strip()
    if not first or not last or max(len(first), len(last)) > NAME_MAX_LENGTH:
        raise PatientNameInvalid()
    return first, last


def _check_birth_date(birth_date: date | None) -> None:
    """Raise BirthDateInvalid for a date in the future (anywhere on Earth) or before 1900."""
    if birth_date is None:
        return
    latest = (timezone.now() + timedelta(days=1)).date()
    if not EARLIEST_BIRTH_DATE <= birth_date <= latest:
        raise BirthDateInvalid()


def _contact_fields(*, phone: str, email: str, country: str | None) -> dict[str, str]:
    """Phone (E.164) and e-mail as stored, with their blind indexes.

    Raises BlindIndexValueInvalid for a phone number that cannot be read
    (a national number needs `country`: "FR", "DE" or "IT").
    """
    phone, email = phone.strip(), email.strip()
    if phone:
        phone = normalise(kind="phone", value=phone, country=country)
    return {
        "phone": phone,
        "email": email,
        "phone_index": blind_index(kind="phone", value=phone) if phone else "",
        "email_index": blind_index(kind="email", value=email) if email else "",
    }


def _sync_user_names(*, user: User, first_name: str, last_name: str) -> None:
    """The account's names follow its own patient profile's (audit labels, e-mails)."""
    User.objects.filter(pk=user.pk).update(first_name=first_name, last_name=last_name)
    user.first_name, user.last_name = first_name, last_name


@transaction.atomic
def create_own_patient(
    *,
    user: User,
    first_name: str,
    last_name: str,
    birth_date: date | None,
    phone: str = "",
    country: str | None = None,
    email: str | None = None,
) -> Patient:
    """Create the account holder's own patient profile; raises PatientProfileExists.

    Date of birth, phone and contact e-mail are sealed under the new
    patient's data key; phone and e-mail get blind indexes. The phone is
    stored in E.164 form (a national number needs `country`); the contact
    e-mail defaults to the login one. Raises PatientNameInvalid,
    BirthDateInvalid or BlindIndexValueInvalid for bad input: nothing is
    created then.
    """
    first, last = _clean_names(first_name, last_name)
    _check_birth_date(birth_date)
    contact = _contact_fields(
        phone=phone, email=user.email if email is None else email, country=country
    )
    if Patient.objects.filter(account=user).exists():
        raise PatientProfileExists()
    patient = Patient(
        account=user,
        relationship=Patient.Relationship.SELF,
        first_name=first,
        last_name=last,
        birth_date=birth_date,
        birth_date_index=birth_date_index(birth_date),
        **contact,
    )
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as exc:  # a concurrent request created it first
        if Patient.objects.filter(account=user).exists():
            raise PatientProfileExists() from exc
        raise
    _sync_user_names(user=user, first_name=first, last_name=last)
    return patient


@transaction.atomic
def update_own_patient(
    *,
    user: User,
    first_name: str,
    last_name: str,
    birth_date: date | None,
    phone: str = "",
    country: str | None = None,
    email: str = "",
) -> Patient:
    """Replace the names, date of birth, phone and contact e-mail of the user's own profile.

    Same rules as create_own_patient; raises NoPatientProfile when there is
    none. Locks the profile row FOR UPDATE; nothing changes on bad input.
    """
    first, last = _clean_names(first_name, last_name)
    _check_birth_date(birth_date)
    contact = _contact_fields(phone=phone, email=email, country=country)
    get_own_patient(user=user)
    patient = Patient.objects.select_for_update().get(account=user)
    patient.first_name, patient.last_name = first, last
    patient.birth_date = birth_date
    patient.birth_date_index = birth_date_index(birth_date)
    for name, value in contact.items():
        setattr(patient, name, value)
    patient.save(
        update_fields=[
            "first_name",
            "last_name",
            "birth_date",
            "birth_date_index",
            *contact,
            "updated_at",
        ]
    )
    _sync_user_names(user=user, first_name=first, last_name=last)
    return patient


def _check_relationship(relationship: str) -> None:
    if (
        relationship not in Patient.Relationship.values
        or relationship == Patient.Relationship.SELF
    ):
        raise RelationshipInvalid()


@transaction.atomic
def add_relative(
    *,
    holder: Patient,
    first_name: str,
    last_name: str,
    relationship: str,
    birth_date: date | None = None,
) -> Patient:
    """Add a relative that `holder` may book for.

    Raises PatientNameInvalid, RelationshipInvalid (SELF is not a relative)
    or BirthDateInvalid; nothing is created then. The date of birth is
    sealed under the relative's own data key.
    """
    first, last = _clean_names(first_name, last_name)
    _check_relationship(relationship)
    _check_birth_date(birth_date)
    return Patient.objects.create(
        managed_by=holder,
        relationship=relationship,
        first_name=first,
        last_name=last,
        birth_date=birth_date,
        birth_date_index=birth_date_index(birth_date),
    )


def _lock_relative(*, user: User, patient_id: int) -> Patient:
    """One of the user's relatives, locked FOR UPDATE; raises RelativeNotFound."""
    relative = get_relative_for_user(user=user, patient_id=patient_id)
    return Patient.objects.select_for_update().get(pk=relative.pk)


@transaction.atomic
def update_relative(
    *,
    user: User,
    patient_id: int,
    first_name: str,
    last_name: str,
    relationship: str,
    birth_date: date | None,
) -> Patient:
    """Replace a relative's names, relationship and date of birth.

    Raises RelativeNotFound (also for the user's own profile or someone
    else's relative), PatientNameInvalid, RelationshipInvalid or
    BirthDateInvalid; nothing changes then.
    """
    first, last = _clean_names(first_name, last_name)
    _check_relationship(relationship)
    _check_birth_date(birth_date)
    relative = _lock_relative(user=user, patient_id=patient_id)
    relative.first_name, relative.last_name = first, last
    relative.relationship = relationship
    relative.birth_date = birth_date
    relative.birth_date_index = birth_date_index(birth_date)
    relative.save(
        update_fields=[
            "first_name",
            "last_name",
            "relationship",
            "birth_date",
            "birth_date_index",
            "updated_at",
        ]
    )
    return relative


def list_account_appointments(*, user: User) -> "QuerySet[Appointment]":
    """The appointments of the user and their relatives (booking's selector)."""
    from carnet.booking.selectors import list_appointments_for_user

    return list_appointments_for_user(user=user)


def list_upcoming_account_appointments(
    *, user: User, now: datetime
) -> "QuerySet[Appointment]":
    """Booked appointments of the user and their relatives that are not over, soonest first."""
    from carnet.booking.models import Appointment

    return (
        list_account_appointments(user=user)
        .filter(status=Appointment.Status.BOOKED, ends_at__gt=now)
        .order_by("starts_at", "pk")
    )


def account_actor_label(user: AbstractBaseUser) -> str:
    """How the account holder appears in their own access log."""
    max_length = AuditEvent._meta.get_field("actor_label").max_length or 100
    return (user.get_full_name() or f"#{user.pk}")[:max_length]


def record_erasure(*, user: User, patient: Patient, resource: str) -> None:
    """Trace, in the patient's access log, that the account holder erased `resource`."""
    record_event(
        actor_id=user.pk,
        actor_kind=ActorKind.PATIENT,
        actor_label=account_actor_label(user),
        action=Action.ERASE,
        resource=resource,
        patient_ref=patient_audit_ref(patient.pk),
        purpose=Purpose.PATIENT_REQUEST,
    )


def erase_and_forget(*, patient: Patient) -> None:
    """Crypto-shred a patient, then delete their row if no appointment refers to it.

    A patient with past visits keeps a row (first and last name only, in
    clear) so that the practices' agendas still say who came; it is
    detached from any account. Everything sealed is unreadable either way.
    """
    erase_patient_data(patient=patient)
    if patient.appointments.exists():
        Patient.objects.filter(pk=patient.pk).update(account=None, managed_by=None)
    else:
        Patient.objects.filter(pk=patient.pk).delete()


@transaction.atomic
def remove_relative(*, user: User, patient_id: int) -> None:
    """Remove a relative from the user's account and erase what Carnet holds about them.

    Refused (RelativeHasUpcomingAppointments, nothing changed) while they
    have an appointment still to come. Their sealed data (date of birth,
    reasons of past visits) is crypto-shredded; an ERASE event is appended
    to the audit trail. Raises RelativeNotFound for anyone else.
    """
    relative = _lock_relative(user=user, patient_id=patient_id)
    upcoming = list_upcoming_account_appointments(user=user, now=timezone.now())
    if upcoming.filter(patient=relative).exists():
        raise RelativeHasUpcomingAppointments(name=relative.first_name)
    record_erasure(user=user, patient=relative, resource="relative")
    erase_and_forget(patient=relative)


# -- notification preferences ------------------------------------------------------


@transaction.atomic
def update_notification_preferences(
    *,
    user: User,
    email_reminders: bool,
    sms_reminders: bool,
    reminder_offsets: Iterable[int],
) -> NotificationPreferences:
    """Store how the user wants to be reminded (channels and times before the visit).

    Re-plans the reminders of the user's (and relatives') upcoming
    appointments in the same transaction. Raises ReminderOffsetInvalid for a
    time not among ReminderOffset, or none while a channel is on, and
    SmsNeedsPhone for SMS without a phone number on the user's own profile;
    nothing changes then.
    """
    # Imported here: the outbox imports booking, which imports accounts.
    from carnet.notifications import outbox

    offsets = sorted({int(o) for o in reminder_offsets}, reverse=True)
    if any(o not in ReminderOffset.values for o in offsets):
        raise ReminderOffsetInvalid()
    if (email_reminders or sms_reminders) and not offsets:
        raise ReminderOffsetInvalid()
    if sms_reminders:
        own = Patient.objects.filter(account=user).first()
        if own is None or not own.phone:
            raise SmsNeedsPhone()
    preferences, _created = NotificationPreferences.objects.update_or_create(
        user=user,
        defaults={
            "email_reminders": email_reminders,
            "sms_reminders": sms_reminders,
            "reminder_offsets": offsets,
        },
    )
    outbox.replan_for_user(user_id=user.pk, now=timezone.now())
    return preferences
