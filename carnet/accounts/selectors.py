"""Reads on accounts: token lookup, the patients a user may act for, preferences, teams."""

import hashlib

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from carnet.accounts.errors import NoPatientProfile, RelativeNotFound
from carnet.accounts.models import (
    ApiToken,
    Invitation,
    NotificationPreferences,
    Patient,
    StaffMembership,
    User,
)
from carnet.accounts.roles import Permission, require_permission
from carnet.vault.services import blind_index

TOKEN_PREFIX = "crt_"  # noqa: S105 - a public prefix, not a secret
INVITATION_TOKEN_MAX_LENGTH = 200


def hash_token(raw: str) -> str:
    """SHA-256 hex digest of a raw bearer token (tokens are high-entropy: no salt needed)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def get_user_for_token(*, raw: str) -> User | None:
    """The active user a raw bearer token belongs to, or None; stamps its last use."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def patient_audit_ref(patient_id: int) -> str:
    """The opaque reference the audit trail files a patient's events under."""
    return f"patient:{patient_id}"


def get_own_patient(*, user: User) -> Patient:
    """The user's own patient profile; raises NoPatientProfile."""
    patient = Patient.objects.filter(account=user).first()
    if patient is None:
        raise NoPatientProfile()
    return patient


def list_patients_for_user(*, user: User) -> QuerySet[Patient]:
    """The user's own profile and their relatives: everyone they may book for."""
    return Patient.objects.filter(Q(account=user) | Q(managed_by__account=user))


def get_patient_for_user(*, user: User, patient_id: int | None) -> Patient:
    """The user's profile (no id) or one of their relatives; RelativeNotFound otherwise."""
    if patient_id is None:
        return get_own_patient(user=user)
    patient = list_patients_for_user(user=user).filter(pk=patient_id).first()
    if patient is None:
        raise RelativeNotFound()
    return patient


def list_relatives(*, user: User) -> QuerySet[Patient]:
    """The relatives the user manages (not their own profile), by first name."""
    return Patient.objects.filter(managed_by__account=user).order_by(
        "first_name", "last_name", "pk"
    )


def get_relative_for_user(*, user: User, patient_id: int) -> Patient:
    """One of the relatives the user manages; RelativeNotFound otherwise (their own profile too)."""
    relative = list_relatives(user=user).filter(pk=patient_id).first()
    if relative is None:
        raise RelativeNotFound()
    return relative


def get_notification_preferences(*, user: User) -> NotificationPreferences:
    """The user's reminder preferences; the defaults (unsaved) when they never chose."""
    preferences = NotificationPreferences.objects.filter(user=user).first()
    return preferences or NotificationPreferences(user=user)


def find_patients_by_contact(
    *,
    phone: str = "",
    email: str = "",
    national_health_id: str = "",
    country: str | None = None,
) -> QuerySet[Patient]:
    """Patients whose phone, e-mail or national health identifier is exactly the one given.

    Compares keyed blind indexes: the database is never searched in clear.
    Raises BlindIndexValueInvalid for an unreadable phone number.
    """
    lookups = Q(pk__in=[])
    if phone:
        lookups |= Q(
            phone_index=blind_index(kind="phone", value=phone, country=country)
        )
    if email:
        lookups |= Q(email_index=blind_index(kind="email", value=email))
    if national_health_id:
        lookups |= Q(nhi_index=blind_index(kind="nhi", value=national_health_id))
    return Patient.objects.filter(lookups)


# -- teams --------------------------------------------------------------------------


def list_team(
    *, actor: AbstractBaseUser, practice_id: int, request: HttpRequest | None = None
) -> QuerySet[StaffMembership]:
    """The practice's active memberships (one row per person and role), by name.

    For those who may manage the team (practice administrators, platform
    administrators). Raises NotStaffOfPractice, NotAllowedForRole or
    MfaRequired (see carnet.accounts.roles.require_permission).
    """
    require_permission(
        user=actor,
        practice_id=practice_id,
        permission=Permission.MANAGE_TEAM,
        request=request,
    )
    return (
        StaffMembership.objects.filter(practice_id=practice_id, is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email", "role", "pk")
    )


def get_invitation_for_token(*, raw: str) -> Invitation | None:
    """The invitation a raw token names, with its practice; None for any other token.

    Compares the token's digest (only the digest is stored). Reads no patient
    data; the caller decides what an expired, withdrawn or used one shows.
    """
    raw = (raw or "").strip()
    if not raw or len(raw) > INVITATION_TOKEN_MAX_LENGTH:
        return None
    return (
        Invitation.objects.select_related("practice")
        .filter(token_digest=hash_token(raw))
        .first()
    )


def list_invitations(
    *, actor: AbstractBaseUser, practice_id: int, request: HttpRequest | None = None
) -> QuerySet[Invitation]:
    """The practice's invitations neither accepted nor withdrawn, newest first.

    Expired ones are included (Invitation.status tells them apart), so that
    the team page can offer to send them again. Same gate as list_team.
    """
    require_permission(
        user=actor,
        practice_id=practice_id,
        permission=Permission.MANAGE_TEAM,
        request=request,
    )
    return (
        Invitation.objects.filter(
            practice_id=practice_id, accepted_at__isnull=True, revoked_at__isnull=True
        )
        .select_related("invited_by")
        .order_by("-created_at", "-pk")
    )
