"""The team and the patient file in a real browser, with a real SMTP server on loopback.

A practice administrator logs in with password and TOTP and invites a
secretary; the invitation e-mail reaches the loopback SMTP server; the
invitee (an ordinary account, no second factor yet) opens its link, logs in,
joins and is sent to the two-factor setup. axe-core (from npm, injected into a
context that bypasses the CSP for it alone) checks the team page and the
patient file pages at 1100 px and 360 px: no serious or critical violation,
nothing wider than the screen.
"""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from carnet.accounts.models import StaffMembership
from carnet.accounts.team import (
    invite_member,
)
from carnet.accounts.tests.factories import PatientFactory, RelativeFactory, UserFactory
from carnet.booking.models import Appointment
from carnet.records.services import add_flag, edit_note, write_note
from carnet.scheduling.tests.factories import AgendaFactory, MotiveFactory
from tests.e2e.demo import PASSWORD, navigate
from tests.e2e.staff import TOTP_SECRET, WIDTHS, page_problems, staff_login

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN_EMAIL = "dr.garnier@example.test"
INVITEE_EMAIL = "sam.desk@example.test"


def _user(email: str, **fields):
    user = UserFactory(email=email, password=PASSWORD, language="en", **fields)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.fixture
def world(transactional_db, purge_audit_trail):
    """A practice whose administrator is also its practitioner, a patient with a full file."""
    from allauth.mfa.totp.internal.auth import TOTP

    agenda = AgendaFactory(time_zone="Europe/Paris")
    practice = agenda.practice
    admin = _user(ADMIN_EMAIL, first_name="Bruno", last_name="Garnier")
    for role in (
        StaffMembership.Role.PRACTITIONER,
        StaffMembership.Role.PRACTICE_ADMIN,
    ):
        StaffMembership.objects.create(user=admin, practice=practice, role=role)
    TOTP.activate(admin, TOTP_SECRET)
    colleague = _user("claire.desk@example.test", first_name="Claire", last_name="Desk")
    StaffMembership.objects.create(
        user=colleague, practice=practice, role=StaffMembership.Role.SECRETARY
    )
    patient = PatientFactory(first_name="Anne", last_name="Lefebvre")
    patient.phone = "+33612345678"
    patient.email = "anne.lefebvre@example.test"
    patient.address = "12 rue des Lilas\n75011 Paris"
    patient.save()
    RelativeFactory(managed_by=patient, first_name="Léo")
    motive = MotiveFactory(agenda=agenda, name="Consultation")
    starts = timezone.now() - timedelta(days=3)
    appointment = Appointment.objects.create(
        agenda=agenda,
        patient=patient,
        motive=motive,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=20),
        status=Appointment.Status.FULFILLED,
    )
    Appointment.objects.create(
        agenda=AgendaFactory(practice=practice, time_zone="Europe/Paris"),
        patient=patient,
        motive=motive,
        starts_at=starts + timedelta(days=10),
        ends_at=starts + timedelta(days=10, minutes=30),
    )
    note = write_note(
        actor=admin,
        practice_id=practice.pk,
        patient_id=patient.pk,
        text="Angine, amoxicilline 7 jours.",
        appointment_id=appointment.pk,
    )
    edit_note(
        actor=admin,
        practice_id=practice.pk,
        note_id=note.pk,
        text="Angine bactérienne, amoxicilline 7 jours.",
    )
    for kind, label in (("allergy", "Pénicilline"), ("interpreter", "Italien")):
        add_flag(
            actor=admin,
            practice_id=practice.pk,
            patient_id=patient.pk,
            kind=kind,
            label=label,
        )
    invite_member(
        actor=admin,
        practice_id=practice.pk,
        email="pending@example.test",
        role=StaffMembership.Role.PRACTITIONER,
    )
    stranger = PatientFactory(first_name="Gaspard", last_name="Inconnu")
    return {
        "practice": practice,
        "admin": admin,
        "patient": patient,
        "note": note,
        "stranger": stranger,
    }


