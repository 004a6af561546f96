"""Who may act as staff, and the multi-factor rule every staff access obeys."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from carnet.accounts.errors import MfaRequired, NotStaffOfPractice
from carnet.accounts.models import StaffMembership

MFA_TYPES = ["totp", "webauthn"]


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
