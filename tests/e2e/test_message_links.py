"""The pages behind the links of our messages, in a real browser, from a real e-mail.

A patient books; the worker beside the live server sends the confirmation to
the loopback SMTP server; its "Cancel" link, opened in Chromium, shows one
button (nothing happens on the GET), which cancels with the keyboard alone.
The freed time is offered to the waiting list by e-mail, and that link books
it. Every page passes axe-core and fits a 360-pixel screen, with no CSP
violation.
"""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from carnet.accounts.models import Patient
from carnet.booking.models import Appointment, WaitingListEntry
from tests.e2e.demo import book, free_slots, goto, make_patient_user, navigate
from tests.e2e.staff import WIDTHS, page_problems

pytestmark = pytest.mark.django_db(transaction=True)


def _link(message, path: str) -> str:
    text = next(
        part.get_content()
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    )
    return urlsplit(re.search(rf"https?://\S+{path}[^\s/]+/", text).group(0)).path


def test_cancel_from_the_e_mail_and_the_waiting_patient_takes_the_time(
    open_page, demo, smtp, axe_source
):
    place = demo["paris_paediatrician"]
    camille = make_patient_user(email="camille@example.test")
    waiting = make_patient_user(email="zoe@example.test", first_name="Zoé")
    starts_at = free_slots(place.new)[3]
    appointment = book(camille, place.new, starts_at)
    WaitingListEntry.objects.create(
        patient=Patient.objects.get(account=waiting),
        agenda=place.agenda,
        motive=place.new,
        earliest_on=timezone.now().date(),
        latest_on=(timezone.now() + timedelta(days=30)).date(),
    )

    confirmation = smtp.wait_for(lambda m: m["To"] == "camille@example.test", 30)
    cancel_path = _link(confirmation, "/a/")
    page = open_page(locale="fr-FR", bypass_csp=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 760})
        goto(page, cancel_path)
        assert page_problems(page, axe_source, width) == []
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED  # GET never acts

    button = page.locator("main form[method=post] button[type=submit]")
    button.focus()
    navigate(page, lambda: page.keyboard.press("Enter"))
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert page_problems(page, axe_source, WIDTHS[-1]) == []

    offer = smtp.wait_for(lambda m: m["To"] == "zoe@example.test", 30)
    offer_path = _link(offer, "/offers/")
    zoe = open_page(locale="fr-FR", bypass_csp=True)
    for width in WIDTHS:
        zoe.set_viewport_size({"width": width, "height": 760})
        goto(zoe, offer_path)
        assert page_problems(zoe, axe_source, width) == []
    navigate(zoe, zoe.locator("main form[method=post] button").first.click)
    assert (
        Appointment.objects.get(patient__account=waiting, starts_at=starts_at).status
        == Appointment.Status.BOOKED
    )
    assert page_problems(zoe, axe_source, WIDTHS[-1]) == []
    for tab in (page, zoe):
        assert tab.problems.csp_violations == []
        assert tab.problems.page_errors == []
