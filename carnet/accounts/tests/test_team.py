"""The team of a practice: invitations by e-mail, roles, removal, the last administrator."""

from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.utils import timezone

from carnet.accounts.errors import (
    AlreadyMember,
    InvitationAlreadyUsed,
    InvitationEmailInvalid,
    InvitationEmailMismatch,
    InvitationExpired,
    InvitationNotFound,
    InvitationRevoked,
    LastPracticeAdmin,
    MembershipNotFound,
    MfaRequired,
    NotAllowedForRole,
    NotStaffOfPractice,
    RoleInvalid,
)
from carnet.accounts.models import Invitation, StaffMembership, User
from carnet.accounts.roles import Permission, can, is_staff_user
from carnet.accounts.selectors import hash_token, list_invitations, list_team
from carnet.accounts.team import (
    INVITATION_TTL,
    accept_invitation,
    change_role,
    invite_member,
    remove_member,
    revoke_invitation,
)
from carnet.accounts.tests.factories import UserFactory
from carnet.audit.models import AuditEvent
from carnet.audit.selectors import verify_chain
from carnet.directory.tests.factories import PracticeFactory

pytestmark = pytest.mark.django_db
R = StaffMembership.Role


@pytest.fixture
def practice():
    return PracticeFactory()


@pytest.fixture
def member(practice, enroll_totp):
    """member(role, practice=…): a user holding `role`, with a second factor."""

    def make(role, at=None, **user_fields):
        user = UserFactory(**user_fields)
        StaffMembership.objects.create(user=user, practice=at or practice, role=role)
        enroll_totp(user)
        return user

    return make


@pytest.fixture
def admin(member):
    return member(R.PRACTICE_ADMIN, first_name="Anne", last_name="Admin")


def verified_user(email: str) -> User:
    user = UserFactory(email=email)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def _membership(user, practice, role) -> StaffMembership:
    return StaffMembership.objects.get(user=user, practice=practice, role=role)


# -- inviting --------------------------------------------------------------------------


def test_an_admin_invites_by_email_and_only_the_token_digest_is_stored(admin, practice):
    now = timezone.now()

    invitation, raw = invite_member(
        actor=admin,
        practice_id=practice.pk,
        email=" Dr.Who@Example.TEST ",
        role="practitioner",
    )

    invitation.refresh_from_db()
    assert raw.startswith("inv_")
    assert len(raw) > 40
    assert invitation.email == "dr.who@example.test"
    assert invitation.role == R.PRACTITIONER
    assert invitation.token_digest == hash_token(raw)
    assert raw not in invitation.token_digest
    assert invitation.invited_by == admin
    assert (
        now + INVITATION_TTL <= invitation.expires_at <= timezone.now() + INVITATION_TTL
    )
    assert invitation.status(timezone.now()) == Invitation.Status.PENDING
    (event,) = AuditEvent.objects.all()
    assert (event.actor_id, event.action, event.purpose, event.patient_ref) == (
        admin.pk,
        "create",
        "administration",
        "",
    )
    assert (
        event.resource
        == f"practice:{practice.pk}:invitation:{invitation.pk}:practitioner"
    )


@pytest.mark.parametrize("role", [R.PRACTITIONER, R.SECRETARY])
def test_only_those_who_manage_the_team_may_invite(member, practice, role):
    user = member(role)

    with pytest.raises(NotAllowedForRole):
        invite_member(
            actor=user,
            practice_id=practice.pk,
            email="x@example.test",
            role="secretary",
        )

    assert Invitation.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_an_admin_of_another_practice_cannot_invite_here(member, practice):
    outsider = member(R.PRACTICE_ADMIN, at=PracticeFactory())

    with pytest.raises(NotStaffOfPractice):
        invite_member(
            actor=outsider,
            practice_id=practice.pk,
            email="x@example.test",
            role="secretary",
        )

    assert Invitation.objects.count() == 0


def test_inviting_needs_a_second_factor(practice):
    admin = UserFactory()
    StaffMembership.objects.create(user=admin, practice=practice, role=R.PRACTICE_ADMIN)

    with pytest.raises(MfaRequired):
        invite_member(
            actor=admin,
            practice_id=practice.pk,
            email="x@example.test",
            role="secretary",
        )

    assert Invitation.objects.count() == 0


