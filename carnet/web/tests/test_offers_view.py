"""The waiting-list offer's page (/offers/<token>/): GET shows, POST books or declines."""

from datetime import date, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from carnet.accounts.tests.factories import PatientFactory
from carnet.booking import offers
from carnet.booking.models import Appointment, WaitingListEntry, WaitlistOffer
from carnet.booking.services import book_appointment, cancel_appointment
from carnet.booking.tests.conftest import paris
from carnet.booking.waitlist import join_waiting_list
from carnet.notifications import outbox
from carnet.scheduling.tests.factories import MotiveFactory
from conftest import NOW

pytestmark = pytest.mark.django_db

Offer = WaitlistOffer.Status
SLOT = paris(2026, 3, 3, 10, 0)  # Tuesday, 27 hours ahead of NOW
MOTIVE_NAME = "canary-motive Dépistage"


def client() -> Client:
    browser = Client()
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return browser


def text(response) -> str:
    return response.content.decode()


def assert_private(response) -> None:
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Robots-Tag"] == "noindex, nofollow"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def waiting(clock, agenda, monkeypatch):
    """Bruno then Chloé wait; Anne cancels SLOT: Bruno holds the offer. Returns it."""
    monkeypatch.setattr(outbox, "offer_made", lambda *, offer, now: None)
    motive = MotiveFactory(agenda=agenda, name=MOTIVE_NAME)
    anne, bruno, chloe = PatientFactory(), PatientFactory(), PatientFactory()
    appointment = book_appointment(
        agenda_id=agenda.pk,
        motive_id=motive.pk,
        patient=anne,
        starts_at=SLOT,
        booked_by=anne.account,
    )
    for patient in (bruno, chloe):
        join_waiting_list(
            user=patient.account,
            patient_id=None,
            agenda_id=agenda.pk,
            motive_id=motive.pk,
            earliest_on=date(2026, 3, 2),
            latest_on=date(2026, 3, 20),
        )
    cancel_appointment(user=anne.account, appointment_id=appointment.pk)
    return WaitlistOffer.objects.get(status=Offer.OFFERED)


def url(offer) -> str:
    return offers.offer_url_path(offer)


def test_get_shows_the_offer_and_never_acts(waiting, agenda):
    response = client().get(url(waiting))

    assert response.status_code == 200
    page = text(response)
    assert "A time has become free for you" in page
    assert agenda.practitioner.display_name in page
    assert agenda.location.city in page
    assert "Tuesday 3 March 2026" in page or "3 March 2026" in page
    assert "10:00" in page
    assert "kept for you until 07:15" in page  # 06:15 UTC, in Paris
    assert "Book this time" in page
    assert "No thanks" in page
    assert 'name="action" value="accept"' in page
    assert 'name="action" value="decline"' in page
    assert MOTIVE_NAME not in page
    assert_private(response)
    waiting.refresh_from_db()
    assert waiting.status == Offer.OFFERED
    assert not Appointment.objects.filter(status=Appointment.Status.BOOKED).exists()


def test_get_tells_of_the_later_appointment_that_booking_would_cancel(
    clock, agenda, monkeypatch
):
    monkeypatch.setattr(outbox, "offer_made", lambda *, offer, now: None)
    motive = MotiveFactory(agenda=agenda)
    anne, bruno = PatientFactory(), PatientFactory()
    freed = book_appointment(
        agenda_id=agenda.pk,
        motive_id=motive.pk,
        patient=anne,
        starts_at=SLOT,
        booked_by=anne.account,
    )
    book_appointment(
        agenda_id=agenda.pk,
        motive_id=motive.pk,
        patient=bruno,
        starts_at=paris(2026, 3, 12, 15, 0),
        booked_by=bruno.account,
    )
    join_waiting_list(
        user=bruno.account,
        patient_id=None,
        agenda_id=agenda.pk,
        motive_id=motive.pk,
        earliest_on=date(2026, 3, 2),
        latest_on=date(2026, 3, 11),
    )
    cancel_appointment(user=anne.account, appointment_id=freed.pk)
    offer = WaitlistOffer.objects.get(status=Offer.OFFERED)

    page = text(client().get(url(offer)))

    assert "your appointment on" in page
    assert "15:00" in page


def test_post_accept_books_and_links_to_the_appointment(waiting):
    response = client().post(url(waiting), {"action": "accept"})

    assert response.status_code == 200
    waiting.refresh_from_db()
    assert waiting.status == Offer.ACCEPTED
    page = text(response)
    assert "Your appointment is booked" in page
    assert f"/me/appointments/{waiting.appointment_id}/" in page
    assert MOTIVE_NAME not in page
    assert_private(response)

    again = client().post(url(waiting), {"action": "accept"})
    shown = client().get(url(waiting))

    assert again.status_code == shown.status_code == 200
    assert "Your appointment is booked" in text(again)
    assert "Your appointment is booked" in text(shown)
    assert Appointment.objects.filter(status=Appointment.Status.BOOKED).count() == 1


def test_post_decline_passes_the_offer_on(waiting):
    response = client().post(url(waiting), {"action": "decline"})

    assert response.status_code == 200
    assert "You declined this time" in text(response)
    waiting.refresh_from_db()
    assert waiting.status == Offer.DECLINED
    assert waiting.entry.status == WaitingListEntry.Status.ACTIVE
    assert WaitlistOffer.objects.get(status=Offer.OFFERED).entry != waiting.entry


def test_after_the_hold_time_a_clear_page_and_nothing_booked(waiting, clock):
    clock.shift(timedelta(minutes=15))

    shown = client().get(url(waiting))
    answered = client().post(url(waiting), {"action": "accept"})

    assert shown.status_code == answered.status_code == 410
    assert "This offer is no longer available" in text(shown)
    assert "This offer has expired" in text(answered)
    assert "Book this time" not in text(answered)
    assert_private(answered)
    assert not Appointment.objects.filter(status=Appointment.Status.BOOKED).exists()
    waiting.refresh_from_db()
    assert waiting.status == Offer.EXPIRED


def test_a_slot_taken_meanwhile_is_a_clear_answer(waiting, agenda):
    Appointment.objects.create(
        agenda=agenda,
        motive=waiting.motive,
        patient=PatientFactory(),
        starts_at=SLOT,
        ends_at=SLOT + timedelta(minutes=20),
        booked_by_kind=Appointment.Actor.STAFF,
        is_overbooked=True,
    )

    response = client().post(url(waiting), {"action": "accept"})

    assert response.status_code == 409
    assert "This time has just been taken" in text(response)
    waiting.refresh_from_db()
    assert waiting.status == Offer.WITHDRAWN


def test_a_post_without_a_known_action_changes_nothing(waiting):
    response = client().post(url(waiting), {"action": "maybe"})

    assert response.status_code == 400
    assert "Book this time" in text(response)
    waiting.refresh_from_db()
    assert waiting.status == Offer.OFFERED


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("token", ["nonsense", "A" * 34 + "." + "B" * 43, "x" * 300])
def test_a_bad_link_is_a_clear_not_found_page(waiting, method, token):
    response = getattr(client(), method)(f"/offers/{token}/", {"action": "accept"})

    assert response.status_code == 404
    assert "This link cannot be used" in text(response)
    assert "This offer does not exist" in text(response)
    assert_private(response)
    waiting.refresh_from_db()
    assert waiting.status == Offer.OFFERED
