"""Saving a user's reminder preferences re-plans their reminders, in the same transaction."""

import pytest

from carnet.accounts.errors import ReminderOffsetInvalid
from carnet.accounts.models import NotificationPreferences, default_reminder_offsets
from carnet.accounts.services import update_notification_preferences
from carnet.accounts.tests.factories import PatientFactory
from carnet.notifications import outbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def replans(monkeypatch):
    calls: list[dict] = []
    monkeypatch.setattr(
        outbox, "replan_for_user", lambda **kwargs: calls.append(kwargs)
    )
    return calls


def test_the_default_is_a_week_two_days_and_a_day_before():
    assert default_reminder_offsets() == [168, 48, 24]


def test_saving_preferences_replans_the_users_reminders(replans):
    user = PatientFactory().account

    update_notification_preferences(
        user=user, email_reminders=True, sms_reminders=False, reminder_offsets=[48]
    )

    assert len(replans) == 1
    assert replans[0]["user_id"] == user.pk
    assert replans[0]["now"].tzinfo is not None


def test_refused_preferences_replan_nothing(replans):
    user = PatientFactory().account

    with pytest.raises(ReminderOffsetInvalid):
        update_notification_preferences(
            user=user, email_reminders=True, sms_reminders=False, reminder_offsets=[5]
        )

    assert replans == []
    assert not NotificationPreferences.objects.filter(user=user).exists()


def test_a_failed_replan_saves_no_preference(monkeypatch):
    user = PatientFactory().account

    def broken(**kwargs):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(outbox, "replan_for_user", broken)

    with pytest.raises(RuntimeError, match="outbox down"):
        update_notification_preferences(
            user=user, email_reminders=True, sms_reminders=False, reminder_offsets=[2]
        )

    assert not NotificationPreferences.objects.filter(user=user).exists()
