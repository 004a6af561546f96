"""The one-click links of a reminder: /a/<token>/ ("I'll be there", "Cancel")."""

import logging
import re
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from carnet.booking import services as booking_services
from carnet.booking.models import Appointment, ConfirmedVia
from carnet.booking.selectors import calendar_sequence
from carnet.booking.services import book_appointment, reschedule_appointment
from carnet.notifications.links import (
    ACTION_CANCEL,
    ACTION_CONFIRM,
    make_action_token,
)

PARIS = ZoneInfo("Europe/Paris")
REASON = "canary-reason Douleur thoracique"
pytestmark = pytest.mark.django_db


def paris(*args: int):
    from datetime import datetime

    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def booked(frozen_now, motive, patient):
    """Wednesday 4 March 2026, 09:00 in Paris: two days ahead (24 h cut-off)."""
    motive.name = "canary-motive Échographie"
    motive.save(update_fields=["name"])
    practice = motive.agenda.practice
    practice.phone = "+33145678900"
    practice.save(update_fields=["phone"])
    return book_appointment(
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        patient=patient,
        starts_at=paris(2026, 3, 4, 9, 0),
        booked_by=patient.account,
        reason=REASON,
    )


def token_for(appointment, action, *, version=None, expires_at=None) -> str:
    return make_action_token(
        appointment_ref=str(appointment.vault_row),
        version=calendar_sequence(appointment) if version is None else version,
        action=action,
        expires_at=expires_at or appointment.starts_at,
    )


def url_for(token: str) -> str:
    return f"/a/{token}/"


def browser() -> Client:
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def csrf_of(response) -> str:
    return re.findall(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode()
    )[0]


def press(client: Client, url: str):
    """GET the page, then press its one button (the form POST, with its CSRF token)."""
    page = client.get(url)
    return client.post(url, {"csrfmiddlewaretoken": csrf_of(page)})


def body(response) -> str:
    return response.content.decode()


def main_of(page: str) -> str:
    """The page without its header (the language switcher is a form too)."""
    return page.split('<main id="main"', 1)[1]


def state(appointment) -> tuple:
    appointment.refresh_from_db()
    return (
        appointment.status,
        appointment.confirmed_at,
        appointment.confirmed_via,
        appointment.cancelled_at,
    )


def assert_private(response) -> None:
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]


# ---------- GET never acts ----------


def test_the_confirm_page_shows_the_time_practitioner_and_place_and_one_button(
    booked,
):
    before = state(booked)

    response = browser().get(url_for(token_for(booked, ACTION_CONFIRM)))

    page = body(response)
    assert response.status_code == 200
    assert "Wednesday 4 March 2026, 09:00" in page
    assert booked.agenda.practitioner.display_name in page
    assert booked.agenda.practice.name in page
    assert "I'll be there" in page
    assert main_of(page).count("<button") == 1
    assert "canary-motive" not in page
    assert "canary-reason" not in page
    assert_private(response)
    assert state(booked) == before


def test_the_cancel_page_shows_one_cancel_button_and_cancels_nothing(booked):
    before = state(booked)

    response = browser().get(url_for(token_for(booked, ACTION_CANCEL)))

    assert response.status_code == 200
    assert "Cancel this appointment" in body(response)
    assert "canary-motive" not in body(response)
    assert state(booked) == before
    assert booked.status == Appointment.Status.BOOKED


# ---------- POST acts ----------


def test_pressing_i_will_be_there_confirms_by_link(booked, frozen_now):
    url = url_for(token_for(booked, ACTION_CONFIRM))

    response = press(browser(), url)

    assert response.status_code == 200
    assert "The practice knows that you will be there." in body(response)
    assert_private(response)
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED
    assert booked.confirmed_via == ConfirmedVia.LINK
    assert abs(booked.confirmed_at - frozen_now) < timedelta(seconds=5)


def test_confirming_twice_keeps_the_first_confirmation(booked):
    url = url_for(token_for(booked, ACTION_CONFIRM))
    client = browser()
    press(client, url)
    first = state(booked)

    again = press(client, url)

    assert again.status_code == 200
    assert "The practice knows that you will be there." in body(again)
    assert state(booked) == first


def test_the_confirm_page_of_a_confirmed_appointment_says_so_without_a_button(
    booked,
):
    url = url_for(token_for(booked, ACTION_CONFIRM))
    press(browser(), url)

    response = browser().get(url)

    assert "The practice knows that you will be there." in body(response)
    assert "<button" not in main_of(body(response))


def test_pressing_cancel_cancels_and_tells_the_outbox_and_the_waiting_list(
    booked, monkeypatch
):
    calls = []
    real_cancelled = booking_services.outbox.appointment_cancelled
    real_freed = booking_services.offers.slot_freed

    def cancelled(**kwargs):
        calls.append(("outbox", kwargs["appointment"].pk, kwargs["notify_patient"]))
        return real_cancelled(**kwargs)

    def freed(**kwargs):
        calls.append(("offers", kwargs["appointment"].pk, kwargs["starts_at"]))
        return real_freed(**kwargs)

    monkeypatch.setattr(booking_services.outbox, "appointment_cancelled", cancelled)
    monkeypatch.setattr(booking_services.offers, "slot_freed", freed)

    response = press(browser(), url_for(token_for(booked, ACTION_CANCEL)))

    assert response.status_code == 200
    assert "Your appointment is cancelled" in body(response)
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CANCELLED
    assert booked.cancelled_by_kind == Appointment.Actor.PATIENT
    assert calls == [
        ("outbox", booked.pk, True),
        ("offers", booked.pk, booked.starts_at),
    ]


