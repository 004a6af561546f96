"""The practice's agenda in a real browser: a secretary books by phone, drags, marks a no-show.

A secretary logs in with password and TOTP, opens the agenda, clicks a free
time, finds a caller by phone and books them; registers a new caller and books
them; drags an appointment to another time (HTML5 drag and drop, the drop posts
the Move form); marks a past appointment as a no-show, which counts a strike.
axe-core (from npm, injected into a context that bypasses the CSP for it alone)
checks the agenda and the booking form at 1100 px and 360 px; the booking form
and the Move page work with the keyboard alone; no request leaves the origin.
The clock is not frozen: every time is computed from now.
"""

from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone
from playwright.sync_api import expect

from carnet.accounts.models import Patient, StaffMembership
from carnet.accounts.tests.factories import PatientFactory, UserFactory
from carnet.booking.models import Appointment, AppointmentChange, Strike
from carnet.scheduling.tests.factories import (
    AgendaFactory,
    MotiveFactory,
    OpeningRuleFactory,
)
from carnet.vault.services import blind_index
from tests.e2e.demo import PASSWORD, navigate
from tests.e2e.staff import AXE_RUN, OVERFLOWING, TOTP_SECRET, WIDTHS, staff_login

pytestmark = pytest.mark.django_db(transaction=True)


def utc_iso(instant: datetime) -> str:
    from datetime import UTC

    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def office(transactional_db, purge_audit_trail):
    """A Paris practice open 07:00–20:00 daily, a secretary with TOTP, a known patient."""
    from allauth.mfa.totp.internal.auth import TOTP

    agenda = AgendaFactory(time_zone="Europe/Paris")
    for weekday in range(7):
        OpeningRuleFactory(
            agenda=agenda, weekday=weekday, opens_time=time(7), closes_time=time(20)
        )
    motive = MotiveFactory(
        agenda=agenda, name="Consultation", duration_minutes=30, colour="#2E7D32"
    )
    secretary = UserFactory(
        email="accueil@example.test",
        first_name="Sophie",
        last_name="Accueil",
        password=PASSWORD,
        language="en",
    )
    EmailAddress.objects.create(
        user=secretary, email=secretary.email, verified=True, primary=True
    )
    StaffMembership.objects.create(
        user=secretary, practice=agenda.practice, role=StaffMembership.Role.SECRETARY
    )
    TOTP.activate(secretary, TOTP_SECRET)
    anne = PatientFactory(first_name="Anne", last_name="Lefebvre")
    anne.phone = "+33612345678"
    anne.phone_index = blind_index(kind="phone", value=anne.phone)
    anne.save()
    zone = agenda.zone
    now = timezone.now()
    today = now.astimezone(zone).date()
    tomorrow = today + timedelta(days=1)
    # A visit that started an hour ago (or more): the no-show to mark.
    past_start = (now - timedelta(minutes=70)).replace(second=0, microsecond=0)
    past_start -= timedelta(minutes=past_start.minute % 5)
    missed = Appointment.objects.create(
        agenda=agenda,
        motive=motive,
        patient=anne,
        starts_at=past_start,
        ends_at=past_start + timedelta(minutes=30),
    )
    return {
        "agenda": agenda,
        "practice": agenda.practice,
        "motive": motive,
        "secretary": secretary,
        "anne": anne,
        "missed": missed,
        "tomorrow": tomorrow,
        "at": lambda day, hour: datetime.combine(day, time(hour), tzinfo=zone),
    }


def agenda_path(office, day: date) -> str:
    return f"/pro/practices/{office['practice'].pk}/agenda/?date={day.isoformat()}"


def cell(page, instant: datetime):
    return page.locator(f"[data-drop][data-starts-at='{utc_iso(instant)}']")


