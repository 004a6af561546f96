"""The practice settings in a real browser: opening hours edited with a live preview.

A practitioner logs in with password and TOTP, adds Saturday morning to the
agenda's opening hours, sees the preview (htmx, before anything is saved)
show the new Saturday slots, saves, and the public practitioner page then
offers those slots to patients. axe-core (from npm, injected into a context
that bypasses the CSP for it alone) checks every settings page at 1100 px
and 360 px: no serious or critical violation, nothing wider than the screen.
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
from carnet.scheduling.feeds import create_feed
from carnet.scheduling.models import OpeningRule
from carnet.scheduling.tests.factories import (
    AbsenceFactory,
    AgendaFactory,
    MotiveFactory,
    OpeningRuleFactory,
)
from tests.e2e.demo import PASSWORD, navigate
from tests.e2e.staff import TOTP_SECRET, WIDTHS, page_problems, staff_login

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "dr.garnier@example.test"


@pytest.fixture
def practice(transactional_db, purge_audit_trail):
    """A Paris agenda open Monday to Friday 08:00–12:00, one motive, a practitioner with TOTP."""
    from allauth.mfa.totp.internal.auth import TOTP

    agenda = AgendaFactory(time_zone="Europe/Paris")
    for weekday in range(5):
        OpeningRuleFactory(
            agenda=agenda, weekday=weekday, opens_time=time(8), closes_time=time(12)
        )
    motive = MotiveFactory(
        agenda=agenda, name="Consultation", duration_minutes=20, horizon_days=60
    )
    user = UserFactory(
        email=EMAIL,
        first_name="Bruno",
        last_name="Garnier",
        password=PASSWORD,
        language="en",
    )
    EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
    StaffMembership.objects.create(
        user=user, practice=agenda.practice, role=StaffMembership.Role.PRACTITIONER
    )
    TOTP.activate(user, TOTP_SECRET)
    today = timezone.now().astimezone(agenda.zone).date()
    next_monday = today + timedelta(days=7 - today.weekday())
    return {
        "agenda": agenda,
        "motive": motive,
        "user": user,
        "week": next_monday,
        "saturday": next_monday + timedelta(days=5),
    }


def public_saturday(page, world) -> object:
    """The public week picker's Saturday column for the coming week."""
    agenda, motive, week = world["agenda"], world["motive"], world["week"]
    path = reverse("web:practitioner", args=[agenda.practitioner_id])
    navigate(page, lambda: page.goto(f"{path}?known=0&motive={motive.pk}&week={week}"))
    days = page.locator(".week-picker__day")
    expect(days).to_have_count(7)
    return days.nth(5)


def test_the_practitioner_adds_saturday_morning_and_patients_see_it(
    open_page, practice
):
    world = practice
    agenda = world["agenda"]
    saturday = world["saturday"]

    patient = open_page(locale="en-GB")
    expect(public_saturday(patient, world).locator("button.slot")).to_have_count(0)

    staff = open_page(locale="en-GB")
    hours = reverse("pro:settings-hours", kwargs={"agenda_id": agenda.pk})
    staff_login(staff, EMAIL, hours)
    expect(staff.locator("h1")).to_contain_text("Opening hours")
    preview = staff.locator("#rule-preview")
    expect(preview).to_contain_text("The slots the saved hours offer.")
    preview_saturday = preview.locator(f'[data-day="{saturday.isoformat()}"]')
    expect(preview_saturday.locator(".preview-slot")).to_have_count(0)

    form = staff.locator("#rule-form")
    form.get_by_label("Week shown in the preview").fill(world["week"].isoformat())
    form.get_by_label("Day of the week").select_option(label="Saturday")
    form.get_by_label("Opens at").fill("09:00")
    form.get_by_label("Closes at").fill("12:00")

    # The preview follows the form before anything is saved: nine new 20-minute slots.
    expect(preview).to_contain_text("9 new slots")
    new_slots = preview_saturday.locator(".preview-slot--new")
    expect(new_slots).to_have_count(9)
    expect(new_slots.first).to_contain_text("09:00")
    expect(new_slots.last).to_contain_text("11:40")
    assert not OpeningRule.objects.filter(agenda=agenda, weekday=5).exists()

    # Shorter hours: the preview follows again.
    form.get_by_label("Closes at").fill("10:00")
    expect(preview).to_contain_text("3 new slots")
    expect(preview_saturday.locator(".preview-slot--new")).to_have_count(3)
    assert not OpeningRule.objects.filter(agenda=agenda, weekday=5).exists()

    form.get_by_label("Closes at").fill("12:00")
    expect(preview).to_contain_text("9 new slots")
    navigate(staff, form.get_by_role("button", name="Add these hours").click)
    expect(staff.locator(".messages")).to_contain_text("The opening hours are saved.")
    expect(staff.locator("table")).to_contain_text("09:00–12:00")
    rule = OpeningRule.objects.get(agenda=agenda, weekday=5)
    assert (rule.opens_time, rule.closes_time) == (time(9), time(12))
    assert staff.problems.csp_violations == []
    assert staff.problems.page_errors == []

    # The public page now offers Saturday morning.
    slots = public_saturday(patient, world).locator("button.slot")
    expect(slots).to_have_count(9)
    expect(slots.first).to_contain_text("09:00")
    expect(slots.last).to_contain_text("11:40")