def test_a_platform_admin_invites_the_first_admin_of_a_new_practice(
    practice, enroll_totp
):
    root = User.objects.create_superuser("root@example.test", "a-long-pw-123")
    enroll_totp(root)
    future_admin = verified_user("boss@example.test")

    _invitation, raw = invite_member(
        actor=root,
        practice_id=practice.pk,
        email="boss@example.test",
        role="practice_admin",
    )
    membership = accept_invitation(user=future_admin, raw_token=raw)

    assert membership.role == R.PRACTICE_ADMIN
    assert can(future_admin, Permission.MANAGE_TEAM, practice.pk)


@pytest.mark.parametrize(
    "email", ["", "not-an-address", "a@b", "x" * 300 + "@example.test"]
)
def test_an_invalid_address_is_refused(admin, practice, email):
    with pytest.raises(InvitationEmailInvalid):
        invite_member(
            actor=admin, practice_id=practice.pk, email=email, role="secretary"
        )

    assert Invitation.objects.count() == 0


@pytest.mark.parametrize("role", ["", "doctor", "superuser", "PRACTITIONER"])
def test_an_unknown_role_is_refused(admin, practice, role):
    with pytest.raises(RoleInvalid):
        invite_member(
            actor=admin, practice_id=practice.pk, email="x@example.test", role=role
        )

    assert Invitation.objects.count() == 0


def test_someone_who_already_holds_the_role_is_not_invited_again(
    admin, member, practice
):
    secretary = member(R.SECRETARY, email="sec@example.test")

    with pytest.raises(AlreadyMember):
        invite_member(
            actor=admin,
            practice_id=practice.pk,
            email="SEC@example.test",
            role="secretary",
        )
    invitation, _raw = invite_member(
        actor=admin,
        practice_id=practice.pk,
        email="sec@example.test",
        role="practice_admin",
    )

    assert Invitation.objects.get() == invitation
    assert secretary.email == invitation.email


def test_inviting_again_withdraws_the_earlier_invitation(admin, practice):
    first, first_raw = invite_member(
        actor=admin, practice_id=practice.pk, email="x@example.test", role="secretary"
    )
    _second, second_raw = invite_member(
        actor=admin, practice_id=practice.pk, email="x@example.test", role="secretary"
    )
    invitee = verified_user("x@example.test")

    first.refresh_from_db()
    assert first.revoked_at is not None
    with pytest.raises(InvitationRevoked):
        accept_invitation(user=invitee, raw_token=first_raw)
    assert accept_invitation(user=invitee, raw_token=second_raw).role == R.SECRETARY
    assert list(list_invitations(actor=admin, practice_id=practice.pk)) == []


# -- accepting -------------------------------------------------------------------------


def test_accepting_with_the_verified_invited_address_makes_a_member(admin, practice):
    _invitation, raw = invite_member(
        actor=admin, practice_id=practice.pk, email="new@example.test", role="secretary"
    )
    invitee = verified_user("new@example.test")
    assert not is_staff_user(invitee)

    membership = accept_invitation(user=invitee, raw_token=raw)

    assert (membership.user, membership.practice, membership.role) == (
        invitee,
        practice,
        R.SECRETARY,
    )
    assert membership.is_active
    invitation = Invitation.objects.get()
    assert invitation.accepted_by == invitee
    assert invitation.status(timezone.now()) == Invitation.Status.ACCEPTED
    assert is_staff_user(invitee)
    assert can(invitee, Permission.VIEW_AGENDA, practice.pk)
    assert not can(invitee, Permission.VIEW_CLINICAL_NOTES, practice.pk)
    assert [e.action for e in AuditEvent.objects.order_by("pk")] == ["create", "create"]
    assert verify_chain().ok


