"""The reminders page of a patient who never chose, and saving it."""

from datetime import date

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from carnet.accounts.models import NotificationPreferences, User
from carnet.accounts.services import create_own_patient
from carnet.notifications import outbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder(db):
    return create_own_patient(
        user=User.objects.create_user("lise@example.test", "secret-password"),
        first_name="Lise",
        last_name="Moreau",
        birth_date=date(1988, 9, 1),
        phone="+33612345678",
    )


@pytest.fixture
def me(holder):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(holder.account)
    return client


def test_a_patient_who_never_chose_sees_the_three_default_times_ticked(me):
    page = me.get(reverse("web:me-notifications")).content.decode()

    assert 'value="168" id="id_reminder_offsets_0" checked' in page
    assert 'value="48" id="id_reminder_offsets_1" checked' in page
    assert 'value="24" id="id_reminder_offsets_2" checked' in page
    assert 'value="2" id="id_reminder_offsets_3" checked' not in page


def test_saving_the_defaults_stores_them_and_replans(me, holder, monkeypatch):
    calls: list[dict] = []
    monkeypatch.setattr(outbox, "replan_for_user", lambda **kw: calls.append(kw))

    response = me.post(
        reverse("web:me-notifications"),
        {"email_reminders": "on", "reminder_offsets": ["168", "48", "24"]},
    )

    assert response.status_code == 302
    stored = NotificationPreferences.objects.get(user=holder.account)
    assert stored.reminder_offsets == [168, 48, 24]
    assert [c["user_id"] for c in calls] == [holder.account_id]