def test_a_secretary_books_by_phone_moves_by_drag_and_drop_and_marks_a_no_show(
    open_page, office, live_server
):
    tomorrow, at = office["tomorrow"], office["at"]
    # Tall enough for the whole day: the drag starts and ends on screen.
    page = open_page(locale="en-GB", viewport={"width": 1100, "height": 2000})
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    staff_login(page, "accueil@example.test", agenda_path(office, tomorrow))
    expect(page.locator("h1")).to_contain_text("Agenda of")

    # 1. A caller known by phone: click the free 10:00, search, book.
    navigate(page, cell(page, at(tomorrow, 10)).click)
    assert urlsplit(page.url).path.endswith("/agenda/book/")
    expect(page.get_by_label("Time", exact=True)).to_have_value("10:00")
    page.locator("input[name=find-phone]").fill("06 12 34 56 78")
    navigate(page, page.get_by_role("button", name="Search").click)
    expect(page.get_by_role("status").filter(has_text="found")).to_have_text(
        "1 patient found."
    )
    expect(page.get_by_label("Anne Lefebvre")).to_be_checked()
    navigate(page, page.get_by_role("button", name="Book", exact=True).click)
    expect(page.locator(".alert--success")).to_contain_text(
        "Appointment booked at 10:00"
    )
    booked = Appointment.objects.get(patient=office["anne"], starts_at=at(tomorrow, 10))
    assert booked.booked_by_kind == Appointment.Actor.STAFF
    expect(page.locator(f"a[data-appointment='{booked.pk}']")).to_contain_text(
        "Anne Lefebvre"
    )

    # 2. A new caller: click 11:00, register them, book.
    navigate(page, cell(page, at(tomorrow, 11)).click)
    navigate(page, page.get_by_role("link", name="New patient").click)
    page.get_by_label("First name", exact=True).fill("Chloé")
    page.get_by_label("Last name", exact=True).fill("Martin")
    page.get_by_label("Date of birth", exact=True).fill("1991-07-04")
    page.locator("input[name=phone]").fill("06 11 22 33 44")
    navigate(page, page.get_by_role("button", name="Register the patient").click)
    expect(page.get_by_label("Chloé Martin")).to_be_checked()
    expect(page.get_by_label("Time", exact=True)).to_have_value("11:00")
    navigate(page, page.get_by_role("button", name="Book", exact=True).click)
    chloe = Patient.objects.get(last_name="Martin")
    assert chloe.registered_by_practice == office["practice"]
    assert Appointment.objects.filter(
        patient=chloe, starts_at=at(tomorrow, 11)
    ).exists()

    # 3. Drag Anne's 10:00 to 14:00: the new time shows, the patient will be told.
    block = page.locator(f"a[data-appointment='{booked.pk}']")
    expect(
        page.get_by_label("Tell the patient when I move an appointment")
    ).to_be_checked()
    with page.expect_navigation():
        block.drag_to(cell(page, at(tomorrow, 14)))
    expect(page.locator(".alert--success")).to_contain_text(
        "Appointment moved to 14:00"
    )
    moved = page.locator(f"a[data-appointment='{booked.pk}']")
    expect(moved).to_contain_text("14:00")
    booked.refresh_from_db()
    assert booked.starts_at == at(tomorrow, 14)
    change = AppointmentChange.objects.get(appointment=booked)
    assert change.kind == "moved"
    assert change.notify_patient

    # A drop on a taken time (the top of Chloé's 11:00) is refused, nothing moves.
    chloe_block = page.locator("a[data-appointment]").filter(has_text="Chloé Martin")
    with page.expect_navigation():
        moved.drag_to(chloe_block, target_position={"x": 30, "y": 3})
    expect(page.get_by_role("alert")).to_contain_text("taken")
    booked.refresh_from_db()
    assert booked.starts_at == at(tomorrow, 14)

    # 4. The visit that started over an hour ago: a no-show, which counts a strike.
    missed = office["missed"]
    day = missed.starts_at.astimezone(office["agenda"].zone).date()
    page.goto(agenda_path(office, day))
    row = (
        page.locator("table.agenda-flow tr")
        .filter(has_text="Anne Lefebvre")
        .filter(has=page.get_by_role("button", name="No-show"))
    )
    navigate(page, row.get_by_role("button", name="No-show").click)
    expect(page.locator(".alert--success")).to_contain_text("no-show")
    missed.refresh_from_db()
    assert missed.status == Appointment.Status.NO_SHOW
    assert (
        Strike.objects.filter(appointment=missed, patient=office["anne"]).count() == 1
    )

    origin = urlsplit(live_server.url)
    foreign = [
        url
        for url in requests
        if not url.startswith("data:") and urlsplit(url)[:2] != origin[:2]
    ]
    assert foreign == []
    assert page.problems.page_errors == []
    assert page.problems.csp_violations == []


