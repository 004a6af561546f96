"""No-shows and the waiting list in a real browser: the patient's excuse, the practice's decision.

A patient with a missed appointment sees it in /me/ and sends an excuse; a
practitioner logs in with password and TOTP and accepts it on the practice's
no-show page; the strike stops counting. axe-core (from npm, injected by the
test into a context that bypasses the CSP for it alone) checks the /me/
no-show and waiting list pages and the staff no-show, waiting list and
"messages not delivered" pages and an appointment's page with its messages,
at 1100 px and 360 px: no serious or critical violation, nothing wider than
the screen.
"""

from datetime import time, timedelta
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from carnet.accounts.models import StaffMembership
from carnet.accounts.tests.factories import UserFactory
from carnet.booking.models import Appointment, Strike
from carnet.booking.policy import send_excuse
from carnet.booking.staff import mark_status
from carnet.booking.waitlist import join_waiting_list
from carnet.notifications.models import Message
from carnet.scheduling.tests.factories import (
    AgendaFactory,
    MotiveFactory,
    OpeningRuleFactory,
)
from tests.e2e.demo import PASSWORD, make_patient_user, navigate
from tests.e2e.staff import TOTP_SECRET, WIDTHS, page_problems, staff_login

pytestmark = pytest.mark.django_db(transaction=True)

EXCUSE = "Ma fille était aux urgences ce matin-là."


@pytest.fixture
def practice_world(transactional_db, purge_audit_trail):
    """A Paris practice (with a phone), a practitioner with TOTP, a patient with one no-show."""
    from allauth.mfa.totp.internal.auth import TOTP

    agenda = AgendaFactory(time_zone="Europe/Paris")
    for weekday in range(7):
        OpeningRuleFactory(
            agenda=agenda, weekday=weekday, opens_time=time(8), closes_time=time(18)
        )
    practice = agenda.practice
    practice.phone = "+33142868200"
    practice.save(update_fields=["phone"])
    motive = MotiveFactory(agenda=agenda, name="Consultation")
    practitioner = UserFactory(
        email="dr.durand@example.test",
        first_name="Paul",
        last_name="Durand",
        password=PASSWORD,
        language="en",
    )
    EmailAddress.objects.create(
        user=practitioner, email=practitioner.email, verified=True, primary=True
    )
    StaffMembership.objects.create(
        user=practitioner, practice=practice, role=StaffMembership.Role.PRACTITIONER
    )
    TOTP.activate(practitioner, TOTP_SECRET)
    user = make_patient_user(
        email="camille@example.test", language="en", with_relative=True
    )
    patient = user.patient
    starts_at = timezone.now() - timedelta(days=2)
    starts_at = starts_at.replace(second=0, microsecond=0)
    appointment = Appointment.objects.create(
        agenda=agenda,
        motive=motive,
        patient=patient,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=20),
    )
    mark_status(actor=practitioner, appointment_id=appointment.pk, status="noshow")
    today = timezone.now().astimezone(agenda.zone).date()
    join_waiting_list(
        user=user,
        patient_id=None,
        agenda_id=agenda.pk,
        motive_id=motive.pk,
        earliest_on=today + timedelta(days=1),
        latest_on=today + timedelta(days=20),
    )
    return {
        "agenda": agenda,
        "practice": practice,
        "motive": motive,
        "practitioner": practitioner,
        "user": user,
        "strike": Strike.objects.get(appointment=appointment),
    }


def patient_login(page, email: str, next_path: str) -> None:
    page.goto(f"/accounts/login/?next={next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    navigate(
        page, page.locator("form[action*='/accounts/login/'] [type=submit]").first.click
    )


