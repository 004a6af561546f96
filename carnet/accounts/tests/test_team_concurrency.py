"""Two administrators removing each other at the same moment: the practice keeps one."""

import threading

import pytest
from django.db import connections

from carnet.accounts.models import StaffMembership, User
from carnet.accounts.team import (
    remove_member,
)
from carnet.accounts.tests.factories import UserFactory
from carnet.directory.tests.factories import PracticeFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _race(target, arguments):
    """Run target(*args) for each args in threads released by one barrier."""
    barrier = threading.Barrier(len(arguments))
    outcomes = [None] * len(arguments)

    def run(index, args):
        try:
            barrier.wait()
            outcomes[index] = target(*args)
        except Exception as exc:  # noqa: BLE001 - every outcome is asserted below
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(i, a)) for i, a in enumerate(arguments)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _two_admins(enroll_totp):
    practice = PracticeFactory()
    admins = []
    for _ in range(2):
        user = UserFactory()
        enroll_totp(user)
        membership = StaffMembership.objects.create(
            user=user, practice=practice, role=StaffMembership.Role.PRACTICE_ADMIN
        )
        admins.append((user, membership))
    return practice, admins


def _active_admins(practice) -> int:
    return StaffMembership.objects.filter(
        practice=practice, role=StaffMembership.Role.PRACTICE_ADMIN, is_active=True
    ).count()


def _name(outcome) -> str:
    return type(outcome).__name__ if isinstance(outcome, Exception) else outcome


def test_removing_both_admins_at_once_removes_only_one(enroll_totp, purge_audit_trail):
    # A platform administrator passes the gate without a membership, so both
    # removals reach the lock: the second one must count again and refuse.
    practice, [(_a, first_row), (_b, second_row)] = _two_admins(enroll_totp)
    root = User.objects.create_superuser("root@example.test", "a-long-pw-123")
    enroll_totp(root)

    def remove(membership):
        remove_member(actor=root, practice_id=practice.pk, membership_id=membership.pk)
        return "removed"

    outcomes = _race(remove, [(first_row,), (second_row,)])

    assert sorted(_name(o) for o in outcomes) == ["LastPracticeAdmin", "removed"]
    assert _active_admins(practice) == 1


def test_two_admins_removing_each_other_at_once_leave_one_admin(
    enroll_totp, purge_audit_trail
):
    practice, [(first, first_row), (second, second_row)] = _two_admins(enroll_totp)

    def remove(actor, membership):
        remove_member(actor=actor, practice_id=practice.pk, membership_id=membership.pk)
        return "removed"

    outcomes = _race(remove, [(first, second_row), (second, first_row)])

    # The loser is refused either at the lock (LastPracticeAdmin) or, when the
    # winner committed first, at the gate (no longer a member).
    names = sorted(_name(o) for o in outcomes)
    assert names in (
        ["LastPracticeAdmin", "removed"],
        ["NotStaffOfPractice", "removed"],
    )
    assert _active_admins(practice) == 1