def test_a_secondary_verified_address_of_the_account_works(admin, practice):
    _invitation, raw = invite_member(
        actor=admin,
        practice_id=practice.pk,
        email="work@example.test",
        role="practitioner",
    )
    user = verified_user("home@example.test")
    EmailAddress.objects.create(user=user, email="Work@Example.test", verified=True)

    assert accept_invitation(user=user, raw_token=raw).role == R.PRACTITIONER


def test_an_account_with_another_address_cannot_accept(admin, practice):
    _invitation, raw = invite_member(
        actor=admin,
        practice_id=practice.pk,
        email="invited@example.test",
        role="practitioner",
    )
    intruder = verified_user("intruder@example.test")

    with pytest.raises(InvitationEmailMismatch):
        accept_invitation(user=intruder, raw_token=raw)

    assert not StaffMembership.objects.filter(user=intruder).exists()
    assert Invitation.objects.get().accepted_at is None


def test_the_invited_address_must_be_verified_on_the_account(admin, practice):
    _invitation, raw = invite_member(
        actor=admin,
        practice_id=practice.pk,
        email="invited@example.test",
        role="practitioner",
    )
    user = UserFactory(email="invited@example.test")
    EmailAddress.objects.create(user=user, email="invited@example.test", verified=False)

    with pytest.raises(InvitationEmailMismatch):
        accept_invitation(user=user, raw_token=raw)

    assert not StaffMembership.objects.filter(user=user).exists()


def test_an_expired_invitation_cannot_be_accepted(admin, practice):
    _invitation, raw = invite_member(
        actor=admin,
        practice_id=practice.pk,
        email="late@example.test",
        role="secretary",
    )
    invitee = verified_user("late@example.test")

    with time_machine.travel(timezone.now() + INVITATION_TTL + timedelta(seconds=1)):
        with pytest.raises(InvitationExpired):
            accept_invitation(user=invitee, raw_token=raw)
        (pending,) = list_invitations(actor=admin, practice_id=practice.pk)
        assert pending.status(timezone.now()) == Invitation.Status.EXPIRED

    assert not StaffMembership.objects.filter(user=invitee).exists()


def test_an_invitation_works_once(admin, practice):
    _invitation, raw = invite_member(
        actor=admin,
        practice_id=practice.pk,
        email="once@example.test",
        role="secretary",
    )
    invitee = verified_user("once@example.test")
    accept_invitation(user=invitee, raw_token=raw)
    other = verified_user("other@example.test")

    with pytest.raises(InvitationAlreadyUsed):
        accept_invitation(user=invitee, raw_token=raw)
    with pytest.raises(InvitationAlreadyUsed):
        accept_invitation(user=other, raw_token=raw)

    assert StaffMembership.objects.filter(practice=practice).count() == 2
    assert not StaffMembership.objects.filter(user=other).exists()


@pytest.mark.parametrize("raw", ["", "inv_unknown", "crt_something"])
def test_an_unknown_token_is_not_found(raw):
    with pytest.raises(InvitationNotFound):
        accept_invitation(user=verified_user("a@example.test"), raw_token=raw)


def test_a_revoked_invitation_cannot_be_accepted(admin, practice):
    invitation, raw = invite_member(
        actor=admin,
        practice_id=practice.pk,
        email="gone@example.test",
        role="secretary",
    )

    revoked = revoke_invitation(
        actor=admin, practice_id=practice.pk, invitation_id=invitation.pk
    )
    first_instant = revoked.revoked_at
    again = revoke_invitation(
        actor=admin, practice_id=practice.pk, invitation_id=invitation.pk
    )

    assert again.revoked_at == first_instant
    with pytest.raises(InvitationRevoked):
        accept_invitation(user=verified_user("gone@example.test"), raw_token=raw)
    assert [e.action for e in AuditEvent.objects.order_by("pk")] == ["create", "cancel"]


def test_an_accepted_invitation_cannot_be_revoked(admin, practice):
    invitation, raw = invite_member(
        actor=admin, practice_id=practice.pk, email="in@example.test", role="secretary"
    )
    accept_invitation(user=verified_user("in@example.test"), raw_token=raw)

    with pytest.raises(InvitationAlreadyUsed):
        revoke_invitation(
            actor=admin, practice_id=practice.pk, invitation_id=invitation.pk
        )


