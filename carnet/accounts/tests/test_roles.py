"""What each role may do at a practice: the whole matrix, cell by cell."""

import pytest
from django.contrib.auth.models import AnonymousUser

from carnet.accounts.errors import MfaRequired, NotAllowedForRole, NotStaffOfPractice
from carnet.accounts.models import StaffMembership, User
from carnet.accounts.roles import (
    Permission,
    can,
    permissions_for,
    require_permission,
)
from carnet.accounts.tests.factories import UserFactory
from carnet.directory.tests.factories import PracticeFactory

pytestmark = pytest.mark.django_db

P = Permission
ALL = set(Permission)
CLINICAL = {P.VIEW_CLINICAL_NOTES, P.WRITE_CLINICAL_NOTES}

# Written out from the issue, not derived from ROLE_PERMISSIONS.
EXPECTED: dict[str, set[Permission]] = {
    "practitioner": ALL - {P.MANAGE_TEAM},
    "secretary": {
        P.VIEW_AGENDA,
        P.MANAGE_APPOINTMENTS,
        P.VIEW_CONTACT_DETAILS,
        P.VIEW_WAITING_LIST,
        P.MANAGE_ABSENCES,
    },
    "practice_admin": {
        P.VIEW_AGENDA,
        P.MANAGE_APPOINTMENTS,
        P.VIEW_CONTACT_DETAILS,
        P.VIEW_WAITING_LIST,
        P.MANAGE_SETTINGS,
        P.MANAGE_ABSENCES,
        P.MANAGE_TEAM,
        P.MANAGE_NO_SHOW_POLICY,
    },
    "practitioner_and_admin": ALL,
    "secretary_and_admin": ALL - CLINICAL,
    "superuser": ALL - CLINICAL,
    "superuser_and_practitioner": ALL,
    "practitioner_elsewhere": set(),
    "admin_elsewhere": set(),
    "removed_practitioner": set(),
    "deactivated_user": set(),
    "patient": set(),
    "anonymous": set(),
}


def _member(practice, *roles, active=True, **user_fields):
    user = UserFactory(**user_fields)
    for role in roles:
        StaffMembership.objects.create(
            user=user, practice=practice, role=role, is_active=active
        )
    return user


def make_actor(name: str, practice, elsewhere):
    """The user called `name` in EXPECTED, for `practice`."""
    role = StaffMembership.Role
    makers = {
        "practitioner": lambda: _member(practice, role.PRACTITIONER),
        "secretary": lambda: _member(practice, role.SECRETARY),
        "practice_admin": lambda: _member(practice, role.PRACTICE_ADMIN),
        "practitioner_and_admin": lambda: _member(
            practice, role.PRACTITIONER, role.PRACTICE_ADMIN
        ),
        "secretary_and_admin": lambda: _member(
            practice, role.SECRETARY, role.PRACTICE_ADMIN
        ),
        "superuser": lambda: User.objects.create_superuser(
            "root@example.test", "a-long-pw-123"
        ),
        "superuser_and_practitioner": lambda: _member(
            practice, role.PRACTITIONER, is_superuser=True, is_staff=True
        ),
        "practitioner_elsewhere": lambda: _member(elsewhere, role.PRACTITIONER),
        "admin_elsewhere": lambda: _member(elsewhere, role.PRACTICE_ADMIN),
        "removed_practitioner": lambda: _member(
            practice, role.PRACTITIONER, active=False
        ),
        "deactivated_user": lambda: _member(
            practice, role.PRACTITIONER, role.PRACTICE_ADMIN, is_active=False
        ),
        "patient": lambda: UserFactory(),
        "anonymous": AnonymousUser,
    }
    return makers[name]()


@pytest.mark.parametrize("permission", list(Permission), ids=str)
@pytest.mark.parametrize("actor_name", list(EXPECTED))
def test_each_cell_of_the_role_matrix(actor_name, permission):
    practice, elsewhere = PracticeFactory(), PracticeFactory()
    actor = make_actor(actor_name, practice, elsewhere)

    allowed = can(actor, permission, practice.pk)

    assert allowed is (permission in EXPECTED[actor_name])


@pytest.mark.parametrize("actor_name", list(EXPECTED))
def test_each_actor_gets_exactly_its_row_of_the_matrix(actor_name):
    practice, elsewhere = PracticeFactory(), PracticeFactory()
    actor = make_actor(actor_name, practice, elsewhere)

    assert (
        set(permissions_for(user=actor, practice_id=practice.pk))
        == (EXPECTED[actor_name])
    )


def test_a_role_at_one_practice_grants_nothing_at_another():
    practice, other = PracticeFactory(), PracticeFactory()
    admin = _member(
        practice, StaffMembership.Role.PRACTITIONER, StaffMembership.Role.PRACTICE_ADMIN
    )

    assert permissions_for(user=admin, practice_id=practice.pk) == frozenset(ALL)
    assert permissions_for(user=admin, practice_id=other.pk) == frozenset()


def test_a_superuser_gets_nothing_at_a_practice_that_does_not_exist():
    root = User.objects.create_superuser("root@example.test", "a-long-pw-123")

    assert permissions_for(user=root, practice_id=987654) == frozenset()


def test_an_unknown_permission_is_a_programming_error():
    practice = PracticeFactory()
    user = _member(practice, StaffMembership.Role.PRACTITIONER)

    with pytest.raises(ValueError, match="read_minds"):
        can(user, "read_minds", practice.pk)


def test_the_gate_answers_the_same_for_another_practice_and_a_missing_one(
    enroll_totp,
):
    practice, other = PracticeFactory(), PracticeFactory()
    admin = _member(other, StaffMembership.Role.PRACTICE_ADMIN)
    enroll_totp(admin)

    with pytest.raises(NotStaffOfPractice) as foreign:
        require_permission(
            user=admin, practice_id=practice.pk, permission=P.VIEW_AGENDA
        )
    with pytest.raises(NotStaffOfPractice) as missing:
        require_permission(user=admin, practice_id=987654, permission=P.VIEW_AGENDA)

    assert foreign.value.code == missing.value.code == "practice_not_found"
    assert foreign.value.kind == missing.value.kind == "not_found"
    assert foreign.value.render() == missing.value.render()


def test_the_gate_refuses_a_role_without_the_permission_as_forbidden(enroll_totp):
    practice = PracticeFactory()
    secretary = _member(practice, StaffMembership.Role.SECRETARY)
    enroll_totp(secretary)

    with pytest.raises(NotAllowedForRole) as refused:
        require_permission(
            user=secretary,
            practice_id=practice.pk,
            permission=P.VIEW_CLINICAL_NOTES,
        )

    assert refused.value.code == "not_allowed_for_role"
    assert refused.value.kind == "forbidden"


def test_the_gate_asks_for_a_second_factor_after_the_role(enroll_totp):
    practice = PracticeFactory()
    practitioner = _member(practice, StaffMembership.Role.PRACTITIONER)

    with pytest.raises(MfaRequired):
        require_permission(
            user=practitioner,
            practice_id=practice.pk,
            permission=P.VIEW_CLINICAL_NOTES,
        )
    enroll_totp(practitioner)
    granted = require_permission(
        user=practitioner, practice_id=practice.pk, permission=P.VIEW_CLINICAL_NOTES
    )

    assert granted == frozenset(ALL - {P.MANAGE_TEAM})
