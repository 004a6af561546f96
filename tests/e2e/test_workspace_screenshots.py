"""The README's screenshots of the workspace, taken on a small practice by the tests.

Run with CARNET_UPDATE_SCREENSHOTS=1 (skipped otherwise): a practice of two
general practitioners in Paris on a weekday, with a morning of appointments in
several motives (one overbooked, one arrived, one seen), a lunch break, and the
practitioner's opening hours page with a draft rule previewed.
"""

import os
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.utils import timezone
from playwright.sync_api import expect

from carnet.accounts.models import StaffMembership
from carnet.accounts.tests.factories import PatientFactory, UserFactory
from carnet.booking.models import Appointment
from carnet.directory.tests.factories import PractitionerRoleFactory
from carnet.scheduling.tests.factories import (
    AbsenceFactory,
    AgendaFactory,
    MotiveFactory,
    OpeningRuleFactory,
)
from tests.e2e.demo import PASSWORD
from tests.e2e.staff import TOTP_SECRET, staff_login

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
pytestmark = pytest.mark.skipif(
    os.environ.get("CARNET_UPDATE_SCREENSHOTS") != "1",
    reason="set CARNET_UPDATE_SCREENSHOTS=1 to refresh the README's screenshots",
)

PATIENTS = [
    ("Anne", "Lefebvre"),
    ("Bruno", "Garnier"),
    ("Chloé", "Martin"),
    ("David", "Roux"),
    ("Emma", "Petit"),
    ("Farid", "Benali"),
    ("Gaëlle", "Morel"),
    ("Hugo", "Fontaine"),
]


def _next_weekday():
    day = timezone.now().astimezone(timezone.get_current_timezone()).date()
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@pytest.fixture
def practice(transactional_db, purge_audit_trail):
    first = AgendaFactory(time_zone="Europe/Paris")
    practice = first.practice
    practice.name = "Cabinet médical du Marais"
    practice.save(update_fields=["name"])
    second = AgendaFactory(
        time_zone="Europe/Paris",
        role=PractitionerRoleFactory(location=first.location),
    )
    for agenda, (first_name, last_name) in (
        (first, ("Claire", "Dubois")),
        (second, ("Marc", "Laurent")),
    ):
        practitioner = agenda.practitioner
        practitioner.first_name, practitioner.last_name = first_name, last_name
        practitioner.save(update_fields=["first_name", "last_name"])
        for weekday in range(5):
            OpeningRuleFactory(
                agenda=agenda, weekday=weekday, opens_time=time(8), closes_time=time(12)
            )
            OpeningRuleFactory(
                agenda=agenda,
                weekday=weekday,
                opens_time=time(14),
                closes_time=time(18),
            )
    motives = {
        agenda.pk: [
            MotiveFactory(agenda=agenda, name="Consultation", colour="#2E7D32"),
            MotiveFactory(
                agenda=agenda,
                name="Suivi",
                colour="#1565C0",
                duration_minutes=15,
                open_to_new_patients=False,
            ),
            MotiveFactory(
                agenda=agenda, name="Vaccination", colour="#EF6C00", duration_minutes=10
            ),
        ]
        for agenda in (first, second)
    }
    day = _next_weekday()
    zone = first.zone
    patients = [
        PatientFactory(first_name=first_name, last_name=last_name)
        for first_name, last_name in PATIENTS
    ]
    plan = [
        (first, 0, (8, 0), 0, {}),
        (first, 1, (8, 20), 1, {}),
        (first, 2, (8, 40), 0, {}),
        (first, 3, (9, 20), 2, {}),
        (first, 4, (9, 20), 0, {"is_overbooked": True}),
        (first, 5, (10, 0), 0, {}),
        (second, 6, (8, 0), 1, {}),
        (second, 7, (8, 30), 0, {}),
        (second, 0, (9, 0), 2, {}),
        (second, 2, (10, 20), 0, {}),
    ]
    for agenda, who, (hour, minute), which, extra in plan:
        motive = motives[agenda.pk][which]
        start = datetime.combine(day, time(hour, minute), tzinfo=zone)
        Appointment.objects.create(
            agenda=agenda,
            motive=motive,
            patient=patients[who],
            starts_at=start,
            ends_at=start + motive.duration,
            **extra,
        )
    AbsenceFactory(
        agenda=second,
        label="Formation",
        starts_at=datetime.combine(day, time(11), tzinfo=zone),
        ends_at=datetime.combine(day, time(12), tzinfo=zone),
    )
    users = {}
    for email, role, first_name in (
        ("accueil@example.test", StaffMembership.Role.SECRETARY, "Sophie"),
        ("dr.dubois@example.test", StaffMembership.Role.PRACTITIONER, "Claire"),
    ):
        user = UserFactory(
            email=email, first_name=first_name, password=PASSWORD, language="fr"
        )
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        StaffMembership.objects.create(user=user, practice=practice, role=role)
        TOTP.activate(user, TOTP_SECRET)
        users[role] = user
    return {"practice": practice, "first": first, "day": day}


def _shoot(page, name: str, *, top: str | None = None) -> None:
    page.wait_for_load_state("networkidle")
    if top:  # that element at the top of the screen
        page.locator(top).first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    assert (SCREENSHOTS / f"{name}.png").stat().st_size > 5_000


def test_take_the_workspace_screenshots(open_page, practice):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    day = practice["day"].isoformat()
    agenda = f"/pro/practices/{practice['practice'].pk}/agenda/?date={day}"

    desk = open_page(locale="fr-FR", viewport={"width": 1280, "height": 900})
    staff_login(desk, "accueil@example.test", agenda)
    desk.goto(agenda)  # without the "logged in" message
    _shoot(desk, "workspace-agenda")

    doctor = open_page(locale="fr-FR", viewport={"width": 1280, "height": 900})
    hours = f"/pro/settings/agendas/{practice['first'].pk}/hours/"
    staff_login(doctor, "dr.dubois@example.test", hours)
    form = doctor.locator("#rule-form")
    form.get_by_label("Semaine affichée", exact=False).fill(day)
    form.locator("select[name=weekday]").select_option("5")
    form.locator("input[name=opens]").fill("09:00")
    form.locator("input[name=closes]").fill("12:00")
    expect(doctor.locator("#rule-preview")).to_contain_text("nouveaux créneaux")
    doctor.locator("input[name=closes]").blur()
    _shoot(doctor, "workspace-opening-hours", top="#rule-form-title")
