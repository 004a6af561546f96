"""The practice's team: invitations by e-mail, roles, removal.

For those who may manage the team (practice and platform administrators; see
carnet.accounts.roles.require_permission). Every change is traced in the
audit trail; the last practice administrator can never leave.
"""

import secrets
from datetime import timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from carnet.accounts.errors import (
    AlreadyMember,
    InvitationAlreadyUsed,
    InvitationEmailInvalid,
    InvitationEmailMismatch,
    InvitationExpired,
    InvitationNotFound,
    InvitationPending,
    InvitationRevoked,
    LastPracticeAdmin,
    MembershipNotFound,
    RoleInvalid,
)
from carnet.accounts.models import (
    Invitation,
    StaffMembership,
    User,
)
from carnet.accounts.roles import Permission, require_permission
from carnet.accounts.selectors import (
    hash_token,
)
from carnet.accounts.services import (
    account_actor_label,
)
from carnet.audit.models import Action, ActorKind, Purpose
from carnet.audit.services import record_event

INVITATION_TTL = timedelta(days=7)
INVITATION_TOKEN_PREFIX = "inv_"  # noqa: S105 - a public prefix, not a secret


def _record_team_event(*, actor: AbstractBaseUser, action: str, resource: str) -> None:
    """Trace a change of who may access the practice's data (no patient concerned)."""
    record_event(
        actor_id=actor.pk,
        actor_kind=ActorKind.STAFF,
        actor_label=account_actor_label(actor),
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
