"""Who may act as staff, what each role may do, and the multi-factor rule.

`can(user, permission, practice_id)` is the single answer to "may this
user do this at this practice?"; `require_permission` is the gate services
call (membership, then role, then second factor). The matrix is
ROLE_PERMISSIONS; a user holding several roles at one practice gets the
union of their permissions.
"""

from collections.abc import Mapping

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.http import HttpRequest
from django.utils.translation import pgettext_lazy

from carnet.accounts.errors import MfaRequired, NotAllowedForRole, NotStaffOfPractice
from carnet.accounts.models import StaffMembership
from carnet.directory.models import Practice

MFA_TYPES = ["totp", "webauthn"]


class Permission(models.TextChoices):
    """What a member of a practice's team may do there."""

    VIEW_AGENDA = "view_agenda", pgettext_lazy("permission", "see the agenda")
    MANAGE_APPOINTMENTS = (
        "manage_appointments",
        pgettext_lazy("permission", "book, move and cancel appointments"),
    )
    VIEW_CONTACT_DETAILS = (
        "view_contact_details",
        pgettext_lazy("permission", "see patients' identity and contact details"),
    )
    VIEW_CLINICAL_NOTES = (
        "view_clinical_notes",
        pgettext_lazy("permission", "read clinical notes"),
    )
    WRITE_CLINICAL_NOTES = (
        "write_clinical_notes",
        pgettext_lazy("permission", "write clinical notes"),
    )
    MANAGE_SETTINGS = (
        "manage_settings",
        pgettext_lazy("permission", "change opening hours, motives and settings"),
    )
    MANAGE_ABSENCES = (
        "manage_absences",
        pgettext_lazy("permission", "record absences and holidays"),
    )
    MANAGE_TEAM = "manage_team", pgettext_lazy("permission", "manage the team")
    VIEW_WAITING_LIST = (
        "view_waiting_list",
        pgettext_lazy("permission", "see the waiting list"),
    )
    MANAGE_NO_SHOW_POLICY = (
        "manage_no_show_policy",
        pgettext_lazy("permission", "set the no-show policy and accept excuses"),
    )


_ALL = frozenset(Permission)
CLINICAL_PERMISSIONS: frozenset[Permission] = frozenset(
    {Permission.VIEW_CLINICAL_NOTES, Permission.WRITE_CLINICAL_NOTES}
)

ROLE_PERMISSIONS: Mapping[str, frozenset[Permission]] = {
    # Everything about their own work, but the team is the administrator's.
    StaffMembership.Role.PRACTITIONER: _ALL - {Permission.MANAGE_TEAM},
    # Front desk: agenda, contact data and absences, never clinical content
    # nor the practice's settings.
    StaffMembership.Role.SECRETARY: frozenset(
        {
            Permission.VIEW_AGENDA,
            Permission.MANAGE_APPOINTMENTS,
            Permission.VIEW_CONTACT_DETAILS,
            Permission.VIEW_WAITING_LIST,
            Permission.MANAGE_ABSENCES,
        }
    ),
    # Runs the practice; reads clinical notes only if also a practitioner.
    StaffMembership.Role.PRACTICE_ADMIN: _ALL - CLINICAL_PERMISSIONS,
}

# Platform administrators (superusers) support every practice without a
# membership, and can invite a practice's first administrator; clinical
# content stays closed to them unless they also hold a practitioner role there.
PLATFORM_ADMIN_PERMISSIONS: frozenset[Permission] = _ALL - CLINICAL_PERMISSIONS


def permissions_for(
    *, user: AbstractBaseUser | AnonymousUser, practice_id: int
) -> frozenset[Permission]:
    """Everything `user` may do at the practice: the union over their active roles there.

    Empty for an anonymous or inactive user and for a practice they are not
    part of (or that does not exist). One query (two for a superuser).
    """
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    roles = StaffMembership.objects.filter(
        user_id=user.pk, practice_id=practice_id, is_active=True
    ).values_list("role", flat=True)
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    if user.is_superuser and _practice_exists(practice_id):
        granted |= PLATFORM_ADMIN_PERMISSIONS
    return frozenset(granted)


def _practice_exists(practice_id: int) -> bool:
    return Practice.objects.filter(pk=practice_id).exists()


def can(
    user: AbstractBaseUser | AnonymousUser, permission: str, practice_id: int
) -> bool:
    """Whether `user` may do `permission` (a Permission value) at the practice.

    Says nothing about the second factor: gates also call require_mfa (see
    require_permission). Raises ValueError for an unknown permission.
    """
    return Permission(permission) in permissions_for(user=user, practice_id=practice_id)


def is_staff_user(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether `user` is a platform admin or holds an active practice role."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    # Asked by two middlewares per request: remembered on the user object.
    cached = getattr(user, "_carnet_is_staff", None)
    if cached is None:
        cached = StaffMembership.objects.filter(
            user_id=user.pk, is_active=True
        ).exists()
        user._carnet_is_staff = cached  # type: ignore[union-attr]
    return cached


def has_mfa(user: AbstractBaseUser) -> bool:
    """Whether `user` has a second factor (TOTP or passkey) set up."""
    from allauth.mfa.utils import is_mfa_enabled

    return is_mfa_enabled(user, types=MFA_TYPES)


def session_passed_mfa(request: HttpRequest) -> bool:
    """Whether this session's login included a second factor."""
    from allauth.account.authentication import get_authentication_records

    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


def require_mfa(*, user: AbstractBaseUser, request: HttpRequest | None = None) -> None:
    """Raise MfaRequired unless a staff user has MFA (and, for a session, used it).

    Called by every gate to patient data for staff, whatever the interface.
    A bearer token carries no session: the account must have MFA set up.
    """
    if not has_mfa(user):
        raise MfaRequired()
    if (
        request is not None
        and hasattr(request, "session")
        and request.user.is_authenticated
        and not session_passed_mfa(request)
    ):
        raise MfaRequired()


def get_membership(
    *, user: AbstractBaseUser, practice_id: int, roles: list[str] | None = None
) -> StaffMembership:
    """The user's active membership at a practice, optionally limited to `roles`.

    Raises NotStaffOfPractice (the same answer for a practice that does not exist).
    """
    memberships = StaffMembership.objects.filter(
        user_id=user.pk, practice_id=practice_id, is_active=True
    )
    if roles:
        memberships = memberships.filter(role__in=roles)
    membership = memberships.first()
    if membership is None:
        raise NotStaffOfPractice()
    return membership


def require_permission(
    *,
    user: AbstractBaseUser,
    practice_id: int,
    permission: str,
    request: HttpRequest | None = None,
) -> frozenset[Permission]:
    """The gate of every staff service: membership, then role, then second factor.

    Raises NotStaffOfPractice (the same for a practice that does not exist)
    when the user has no role there, NotAllowedForRole when their roles do
    not grant `permission`, MfaRequired without a second factor. Returns all
    the user's permissions at the practice (for finer choices, e.g. which
    flags to show).
    """
    granted = permissions_for(user=user, practice_id=practice_id)
    if not granted:
        raise NotStaffOfPractice()
    if Permission(permission) not in granted:
        raise NotAllowedForRole()
    require_mfa(user=user, request=request)
    return granted