def test_the_patient_sends_an_excuse_and_the_practitioner_accepts_it(
    open_page, practice_world
):
    world = practice_world
    strike = world["strike"]
    practice = world["practice"]

    patient = open_page(locale="en-GB")
    patient_login(patient, "camille@example.test", "/me/")
    navigate(
        patient, patient.get_by_role("link", name="Missed appointments").first.click
    )
    assert urlsplit(patient.url).path == "/me/no-shows/"
    card = patient.locator(f"#strike-{strike.pk}")
    expect(card).to_contain_text("Counts")
    expect(patient.locator("main")).to_contain_text(
        "1 missed appointment counts at this practice"
    )
    card.get_by_label("Your excuse for the practice").fill(EXCUSE)
    navigate(patient, card.get_by_role("button", name="Send the excuse").click)
    expect(patient.locator(f"#strike-{strike.pk}")).to_contain_text("Excuse sent")
    strike.refresh_from_db()
    assert strike.excuse_sent_at is not None
    assert patient.problems.csp_violations == []

    staff = open_page(locale="en-GB")
    no_shows = f"/pro/practices/{practice.pk}/no-shows/"
    staff_login(staff, "dr.durand@example.test", no_shows)
    excuse = staff.locator(f"#excuse-{strike.pk}")
    expect(excuse).to_contain_text(EXCUSE)
    expect(excuse).to_contain_text("Camille Martin")
    navigate(
        staff, excuse.get_by_role("button", name="Accept: remove the strike").click
    )
    expect(staff.locator("main")).to_contain_text(
        "The missed appointment no longer counts."
    )
    expect(staff.locator(f"#excuse-{strike.pk}")).to_have_count(0)
    strike.refresh_from_db()
    assert strike.excused_at is not None
    assert staff.problems.csp_violations == []
    assert staff.problems.page_errors == []

    patient.reload()
    expect(patient.locator(f"#strike-{strike.pk}")).to_contain_text("Excuse accepted")
    expect(patient.locator("main")).to_contain_text(
        "Online booking at this practice is open."
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_the_pages_pass_axe_and_fit_the_screen(
    browser, live_server, practice_world, axe_source, width
):
    world = practice_world
    strike = world["strike"]
    send_excuse(user=world["user"], strike_id=strike.pk, text=EXCUSE)
    # A second, fresh strike keeps an excuse form on the patient's page.
    second = Appointment.objects.create(
        agenda=world["agenda"],
        motive=world["motive"],
        patient=world["user"].patient,
        starts_at=strike.appointment.starts_at - timedelta(days=7),
        ends_at=strike.appointment.ends_at - timedelta(days=7),
    )
    mark_status(actor=world["practitioner"], appointment_id=second.pk, status="noshow")
    practice_id = world["practice"].pk
    # An upcoming visit the patient confirmed by SMS, whose e-mail failed: the
    # appointment page lists its messages, the practice's page the failure.
    upcoming = Appointment.objects.create(
        agenda=world["agenda"],
        motive=world["motive"],
        patient=world["user"].patient,
        starts_at=strike.appointment.starts_at + timedelta(days=9),
        ends_at=strike.appointment.ends_at + timedelta(days=9),
        confirmed_at=timezone.now(),
        confirmed_via="sms",
    )
    for channel, status in (("email", "failed"), ("sms", "delivered")):
        Message.objects.create(
            key=f"appointment:{upcoming.vault_row}:0:reminder:{channel}:48h",
            kind="reminder",
            channel=channel,
            patient=upcoming.patient,
            appointment=upcoming,
            practice=world["practice"],
            due_at=timezone.now(),
            next_attempt_at=timezone.now(),
            status=status,
            attempts=6 if status == "failed" else 1,
            error_code="smtp:550" if status == "failed" else "",
            failed_at=timezone.now() if status == "failed" else None,
            sent_at=None if status == "failed" else timezone.now(),
            delivered_at=None if status == "failed" else timezone.now(),
        )
    viewport = {"width": width, "height": 800}
    found: dict[str, list[str]] = {}

    def audit(login, email: str, paths: list[str]) -> None:
        context = browser.new_context(
            base_url=live_server.url,
            viewport=viewport,
            locale="fr-FR",
            bypass_csp=True,
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        login(page, email, paths[0])
        for path in paths:
            if urlsplit(page.url).path != path:
                navigate(page, lambda path=path: page.goto(path))
            expect(page.locator("h1")).to_have_count(1)
            problems = page_problems(page, axe_source, width)
            if problems:
                found[path] = problems
        context.close()

    audit(
        patient_login,
        "camille@example.test",
        [
            "/me/no-shows/",
            "/me/waiting-list/",
            f"/me/waiting-list/join/{world['agenda'].pk}/?motive={world['motive'].pk}",
        ],
    )
    audit(
        staff_login,
        "dr.durand@example.test",
        [
            f"/pro/practices/{practice_id}/no-shows/",
            f"/pro/practices/{practice_id}/waiting-list/",
            f"/pro/practices/{practice_id}/messages/",
            reverse("pro:appointment-detail", args=[upcoming.pk]),
        ],
    )

    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())