def test_an_invitation_goes_by_email_and_the_invitee_joins(
    open_page, world, smtp, settings, live_server
):
    settings.CARNET_SITE_URL = live_server.url
    invitee = _user(INVITEE_EMAIL, first_name="Sam", last_name="Desk")
    practice = world["practice"]
    team = reverse("pro:team", kwargs={"practice_id": practice.pk})

    admin = open_page(locale="en-GB")
    staff_login(admin, ADMIN_EMAIL, team)
    expect(admin.locator("h1")).to_have_text("Team")
    admin.get_by_label("E-mail address").fill(INVITEE_EMAIL)
    admin.get_by_label("Role", exact=True).select_option("secretary")
    navigate(admin, admin.get_by_role("button", name="Send the invitation").click)
    expect(admin.locator(".messages")).to_contain_text(
        f"Invitation sent to {INVITEE_EMAIL}."
    )
    expect(admin.locator(".team-card", has_text=INVITEE_EMAIL)).to_contain_text(
        "Waiting for an answer"
    )

    message = smtp.wait_for(lambda m: m["To"] == INVITEE_EMAIL)
    assert practice.name in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://\S+/pro/join/\?token=[\w\-]+", text).group(0)
    assert link.startswith(live_server.url)

    page = open_page(locale="en-GB")
    page.goto(link)
    assert urlsplit(page.url).path == "/accounts/login/"
    page.fill("input[name=login]", INVITEE_EMAIL)
    page.fill("input[name=password]", PASSWORD)
    navigate(
        page, page.locator("form[action*='/accounts/login/'] [type=submit]").first.click
    )
    assert urlsplit(page.url).path == "/pro/join/"
    assert "token" not in page.url
    expect(page.locator("main")).to_contain_text(practice.name)
    expect(page.locator("main")).to_contain_text("set up two-factor authentication")
    navigate(page, page.get_by_role("button", name="Join the team").click)
    assert urlsplit(page.url).path == reverse("mfa_index")
    expect(page.locator(".messages")).to_contain_text("You joined the team of")
    assert StaffMembership.objects.filter(
        user=invitee, practice=practice, role=StaffMembership.Role.SECRETARY
    ).exists()
    assert not page.problems.csp_violations


@pytest.mark.parametrize("width", WIDTHS)
def test_the_team_and_patient_pages_pass_axe_and_fit_the_screen(
    browser, live_server, world, axe_source, width
):
    practice, patient = world["practice"], world["patient"]
    file_kwargs = {"practice_id": practice.pk, "patient_id": patient.pk}
    team = reverse("pro:team", kwargs={"practice_id": practice.pk})
    paths = [
        team,
        reverse("pro:patients", kwargs={"practice_id": practice.pk}),
        reverse("pro:patients", kwargs={"practice_id": practice.pk}) + "?q=lef",
        reverse("pro:patient-detail", kwargs=file_kwargs),
        reverse(
            "pro:patient-note", kwargs={**file_kwargs, "note_id": world["note"].pk}
        ),
        reverse(
            "pro:patient-detail",
            kwargs={"practice_id": practice.pk, "patient_id": world["stranger"].pk},
        ),
    ]
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": 800},
        locale="fr-FR",
        bypass_csp=True,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    found: dict[str, list[str]] = {}

    def audit(label: str) -> None:
        expect(page.locator("h1")).to_have_count(1)
        problems = page_problems(page, axe_source, width)
        if problems:
            found[label] = problems

    staff_login(page, ADMIN_EMAIL, team)
    for path in paths:
        if page.url.removeprefix(live_server.url) != path:
            navigate(page, lambda path=path: page.goto(path))
        audit(path)

    # States reached by a form: the file with its forms open and in error,
    # a refused invitation, the file opened by break-glass.
    navigate(page, lambda: page.goto(paths[3]))
    page.locator("details.patient-file__add summary").first.click()
    navigate(
        page,
        page.locator("form[action$='/flags/'] button[type=submit]").click,
        status=400,
    )
    audit("flag form in error")
    navigate(page, lambda: page.goto(team))
    page.locator("input[name=email]").fill("not-an-address")
    navigate(
        page,
        page.locator("form[action$='/team/invite/'] button[type=submit]").click,
        status=400,
    )
    audit("invitation in error")
    navigate(page, lambda: page.goto(paths[5]))
    page.locator("textarea[name=reason]").fill("Appel du SAMU")
    navigate(page, page.locator("main form button[type=submit]").click)
    expect(page.locator("main")).to_contain_text("Gaspard")
    audit("break-glass file")

    context.close()
    assert found == {}, "\n".join(f"{k}:\n    {v}" for k, v in found.items())