def test_changing_tuesday_hours_removes_the_late_slots_publicly(open_page, practice):
    world = practice
    agenda = world["agenda"]
    tuesday = world["week"] + timedelta(days=1)
    rule = OpeningRule.objects.get(agenda=agenda, weekday=1)

    staff = open_page(locale="en-GB")
    edit = reverse("pro:rule-edit", kwargs={"rule_id": rule.pk})
    staff_login(staff, EMAIL, edit)
    form = staff.locator("#rule-form")
    form.get_by_label("Week shown in the preview").fill(world["week"].isoformat())
    form.get_by_label("Closes at").fill("11:00")
    preview = staff.locator("#rule-preview")
    expect(preview).to_contain_text("3 slots fewer")
    day = preview.locator(f'[data-day="{tuesday.isoformat()}"]')
    expect(day.locator(".preview-slot").last).to_contain_text("10:40")
    rule.refresh_from_db()
    assert rule.closes_time == time(12)
    navigate(staff, form.get_by_role("button", name="Save the changes").click)
    rule.refresh_from_db()
    assert rule.closes_time == time(11)

    patient = open_page(locale="en-GB")
    path = reverse("web:practitioner", args=[agenda.practitioner_id])
    navigate(
        patient,
        lambda: patient.goto(
            f"{path}?known=0&motive={world['motive'].pk}&week={world['week']}"
        ),
    )
    column = patient.locator(".week-picker__day").nth(1)
    expect(column.locator("button.slot").last).to_contain_text("10:40")
    expect(column.locator("button.slot", has_text="11:00")).to_have_count(0)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_settings_pages_pass_axe_and_fit_the_screen(
    browser, live_server, practice, axe_source, width
):
    world = practice
    agenda, motive, user = world["agenda"], world["motive"], world["user"]
    AbsenceFactory(
        agenda=agenda,
        starts_at=timezone.now() + timedelta(days=20),
        ends_at=timezone.now() + timedelta(days=21),
        label="Formation",
    )
    create_feed(actor=user, agenda_id=agenda.pk, name="Téléphone")
    rule = OpeningRule.objects.filter(agenda=agenda).first()
    paths = [
        reverse("pro:settings", kwargs={"practice_id": agenda.practice_id}),
        reverse("pro:settings-hours", kwargs={"agenda_id": agenda.pk}),
        reverse("pro:rule-edit", kwargs={"rule_id": rule.pk}),
        reverse("pro:settings-motives", kwargs={"agenda_id": agenda.pk}),
        reverse("pro:motive-create", kwargs={"agenda_id": agenda.pk}),
        reverse("pro:motive-edit", kwargs={"motive_id": motive.pk}),
        reverse("pro:settings-absences", kwargs={"agenda_id": agenda.pk}),
        reverse("pro:settings-holidays", kwargs={"agenda_id": agenda.pk}),
        reverse("pro:settings-feeds", kwargs={"agenda_id": agenda.pk}),
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

    staff_login(page, EMAIL, paths[0])
    for path in paths:
        if urlsplit(page.url).path != path:
            navigate(page, lambda path=path: page.goto(path))
        audit(path)

    # States reached by a form: the preview after a change, errors, the new feed's URL.
    navigate(page, lambda: page.goto(paths[1]))
    form = page.locator("#rule-form")
    form.locator("select[name=weekday]").select_option("5")
    form.locator("input[name=opens]").fill("09:00")
    form.locator("input[name=closes]").fill("12:00")
    expect(page.locator("#rule-preview .preview-slot--new").first).to_be_visible()
    audit("hours, preview of a draft")
    form.locator("input[name=closes]").fill("08:00")
    navigate(page, form.locator("button[type=submit]").first.click, status=400)
    audit("hours, refused")
    navigate(page, lambda: page.goto(paths[8]))
    navigate(page, page.locator("main form button[type=submit]").last.click)
    expect(page.locator("#feed-url")).to_contain_text("/pro/feeds/cal_")
    audit("feeds, new link")
    navigate(page, lambda: page.goto(paths[6]))
    starts = timezone.now().date() + timedelta(days=40)
    page.locator("input[name=starts]").fill(f"{starts.isoformat()}T08:00")
    page.locator("input[name=ends]").fill(f"{starts.isoformat()}T12:00")
    navigate(page, page.locator("main form button[type=submit]").last.click)
    audit("absences, added")
    context.close()

    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())
