"""Waiting-list offers and the duplicate-booking question: same minimal-content rules."""

import inspect
from datetime import UTC, datetime, timedelta

import pytest

from carnet.notifications.messages import (
    SMS_MAX_SEGMENTS,
    build_offer,
    build_reminder,
)
from carnet.notifications.tests.test_messages import (
    ADDRESS,
    FORBIDDEN,
    LANGUAGES,
    PRACTICE,
    PRACTITIONER,
    SUMMER,
    TOKEN,
    ZONE,
)

OFFER_URL = f"https://carnet.example.ch/offers/{TOKEN}/"
CANCEL_URL = f"https://carnet.example.ch/a/{TOKEN}/"


def offer(language: str = "en", **overrides):
    values = {
        "practitioner_name": PRACTITIONER,
        "practice_name": PRACTICE,
        "address": ADDRESS,
        "time_zone": ZONE,
        "starts_at": SUMMER,
        "expires_at": SUMMER - timedelta(days=2, hours=-1),
        "language": language,
        "offer_url": OFFER_URL,
    }
    return build_offer(**{**values, **overrides})


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_offer_says_who_where_when_until_and_links_once(language):
    message = offer(language)
    assert PRACTITIONER in message.text
    assert "09:20" in message.text  # the local time in Zurich
    assert "10:20" in message.text  # held until (08:20 UTC)
    assert message.text.count(OFFER_URL) == 1
    assert f'href="{OFFER_URL}"' in message.html
    assert message.sms.endswith(OFFER_URL)
    assert message.sms_segments <= SMS_MAX_SEGMENTS
    assert not message.sms_is_unicode
    for forbidden in FORBIDDEN:
        assert forbidden not in message.text + message.html + message.sms


def test_an_offer_needs_an_absolute_link_and_an_aware_expiry():
    with pytest.raises(ValueError, match="offer_url"):
        offer(offer_url="/offers/x/")
    with pytest.raises(ValueError, match="expires_at"):
        offer(expires_at=datetime(2026, 7, 6, 10))  # noqa: DTZ001


def test_the_offer_builder_has_no_door_for_health_data():
    parameters = set(inspect.signature(build_offer).parameters)
    assert parameters == {
        "practitioner_name",
        "practice_name",
        "address",
        "time_zone",
        "starts_at",
        "expires_at",
        "language",
        "offer_url",
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_reminder_asks_to_release_a_duplicate_and_reads_nothing_else(language):
    other = {
        "practitioner_name": "Dr Luc Moreau",
        "practice_name": "Cabinet du Lac",
        "address": "Quai 3, 1201 Genève",
        "time_zone": ZONE,
        "starts_at": SUMMER + timedelta(days=9),
        # Whatever else a caller passes is never read.
        "reason": "Dépistage VIH",
        "motive": "Oncologie",
    }
    plain = build_reminder(
        practitioner_name=PRACTITIONER,
        practice_name=PRACTICE,
        address=ADDRESS,
        time_zone=ZONE,
        starts_at=SUMMER,
        language=language,
        cancel_url=CANCEL_URL,
    )
    asked = build_reminder(
        practitioner_name=PRACTITIONER,
        practice_name=PRACTICE,
        address=ADDRESS,
        time_zone=ZONE,
        starts_at=SUMMER,
        language=language,
        cancel_url=CANCEL_URL,
        duplicate=other,
    )
    assert "Dr Luc Moreau" not in plain.text
    assert "Dr Luc Moreau" in asked.text
    assert "Dr Luc Moreau" in asked.html
    assert "Cabinet du Lac" in asked.text
    assert len(asked.sms) > len(plain.sms)
    assert asked.sms_segments <= SMS_MAX_SEGMENTS
    for forbidden in FORBIDDEN:
        assert forbidden not in asked.text + asked.html + asked.sms


def test_duplicate_time_is_shown_in_the_practice_zone():
    asked = build_reminder(
        practitioner_name=PRACTITIONER,
        practice_name=PRACTICE,
        address=ADDRESS,
        time_zone=ZONE,
        starts_at=SUMMER,
        language="en",
        duplicate={
            "practitioner_name": "Dr Luc Moreau",
            "practice_name": "Cabinet du Lac",
            "address": "",
            "time_zone": ZONE,
            "starts_at": datetime(2026, 7, 20, 13, 0, tzinfo=UTC),
        },
    )
    assert "15:00" in asked.text
