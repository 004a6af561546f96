"""The team pages in the permission matrix (see matrix.py)."""

from carnet.accounts.models import StaffMembership
from carnet.accounts.roles import Permission
from carnet.pro.tests.matrix import Route

TEAM = Permission.MANAGE_TEAM


def _practice(w):
    return {"practice_id": w.practice.pk}


def _invitation(w):
    return {"practice_id": w.practice.pk, "invitation_id": w.invitation.pk}


def _member(w):
    return {"practice_id": w.practice.pk, "membership_id": w.member.pk}


ROUTES = [
    Route("pro:team", TEAM, kwargs=_practice),
    Route(
        "pro:team-invite",
        TEAM,
        method="POST",
        kwargs=_practice,
        data=lambda w: {
            "email": f"matrix.{w.tag.lower()}@example.test",
            "role": StaffMembership.Role.PRACTITIONER,
        },
    ),
    Route(
        "pro:team-invitation-resend",
        TEAM,
        method="POST",
        kwargs=_invitation,
        data=lambda w: {},
    ),
    Route(
        "pro:team-invitation-withdraw",
        TEAM,
        method="POST",
        kwargs=_invitation,
        data=lambda w: {},
    ),
    Route(
        "pro:team-member-role",
        TEAM,
        method="POST",
        kwargs=_member,
        data=lambda w: {f"m{w.member.pk}-role": StaffMembership.Role.PRACTITIONER},
    ),
    Route(
        "pro:team-member-remove",
        TEAM,
        method="POST",
        kwargs=_member,
        data=lambda w: {},
    ),
]

EXEMPT = {
    "pro:invitation-accept": (
        "the invitee's page: any logged-in user, staff of no practice included; "
        "the one-time token is the credential (tested in test_team_pages.py)"
    ),
}
