"""list_failed_messages: the practice's failures, the day's context, its gate and audit."""

from datetime import UTC, datetime, timedelta

import pytest

from carnet.accounts.errors import MfaRequired, NotStaffOfPractice
from carnet.accounts.models import StaffMembership
from carnet.accounts.tests.factories import PatientFactory, UserFactory
from carnet.audit.models import AuditEvent
from carnet.directory.tests.factories import PracticeFactory
from carnet.notifications.models import Message
from carnet.notifications.selectors import (
    failed_messages_resource,
    list_failed_messages,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def row(practice, patient, key, status, **fields):
    due = fields.pop("due_at", NOW)
    return Message.objects.create(
        key=key,
        kind=Message.Kind.REMINDER,
        channel=Message.Channel.EMAIL,
        patient=patient,
        practice=practice,
        due_at=due,
        next_attempt_at=due,
        status=status,
        **fields,
    )


@pytest.fixture
def practice(db):
    return PracticeFactory()


@pytest.fixture
def member(practice, enroll_totp):
    """A secretary of the practice, second factor set up."""
    user = UserFactory()
    StaffMembership.objects.create(
        user=user, practice=practice, role=StaffMembership.Role.SECRETARY
    )
    enroll_totp(user)
    return user


def test_failures_come_most_recent_first_and_only_the_practices(practice, member):
    patient = PatientFactory()
    first = row(
        practice,
        patient,
        "old",
        Message.Status.FAILED,
        failed_at=NOW - timedelta(days=2),
    )
    last = row(
        practice,
        patient,
        "new",
        Message.Status.FAILED,
        failed_at=NOW - timedelta(hours=1),
    )
    row(PracticeFactory(), patient, "elsewhere", Message.Status.FAILED, failed_at=NOW)
    row(practice, patient, "sent", Message.Status.SENT, sent_at=NOW)
    row(practice, patient, "cancelled", Message.Status.CANCELLED)

    found = list_failed_messages(actor=member, practice_id=practice.pk, now=NOW)

    assert [m.pk for m in found.messages] == [last.pk, first.pk]
    assert (found.count, found.number, found.num_pages) == (2, 1, 1)


def test_the_context_counts_the_next_and_the_last_24_hours(practice, member):
    patient = PatientFactory()
    hour = timedelta(hours=1)
    row(practice, patient, "s-soon", Message.Status.SCHEDULED, due_at=NOW + hour)
    row(practice, patient, "s-edge", Message.Status.SCHEDULED, due_at=NOW + 24 * hour)
    row(practice, patient, "s-late", Message.Status.SCHEDULED, due_at=NOW + 30 * hour)
    row(practice, patient, "s-sending", Message.Status.SENDING, due_at=NOW + hour)
    row(practice, patient, "d-sent", Message.Status.SENT, sent_at=NOW - hour)
    row(practice, patient, "d-delivered", Message.Status.DELIVERED, sent_at=NOW - hour)
    row(practice, patient, "d-old", Message.Status.SENT, sent_at=NOW - 30 * hour)
    row(PracticeFactory(), patient, "b-sent", Message.Status.SENT, sent_at=NOW - hour)

    found = list_failed_messages(actor=member, practice_id=practice.pk, now=NOW)

    assert found.scheduled_next_day == 1
    assert found.sent_last_day == 2
    assert found.messages == []


def test_the_list_is_paged_and_a_page_past_the_last_is_the_last(practice, member):
    patient = PatientFactory()
    for n in range(5):
        row(
            practice,
            patient,
            f"f{n}",
            Message.Status.FAILED,
            failed_at=NOW - timedelta(minutes=n),
        )

    found = list_failed_messages(
        actor=member, practice_id=practice.pk, now=NOW, page=9, per_page=2
    )

    assert (found.number, found.num_pages, len(found.messages)) == (3, 3, 1)
    assert found.has_previous
    assert not found.has_next


def test_each_patient_on_the_page_is_recorded_once(practice, member):
    anne, bruno = PatientFactory(), PatientFactory()
    row(practice, anne, "a1", Message.Status.FAILED, failed_at=NOW)
    row(practice, anne, "a2", Message.Status.FAILED, failed_at=NOW)
    row(practice, bruno, "b1", Message.Status.SENT, sent_at=NOW)

    list_failed_messages(actor=member, practice_id=practice.pk, now=NOW)

    events = AuditEvent.objects.filter(resource=failed_messages_resource(practice.pk))
    assert events.count() == 1
    assert events.get().action == "read"


def test_someone_outside_the_practice_is_refused_and_nothing_recorded(
    practice, enroll_totp
):
    row(practice, PatientFactory(), "f", Message.Status.FAILED, failed_at=NOW)
    stranger = UserFactory()
    enroll_totp(stranger)

    with pytest.raises(NotStaffOfPractice):
        list_failed_messages(actor=stranger, practice_id=practice.pk, now=NOW)

    assert not AuditEvent.objects.exists()


def test_a_member_without_a_second_factor_is_refused(practice):
    user = UserFactory()
    StaffMembership.objects.create(
        user=user, practice=practice, role=StaffMembership.Role.PRACTITIONER
    )
    row(practice, PatientFactory(), "f", Message.Status.FAILED, failed_at=NOW)

    with pytest.raises(MfaRequired):
        list_failed_messages(actor=user, practice_id=practice.pk, now=NOW)

    assert not AuditEvent.objects.exists()
