"""Writes on accounts: users, patient profiles, relatives, API tokens, preferences.

Account export and deletion also use the booking context's selectors and
services. Booking depends on accounts (its models and selectors import
ours), so those imports are made inside the functions that need them: at
module level they would be circular.
"""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from carnet.accounts.errors import (
    AccountDeletionBlocked,
    AlreadyMember,
    BirthDateInvalid,
    InvitationAlreadyUsed,
    InvitationEmailInvalid,
    InvitationEmailMismatch,
    InvitationExpired,
    InvitationNotFound,
    InvitationPending,
    InvitationRevoked,
    LastPracticeAdmin,
    MembershipNotFound,
    PatientNameInvalid,
    PatientProfileExists,
    RelationshipInvalid,
    RelativeHasUpcomingAppointments,
    ReminderOffsetInvalid,
    RoleInvalid,
    SmsNeedsPhone,
    StaffAccountDeletionRefused,
)
from carnet.accounts.models import (
    ApiToken,
    Invitation,
    NotificationPreferences,
    Patient,
    ReminderOffset,
    StaffMembership,
    User,
)
from carnet.accounts.roles import Permission, require_permission
from carnet.accounts.selectors import (
    TOKEN_PREFIX,
    get_notification_preferences,
    get_own_patient,
    get_relative_for_user,
    hash_token,
    list_patients_for_user,
    patient_audit_ref,
)
from carnet.audit.models import Action, ActorKind, AuditEvent, Purpose
from carnet.audit.selectors import list_events_for_patient
from carnet.audit.services import record_event
from carnet.vault.blind_index import normalise
from carnet.vault.errors import KeyDestroyed
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
        phone_index="", email_index="", nhi_index=""
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
    for name, value in contact.items():
        setattr(patient, name, value)
    patient.save(
        update_fields=[
            "first_name",
            "last_name",
            "birth_date",
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
    relative.save(
        update_fields=[
            "first_name",
            "last_name",
            "relationship",
            "birth_date",
            "updated_at",
        ]
    )
    return relative


def _appointments(*, user: User) -> "QuerySet[Appointment]":
    """The appointments of the user and their relatives (booking's selector)."""
    from carnet.booking.selectors import list_appointments_for_user

    return list_appointments_for_user(user=user)


def _upcoming_appointments(*, user: User, now: datetime) -> "QuerySet[Appointment]":
    """Booked appointments of the user and their relatives that are not over, soonest first."""
    from carnet.booking.models import Appointment

    return (
        _appointments(user=user)
        .filter(status=Appointment.Status.BOOKED, ends_at__gt=now)
        .order_by("starts_at", "pk")
    )


def _actor_label(user: AbstractBaseUser) -> str:
    """How the account holder appears in their own access log."""
    max_length = AuditEvent._meta.get_field("actor_label").max_length or 100
    return (user.get_full_name() or f"#{user.pk}")[:max_length]


def _record_erasure(*, user: User, patient: Patient, resource: str) -> None:
    record_event(
        actor_id=user.pk,
        actor_kind=ActorKind.PATIENT,
        actor_label=_actor_label(user),
        action=Action.ERASE,
        resource=resource,
        patient_ref=patient_audit_ref(patient.pk),
        purpose=Purpose.PATIENT_REQUEST,
    )


def _erase_and_forget(*, patient: Patient) -> None:
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
    upcoming = _upcoming_appointments(user=user, now=timezone.now())
    if upcoming.filter(patient=relative).exists():
        raise RelativeHasUpcomingAppointments(name=relative.first_name)
    _record_erasure(user=user, patient=relative, resource="relative")
    _erase_and_forget(patient=relative)


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

    Raises ReminderOffsetInvalid for a time not among ReminderOffset, or
    none while a channel is on, and SmsNeedsPhone for SMS without a phone
    number on the user's own profile; nothing changes then.
    """
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
    return preferences


# -- team: invitations, roles, removal ---------------------------------------------

INVITATION_TTL = timedelta(days=7)
INVITATION_TOKEN_PREFIX = "inv_"  # noqa: S105 - a public prefix, not a secret


def _record_team_event(*, actor: AbstractBaseUser, action: str, resource: str) -> None:
    """Trace a change of who may access the practice's data (no patient concerned)."""
    record_event(
        actor_id=actor.pk,
        actor_kind=ActorKind.STAFF,
        actor_label=_actor_label(actor),
        action=action,
        resource=resource,
        purpose=Purpose.ADMINISTRATION,
    )


def _check_role(role: str) -> str:
    if role not in StaffMembership.Role.values:
        raise RoleInvalid()
    return role


def _clean_invited_email(email: str) -> str:
    """The address, stripped and lower-cased; raises InvitationEmailInvalid."""
    cleaned = email.strip().lower()
    max_length = Invitation._meta.get_field("email").max_length or 254
    try:
        validate_email(cleaned)
    except ValidationError as exc:
        raise InvitationEmailInvalid() from exc
    if len(cleaned) > max_length:
        raise InvitationEmailInvalid()
    return cleaned


@transaction.atomic
def invite_member(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    email: str,
    role: str,
    request: HttpRequest | None = None,
) -> tuple[Invitation, str]:
    """Invite `email` to the practice's team as `role`; returns the row and the raw token.

    For those who may manage the team (practice and platform administrators;
    see require_permission). The raw token is returned once, for the e-mail
    the caller sends; only its digest is stored. The invitation expires after
    INVITATION_TTL. Any earlier open invitation for the same address and role
    is withdrawn. Raises InvitationEmailInvalid, RoleInvalid, AlreadyMember
    (that person already holds the role) or InvitationPending (a concurrent
    invitation won); nothing is stored then. Traced in the audit trail.
    """
    require_permission(
        user=actor,
        practice_id=practice_id,
        permission=Permission.MANAGE_TEAM,
        request=request,
    )
    email = _clean_invited_email(email)
    role = _check_role(role)
    if StaffMembership.objects.filter(
        practice_id=practice_id, role=role, is_active=True, user__email__iexact=email
    ).exists():
        raise AlreadyMember()
    now = timezone.now()
    Invitation.objects.filter(
        practice_id=practice_id,
        email=email,
        role=role,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    ).update(revoked_at=now, updated_at=now)
    raw = INVITATION_TOKEN_PREFIX + secrets.token_urlsafe(32)
    invitation = Invitation(
        practice_id=practice_id,
        email=email,
        role=role,
        token_digest=hash_token(raw),
        invited_by_id=actor.pk,
        expires_at=now + INVITATION_TTL,
    )
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError as exc:  # INVITATION_OPEN_CONSTRAINT: a concurrent invitation
        raise InvitationPending() from exc
    _record_team_event(
        actor=actor,
        action=Action.CREATE,
        resource=f"practice:{practice_id}:invitation:{invitation.pk}:{role}",
    )
    return invitation, raw


def _has_verified_email(user: AbstractBaseUser, email: str) -> bool:
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(
        user_id=user.pk, email__iexact=email, verified=True
    ).exists()


@transaction.atomic
def accept_invitation(*, user: User, raw_token: str) -> StaffMembership:
    """Join the team the invitation names, in its role; returns the active membership.

    The invited address must be one of `user`'s verified e-mail addresses.
    Raises InvitationNotFound (unknown token), InvitationRevoked,
    InvitationAlreadyUsed (a link works once), InvitationExpired or
    InvitationEmailMismatch; nothing changes then. A membership the person
    held before and lost is reactivated. Locks the invitation FOR UPDATE, so
    two concurrent acceptances make one membership. No second factor is asked
    here: the staff pages demand one before any patient data (StaffMfaMiddleware).
    """
    invitation = (
        Invitation.objects.select_for_update()
        .filter(token_digest=hash_token(raw_token.strip()))
        .first()
    )
    if invitation is None or not user.is_active:
        raise InvitationNotFound()
    now = timezone.now()
    status = invitation.status(now)
    if status == Invitation.Status.REVOKED:
        raise InvitationRevoked()
    if status == Invitation.Status.ACCEPTED:
        raise InvitationAlreadyUsed()
    if status == Invitation.Status.EXPIRED:
        raise InvitationExpired()
    if not _has_verified_email(user, invitation.email):
        raise InvitationEmailMismatch()
    membership = (
        StaffMembership.objects.select_for_update()
        .filter(user=user, practice_id=invitation.practice_id, role=invitation.role)
        .first()
    )
    if membership is None:
        membership = StaffMembership.objects.create(
            user=user, practice_id=invitation.practice_id, role=invitation.role
        )
    elif not membership.is_active:
        membership.is_active = True
        membership.save(update_fields=["is_active", "updated_at"])
    invitation.accepted_at = now
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    _record_team_event(
        actor=user,
        action=Action.CREATE,
        resource=(
            f"practice:{invitation.practice_id}:team:{membership.pk}:{membership.role}"
        ),
    )
    user.__dict__.pop("_carnet_is_staff", None)
    return membership


@transaction.atomic
def revoke_invitation(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    invitation_id: int,
    request: HttpRequest | None = None,
) -> Invitation:
    """Withdraw an invitation of the practice, so its link no longer works.

    Same gate as invite_member. Revoking twice keeps the first instant.
    Raises InvitationNotFound (also for another practice's) or
    InvitationAlreadyUsed once it was accepted (remove the member instead).
    """
    require_permission(
        user=actor,
        practice_id=practice_id,
        permission=Permission.MANAGE_TEAM,
        request=request,
    )
    invitation = (
        Invitation.objects.select_for_update()
        .filter(pk=invitation_id, practice_id=practice_id)
        .first()
    )
    if invitation is None:
        raise InvitationNotFound()
    if invitation.accepted_at is not None:
        raise InvitationAlreadyUsed()
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
        _record_team_event(
            actor=actor,
            action=Action.CANCEL,
            resource=f"practice:{practice_id}:invitation:{invitation.pk}:{invitation.role}",
        )
    return invitation


def _lock_membership(
    *, practice_id: int, membership_id: int
) -> tuple[StaffMembership, list[int]]:
    """An active membership of the practice and the ids of its active administrators.

    Locks FOR UPDATE every active administrator membership of the practice
    (in id order) first, then the one named: every team change takes its
    locks in this order, so concurrent changes queue instead of
    deadlocking, and the administrators are counted after any concurrent
    change committed. Raises MembershipNotFound.
    """
    admin_ids = list(
        StaffMembership.objects.select_for_update()
        .filter(
            practice_id=practice_id,
            role=StaffMembership.Role.PRACTICE_ADMIN,
            is_active=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    membership = (
        StaffMembership.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(pk=membership_id, practice_id=practice_id, is_active=True)
        .first()
    )
    if membership is None:
        raise MembershipNotFound()
    return membership, admin_ids


def _ensure_another_admin(*, leaving: StaffMembership, admin_ids: list[int]) -> None:
    """Raise LastPracticeAdmin if `leaving` is the practice's only active administrator."""
    if leaving.role != StaffMembership.Role.PRACTICE_ADMIN:
        return
    if not [pk for pk in admin_ids if pk != leaving.pk]:
        raise LastPracticeAdmin()


@transaction.atomic
def change_role(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    membership_id: int,
    role: str,
    request: HttpRequest | None = None,
) -> StaffMembership:
    """Give a member another role at the practice; returns their membership in that role.

    For those who may manage the team. A person with several roles has one
    membership per role: this changes the one named. Raises
    MembershipNotFound (also for another practice's member), RoleInvalid,
    AlreadyMember (they hold that role already) or LastPracticeAdmin (the
    practice's only administrator cannot stop being one); nothing changes
    then. Traced in the audit trail.
    """
    require_permission(
        user=actor,
        practice_id=practice_id,
        permission=Permission.MANAGE_TEAM,
        request=request,
    )
    role = _check_role(role)
    membership, admin_ids = _lock_membership(
        practice_id=practice_id, membership_id=membership_id
    )
    if membership.role == role:
        return membership
    previous = (
        StaffMembership.objects.select_for_update()
        .filter(user_id=membership.user_id, practice_id=practice_id, role=role)
        .first()
    )
    if previous is not None and previous.is_active:
        raise AlreadyMember()
    _ensure_another_admin(leaving=membership, admin_ids=admin_ids)
    if previous is not None:
        # The role was held before: reactivate that row (one row per user,
        # practice and role) and retire this one.
        previous.is_active = True
        previous.save(update_fields=["is_active", "updated_at"])
        membership.is_active = False
        membership.save(update_fields=["is_active", "updated_at"])
        membership = previous
    else:
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
    _record_team_event(
        actor=actor,
        action=Action.UPDATE,
        resource=f"practice:{practice_id}:team:{membership.pk}:{role}",
    )
    return membership


@transaction.atomic
def remove_member(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    membership_id: int,
    request: HttpRequest | None = None,
) -> None:
    """Take one role away from a member (their membership is kept, inactive).

    For those who may manage the team; a person with several roles keeps the
    others. Raises MembershipNotFound (also for another practice's member or
    one already removed) or LastPracticeAdmin (the practice keeps at least
    one administrator); nothing changes then. Access ends at once: every gate
    reads active memberships. Traced in the audit trail.
    """
    require_permission(
        user=actor,
        practice_id=practice_id,
        permission=Permission.MANAGE_TEAM,
        request=request,
    )
    membership, admin_ids = _lock_membership(
        practice_id=practice_id, membership_id=membership_id
    )
    _ensure_another_admin(leaving=membership, admin_ids=admin_ids)
    membership.is_active = False
    membership.save(update_fields=["is_active", "updated_at"])
    _record_team_event(
        actor=actor,
        action=Action.CANCEL,
        resource=f"practice:{practice_id}:team:{membership.pk}:{membership.role}",
    )


# -- export and deletion -----------------------------------------------------------

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
    label = _actor_label(user)
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
    appointments = _appointments(user=user).select_related(
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
    upcoming = list(_upcoming_appointments(user=user, now=now))
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
        _record_erasure(user=user, patient=patient, resource="account")
    for patient in patients:
        _erase_and_forget(patient=patient)
    _close_login(user=user, now=now)
    return AccountDeletion(
        cancelled_appointment_ids=[a.pk for a in upcoming],
        erased_patient_ids=[p.pk for p in patients],
    )