def test_another_practice_cannot_revoke_an_invitation(admin, member, practice):
    invitation, _raw = invite_member(
        actor=admin, practice_id=practice.pk, email="x@example.test", role="secretary"
    )
    other_practice = PracticeFactory()
    other_admin = member(R.PRACTICE_ADMIN, at=other_practice)

    with pytest.raises(NotStaffOfPractice):
        revoke_invitation(
            actor=other_admin, practice_id=practice.pk, invitation_id=invitation.pk
        )
    with pytest.raises(InvitationNotFound):
        revoke_invitation(
            actor=other_admin,
            practice_id=other_practice.pk,
            invitation_id=invitation.pk,
        )

    assert Invitation.objects.get().revoked_at is None


def test_a_removed_member_invited_again_gets_their_membership_back(
    admin, member, practice
):
    secretary = member(R.SECRETARY, email="back@example.test")
    EmailAddress.objects.create(
        user=secretary, email="back@example.test", verified=True
    )
    old = _membership(secretary, practice, R.SECRETARY)
    remove_member(actor=admin, practice_id=practice.pk, membership_id=old.pk)
    _invitation, raw = invite_member(
        actor=admin,
        practice_id=practice.pk,
        email="back@example.test",
        role="secretary",
    )

    membership = accept_invitation(user=secretary, raw_token=raw)

    assert membership.pk == old.pk
    assert membership.is_active


# -- the team --------------------------------------------------------------------------


def test_the_team_lists_active_members_by_name_for_admins_only(admin, member, practice):
    zoe = member(R.PRACTITIONER, first_name="Zoé", last_name="Zola")
    bob = member(R.SECRETARY, first_name="Bob", last_name="Bernard")
    gone = member(R.SECRETARY, last_name="Ancien")
    StaffMembership.objects.filter(user=gone).update(is_active=False)
    member(R.PRACTITIONER, at=PracticeFactory())

    team = list(list_team(actor=admin, practice_id=practice.pk))

    assert [(m.user, m.role) for m in team] == [
        (admin, R.PRACTICE_ADMIN),
        (bob, R.SECRETARY),
        (zoe, R.PRACTITIONER),
    ]
    with pytest.raises(NotAllowedForRole):
        list_team(actor=zoe, practice_id=practice.pk)
    with pytest.raises(NotAllowedForRole):
        list_invitations(actor=bob, practice_id=practice.pk)


def test_a_role_change_takes_effect_at_once(admin, member, practice):
    secretary = member(R.SECRETARY)
    membership = _membership(secretary, practice, R.SECRETARY)
    assert not can(secretary, Permission.VIEW_CLINICAL_NOTES, practice.pk)

    changed = change_role(
        actor=admin,
        practice_id=practice.pk,
        membership_id=membership.pk,
        role="practitioner",
    )

    assert changed.pk == membership.pk
    assert changed.role == R.PRACTITIONER
    assert can(secretary, Permission.VIEW_CLINICAL_NOTES, practice.pk)
    (event,) = AuditEvent.objects.all()
    assert (event.action, event.resource) == (
        "update",
        f"practice:{practice.pk}:team:{membership.pk}:practitioner",
    )


def test_a_role_the_person_already_holds_is_refused(admin, member, practice):
    user = member(R.SECRETARY)
    StaffMembership.objects.create(user=user, practice=practice, role=R.PRACTITIONER)
    membership = _membership(user, practice, R.SECRETARY)

    with pytest.raises(AlreadyMember):
        change_role(
            actor=admin,
            practice_id=practice.pk,
            membership_id=membership.pk,
            role="practitioner",
        )

    assert _membership(user, practice, R.SECRETARY).is_active