@pytest.mark.parametrize("width", WIDTHS)
def test_the_agenda_and_the_booking_form_are_accessible(
    open_page, office, axe_source, width
):
    tomorrow, at = office["tomorrow"], office["at"]
    Appointment.objects.create(
        agenda=office["agenda"],
        motive=office["motive"],
        patient=office["anne"],
        starts_at=at(tomorrow, 9),
        ends_at=at(tomorrow, 9) + timedelta(minutes=30),
    )
    page = open_page(
        locale="en-GB", viewport={"width": width, "height": 800}, bypass_csp=True
    )
    staff_login(page, "accueil@example.test", agenda_path(office, tomorrow))
    pages = {
        "agenda": agenda_path(office, tomorrow),
        "week": agenda_path(office, tomorrow)
        + f"&view=week&agenda={office['agenda'].pk}",
        "booking form": f"/pro/practices/{office['practice'].pk}/agenda/book/"
        f"?agenda={office['agenda'].pk}&starts_at={utc_iso(at(tomorrow, 10))}",
    }
    found, too_wide = {}, {}
    for label, path in pages.items():
        page.goto(path)
        page.add_script_tag(content=axe_source)
        violations = page.evaluate(AXE_RUN)
        if violations:
            found[label] = violations
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        if wide > width:
            too_wide[label] = (wide, page.evaluate(OVERFLOWING, width))
    # The booking form with search results shown too.
    page.locator("input[name=find-phone]").fill("+33612345678")
    navigate(page, page.get_by_role("button", name="Search").click)
    page.add_script_tag(content=axe_source)
    if violations := page.evaluate(AXE_RUN):
        found["booking form with results"] = violations

    assert found == {}, found
    assert too_wide == {}, too_wide


def test_booking_and_moving_work_with_the_keyboard_alone(open_page, office):
    from tests.e2e.test_patient_journeys import focus_to

    tomorrow, at = office["tomorrow"], office["at"]
    page = open_page(locale="en-GB")
    booking = (
        f"/pro/practices/{office['practice'].pk}/agenda/book/"
        f"?agenda={office['agenda'].pk}&starts_at={utc_iso(at(tomorrow, 16))}"
    )
    staff_login(page, "accueil@example.test", booking)

    focus_to(page, "input[name=find-phone]")
    page.keyboard.type("06 12 34 56 78")
    focus_to(page, "button[value=search]")
    navigate(page, lambda: page.keyboard.press("Enter"))
    focus_to(page, "input[name=patient]")
    assert page.evaluate("() => document.activeElement.checked")
    focus_to(page, "button[value=book]")
    navigate(page, lambda: page.keyboard.press("Enter"))
    booked = Appointment.objects.get(starts_at=at(tomorrow, 16))

    page.goto(f"/pro/appointments/{booked.pk}/")
    focus_to(page, f"main a[href='/pro/appointments/{booked.pk}/move/']")
    navigate(page, lambda: page.keyboard.press("Enter"))
    focus_to(page, "input[name=time]")
    page.keyboard.type("1730")
    focus_to(page, "main form button[type=submit]")
    navigate(page, lambda: page.keyboard.press("Enter"))

    booked.refresh_from_db()
    assert booked.starts_at == at(tomorrow, 17) + timedelta(minutes=30)
    assert AppointmentChange.objects.get(appointment=booked).notify_patient
    assert page.problems.page_errors == []
