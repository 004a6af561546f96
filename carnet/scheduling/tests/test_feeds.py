"""iCalendar feed tokens: stored hashed, shown once, revocable."""

import hashlib

import pytest

from carnet.scheduling.errors import FeedNotFound, SettingsForbidden
from carnet.scheduling.feeds import (
    FEED_TOKEN_PREFIX,
    create_feed,
    get_feed_for_token,
    revoke_feed,
)
from carnet.scheduling.models import AgendaFeed


def test_a_feed_stores_only_the_digest_of_its_token(frozen_now, empty_agenda, admin):
    feed, raw = create_feed(actor=admin, agenda_id=empty_agenda.pk, name=" Phone ")

    stored = AgendaFeed.objects.filter(pk=feed.pk).values().get()
    assert raw.startswith(FEED_TOKEN_PREFIX)
    assert len(raw) >= 40
    assert stored["digest"] == hashlib.sha256(raw.encode()).hexdigest()
    assert stored["prefix"] == raw[:12]
    assert raw not in {str(value) for value in stored.values()}
    assert (stored["name"], stored["created_by_id"]) == ("Phone", admin.pk)
    assert stored["show_patient_names"] is False
    assert stored["revoked_at"] is None


def test_two_feeds_get_different_tokens(frozen_now, empty_agenda, admin):
    _, first = create_feed(actor=admin, agenda_id=empty_agenda.pk)
    _, second = create_feed(actor=admin, agenda_id=empty_agenda.pk)

    assert first != second


def test_patient_names_are_shown_only_when_asked(frozen_now, empty_agenda, admin):
    feed, _ = create_feed(
        actor=admin, agenda_id=empty_agenda.pk, show_patient_names=True
    )

    assert AgendaFeed.objects.get(pk=feed.pk).show_patient_names is True


def test_the_token_opens_its_feed(frozen_now, empty_agenda, admin):
    feed, raw = create_feed(actor=admin, agenda_id=empty_agenda.pk)

    found = get_feed_for_token(raw=raw)

    assert found == feed
    assert found.agenda == empty_agenda


@pytest.mark.parametrize(
    "raw",
    ["", "cal_", "cal_unknown-token", "crt_" + "a" * 43, "cal_" + "a" * 500, None],
)
def test_other_tokens_open_nothing(frozen_now, empty_agenda, admin, raw):
    create_feed(actor=admin, agenda_id=empty_agenda.pk)

    assert get_feed_for_token(raw=raw) is None


def test_a_revoked_feed_opens_nothing_and_stays_revoked(
    frozen_now, empty_agenda, admin
):
    feed, raw = create_feed(actor=admin, agenda_id=empty_agenda.pk)

    revoked = revoke_feed(actor=admin, feed_id=feed.pk)
    first_instant = revoked.revoked_at
    again = revoke_feed(actor=admin, feed_id=feed.pk)

    assert first_instant is not None
    assert again.revoked_at == first_instant
    assert get_feed_for_token(raw=raw) is None


def test_revoking_one_feed_keeps_the_others(frozen_now, empty_agenda, admin):
    first, first_raw = create_feed(actor=admin, agenda_id=empty_agenda.pk)
    second, second_raw = create_feed(actor=admin, agenda_id=empty_agenda.pk)

    revoke_feed(actor=admin, feed_id=first.pk)

    assert get_feed_for_token(raw=first_raw) is None
    assert get_feed_for_token(raw=second_raw) == second


def test_the_feed_of_an_inactive_agenda_or_practice_opens_nothing(
    frozen_now, empty_agenda, admin
):
    _, raw = create_feed(actor=admin, agenda_id=empty_agenda.pk)

    empty_agenda.practice.is_active = False
    empty_agenda.practice.save(update_fields=["is_active"])
    assert get_feed_for_token(raw=raw) is None

    empty_agenda.practice.is_active = True
    empty_agenda.practice.save(update_fields=["is_active"])
    empty_agenda.is_active = False
    empty_agenda.save(update_fields=["is_active"])
    assert get_feed_for_token(raw=raw) is None


def test_a_secretary_cannot_create_or_revoke_feeds(
    frozen_now, empty_agenda, admin, secretary
):
    feed, raw = create_feed(actor=admin, agenda_id=empty_agenda.pk)

    with pytest.raises(SettingsForbidden):
        create_feed(actor=secretary, agenda_id=empty_agenda.pk)
    with pytest.raises(SettingsForbidden):
        revoke_feed(actor=secretary, feed_id=feed.pk)

    assert AgendaFeed.objects.count() == 1
    assert get_feed_for_token(raw=raw) == feed


def test_another_practice_cannot_revoke_a_feed(
    frozen_now, empty_agenda, admin, make_staff, other_practice
):
    feed, raw = create_feed(actor=admin, agenda_id=empty_agenda.pk)
    stranger = make_staff(other_practice, "practice_admin")

    with pytest.raises(FeedNotFound):
        revoke_feed(actor=stranger, feed_id=feed.pk)

    assert get_feed_for_token(raw=raw) == feed