def test_changing_back_to_a_role_held_before_reuses_its_membership(
    admin, member, practice
):
    user = member(R.SECRETARY)
    secretary_row = _membership(user, practice, R.SECRETARY)
    old_row = StaffMembership.objects.create(
        user=user, practice=practice, role=R.PRACTITIONER, is_active=False
    )

    changed = change_role(
        actor=admin,
        practice_id=practice.pk,
        membership_id=secretary_row.pk,
        role="practitioner",
    )

    assert changed.pk == old_row.pk
    assert changed.is_active
    secretary_row.refresh_from_db()
    assert not secretary_row.is_active
    assert set(
        StaffMembership.objects.filter(user=user, is_active=True).values_list(
            "role", flat=True
        )
    ) == {R.PRACTITIONER}


def test_another_practice_member_cannot_be_changed_or_removed(admin, member, practice):
    other = member(R.SECRETARY, at=PracticeFactory())
    membership = StaffMembership.objects.get(user=other)

    with pytest.raises(MembershipNotFound):
        change_role(
            actor=admin,
            practice_id=practice.pk,
            membership_id=membership.pk,
            role="practitioner",
        )
    with pytest.raises(MembershipNotFound):
        remove_member(actor=admin, practice_id=practice.pk, membership_id=membership.pk)

    membership.refresh_from_db()
    assert (membership.role, membership.is_active) == (R.SECRETARY, True)


def test_a_removed_member_loses_access_at_once(admin, member, practice):
    practitioner = member(R.PRACTITIONER)
    membership = _membership(practitioner, practice, R.PRACTITIONER)

    remove_member(actor=admin, practice_id=practice.pk, membership_id=membership.pk)

    membership.refresh_from_db()
    assert not membership.is_active
    assert not can(practitioner, Permission.VIEW_AGENDA, practice.pk)
    with pytest.raises(MembershipNotFound):
        remove_member(actor=admin, practice_id=practice.pk, membership_id=membership.pk)
    assert [e.action for e in AuditEvent.objects.all()] == ["cancel"]


def test_removing_one_of_two_roles_keeps_the_other(admin, member, practice):
    user = member(R.PRACTITIONER)
    StaffMembership.objects.create(user=user, practice=practice, role=R.PRACTICE_ADMIN)

    remove_member(
        actor=admin,
        practice_id=practice.pk,
        membership_id=_membership(user, practice, R.PRACTICE_ADMIN).pk,
    )

    assert can(user, Permission.VIEW_CLINICAL_NOTES, practice.pk)
    assert not can(user, Permission.MANAGE_TEAM, practice.pk)


def test_the_last_admin_can_neither_leave_nor_change_role(admin, practice):
    membership = _membership(admin, practice, R.PRACTICE_ADMIN)

    with pytest.raises(LastPracticeAdmin):
        remove_member(actor=admin, practice_id=practice.pk, membership_id=membership.pk)
    with pytest.raises(LastPracticeAdmin):
        change_role(
            actor=admin,
            practice_id=practice.pk,
            membership_id=membership.pk,
            role="practitioner",
        )

    membership.refresh_from_db()
    assert (membership.role, membership.is_active) == (R.PRACTICE_ADMIN, True)
    assert AuditEvent.objects.count() == 0


def test_with_two_admins_one_may_leave_but_not_the_second(admin, member, practice):
    second = member(R.PRACTICE_ADMIN)
    first_row = _membership(admin, practice, R.PRACTICE_ADMIN)
    second_row = _membership(second, practice, R.PRACTICE_ADMIN)

    remove_member(actor=second, practice_id=practice.pk, membership_id=first_row.pk)

    with pytest.raises(LastPracticeAdmin):
        remove_member(
            actor=second, practice_id=practice.pk, membership_id=second_row.pk
        )
    assert list(
        StaffMembership.objects.filter(
            practice=practice, role=R.PRACTICE_ADMIN, is_active=True
        )
    ) == [second_row]


def test_a_practitioner_who_is_also_admin_is_not_the_last_admin_twice(
    admin, member, practice
):
    # Two rows for one person do not make two administrators.
    StaffMembership.objects.create(user=admin, practice=practice, role=R.PRACTITIONER)
    membership = _membership(admin, practice, R.PRACTICE_ADMIN)

    with pytest.raises(LastPracticeAdmin):
        change_role(
            actor=admin,
            practice_id=practice.pk,
            membership_id=membership.pk,
            role="secretary",
        )