def test_cancelling_a_cancelled_appointment_shows_it_cancelled_and_changes_nothing(
    booked,
):
    url = url_for(token_for(booked, ACTION_CANCEL))
    press(browser(), url)
    first = state(booked)

    again = press(browser(), url)

    assert again.status_code == 200
    assert "Your appointment is cancelled" in body(again)
    assert state(booked) == first


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(booked):
    before = state(booked)

    response = browser().post(url_for(token_for(booked, ACTION_CANCEL)))

    assert response.status_code == 403
    assert state(booked) == before


# ---------- Refusals ----------


def test_cancelling_after_the_cut_off_is_refused_with_the_practices_phone(booked):
    url = url_for(token_for(booked, ACTION_CANCEL))
    client = browser()
    page = client.get(url)
    # The practice lengthened the cut-off after the reminder left.
    booked.motive.cancellation_cutoff_hours = 72
    booked.motive.save(update_fields=["cancellation_cutoff_hours"])
    before = state(booked)

    response = client.post(url, {"csrfmiddlewaretoken": csrf_of(page)})

    assert response.status_code == 409
    assert "It is too late to cancel online" in body(response)
    assert "the limit is 72 hours before" in body(response)
    assert "01 45 67 89 00" in body(response)
    assert state(booked) == before


def test_the_cancel_page_past_the_cut_off_shows_the_phone_and_no_button(booked):
    with time_machine.travel(paris(2026, 3, 3, 10, 0), tick=False):
        # A token still valid (it was made to last until the start).
        response = browser().get(
            url_for(token_for(booked, ACTION_CANCEL, expires_at=booked.starts_at))
        )

    assert response.status_code == 409
    assert "01 45 67 89 00" in body(response)
    assert "<button" not in main_of(body(response))


def test_a_link_for_an_earlier_time_does_not_act_and_shows_the_current_time(
    booked, patient
):
    url = url_for(token_for(booked, ACTION_CONFIRM))
    client = browser()
    page = client.get(url)
    reschedule_appointment(
        user=patient.account,
        appointment_id=booked.pk,
        starts_at=paris(2026, 3, 5, 11, 0),
    )
    before = state(booked)

    response = client.post(url, {"csrfmiddlewaretoken": csrf_of(page)})

    assert response.status_code == 409
    assert "This link is for an earlier time of your appointment." in body(response)
    assert "Thursday 5 March 2026, 11:00" in body(response)
    assert state(booked) == before
    assert booked.confirmed_at is None


def test_a_stale_cancel_link_cancels_nothing(booked, patient):
    token = token_for(booked, ACTION_CANCEL)
    reschedule_appointment(
        user=patient.account,
        appointment_id=booked.pk,
        starts_at=paris(2026, 3, 5, 11, 0),
    )

    shown = browser().get(url_for(token))
    pressed = press(browser(), url_for(token))

    assert shown.status_code == pressed.status_code == 409
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED


def test_confirming_a_cancelled_appointment_is_refused(booked):
    press(browser(), url_for(token_for(booked, ACTION_CANCEL)))

    response = press(browser(), url_for(token_for(booked, ACTION_CONFIRM, version=0)))

    assert response.status_code == 409
    assert "already cancelled or closed" in body(response)
    booked.refresh_from_db()
    assert booked.confirmed_at is None


# ---------- Links that open nothing ----------


def test_a_tampered_token_gets_one_clear_page_with_404(booked):
    token = token_for(booked, ACTION_CANCEL)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")

    for url in (url_for(tampered), url_for("not-a-token"), url_for("x" * 300)):
        shown = browser().get(url)
        assert shown.status_code == 404
        assert "This link is not valid." in body(shown)
        assert_private(shown)
    posted = Client().post(url_for(tampered))
    assert posted.status_code == 404
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED


def test_a_token_for_an_appointment_that_does_not_exist_gets_the_same_page(db):
    from datetime import datetime

    token = make_action_token(
        appointment_ref=str(uuid.uuid4()),
        version=0,
        action=ACTION_CONFIRM,
        expires_at=datetime.now(PARIS) + timedelta(days=1),
    )

    response = browser().get(url_for(token))

    assert response.status_code == 404
    assert "This link is not valid." in body(response)


def test_an_expired_link_says_so_and_acts_on_nothing(booked):
    token = token_for(booked, ACTION_CANCEL, expires_at=paris(2026, 3, 3, 9, 0))

    with time_machine.travel(paris(2026, 3, 3, 9, 0), tick=False):
        shown = browser().get(url_for(token))
        posted = Client().post(url_for(token))

    assert shown.status_code == posted.status_code == 410
    assert "This link has expired." in body(shown)
    assert "01 45 67 89 00" in body(shown)
    assert_private(shown)
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED


def test_the_token_never_reaches_the_logs(booked, caplog):
    valid = token_for(booked, ACTION_CONFIRM)
    tampered = valid[:-1] + ("A" if valid[-1] != "A" else "B")

    with caplog.at_level(logging.DEBUG):
        browser().get(url_for(tampered))
        browser().get(url_for(valid))
        press(browser(), url_for(valid))

    assert valid not in caplog.text
    assert tampered not in caplog.text
