"""The scheduling admin applies the settings services' checks and revokes feeds through them."""

import pytest
from django.test import Client

from carnet.accounts.models import User
from carnet.scheduling.feeds import create_feed, get_feed_for_token
from carnet.scheduling.models import VisitMotive
from conftest import login_with_totp


@pytest.fixture
def root_client(db, enroll_totp, totp_secret):
    enroll_totp(User.objects.create_superuser("root@example.test", "a-long-pw-123"))
    client = Client()
    login_with_totp(
        client, email="root@example.test", password="a-long-pw-123", secret=totp_secret
    )
    return client


def _motive_form(motive, **changes):
    return {
        "agenda": motive.agenda_id,
        "name": motive.name,
        "duration_minutes": 20,
        "channel": "in_person",
        "open_to_new_patients": "on",
        "min_notice_minutes": 60,
        "horizon_days": 90,
        "cancellation_cutoff_hours": 24,
        "is_active": "on",
        **changes,
    }


def test_the_admin_normalises_colour_and_questions(
    frozen_now, consultation, root_client
):
    response = root_client.post(
        f"/admin/scheduling/visitmotive/{consultation.pk}/change/",
        _motive_form(
            consultation,
            colour="#abcdef",
            booking_questions='[{"label": "Allergies"}]',
        ),
    )

    assert response.status_code == 302, response.content[:2000]
    consultation.refresh_from_db()
    assert consultation.colour == "#ABCDEF"
    assert consultation.booking_questions == [{"label": "Allergies", "required": False}]


def test_the_admin_refuses_bad_questions(frozen_now, consultation, root_client):
    before = VisitMotive.objects.filter(pk=consultation.pk).values().get()

    response = root_client.post(
        f"/admin/scheduling/visitmotive/{consultation.pk}/change/",
        _motive_form(consultation, booking_questions='[{"label": ""}]'),
    )

    assert response.status_code == 200
    assert VisitMotive.objects.filter(pk=consultation.pk).values().get() == before


def test_the_admin_revokes_feeds(frozen_now, empty_agenda, admin, root_client):
    feed, raw = create_feed(actor=admin, agenda_id=empty_agenda.pk)

    response = root_client.post(
        "/admin/scheduling/agendafeed/",
        {"action": "revoke", "_selected_action": [feed.pk]},
    )

    assert response.status_code == 302
    assert get_feed_for_token(raw=raw) is None
