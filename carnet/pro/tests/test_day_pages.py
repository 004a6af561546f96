"""The staff day list and the printable day sheet under /pro/."""

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import resolve, reverse

from carnet.accounts import roles
from carnet.accounts.models import StaffMembership
from carnet.accounts.roles import Permission
from carnet.audit.models import AuditEvent
from carnet.audit.selectors import verify_chain
from carnet.booking.models import Appointment
from carnet.pro.tests.conftest import paris
from carnet.pro.views import day as views
from carnet.records.services import write_note
from carnet.scheduling.tests.factories import AgendaFactory, MotiveFactory

pytestmark = pytest.mark.django_db
DAY = "2026-03-03"
REASON = "canary-reason Douleur thoracique"
NOTE = "canary-note Suspicion d'angine"
ROLES = [
    StaffMembership.Role.PRACTITIONER,
    StaffMembership.Role.SECRETARY,
    StaffMembership.Role.PRACTICE_ADMIN,
]


def sheet_url(agenda, day: str = DAY) -> str:
    return f"/pro/agendas/{agenda.pk}/{day}/print/"


@pytest.fixture
def day(frozen_now, agenda, anne, bruno, visit):
    """Anne at 09:00 (20 min, with a reason), Bruno at 10:30 (45 min), on DAY."""
    motive = MotiveFactory(agenda=agenda, name="Consultation")
    long = MotiveFactory(agenda=agenda, name="Bilan", duration_minutes=45)
    first = visit(agenda, anne, paris(2026, 3, 3, 9, 0), motive=motive, reason=REASON)
    second = visit(agenda, bruno, paris(2026, 3, 3, 10, 30), motive=long, minutes=45)
    return first, second


def html(response) -> str:
    return response.content.decode()


def get(client: Client, url: str, *, language: str):
    """GET `url` in `language` (the switcher's cookie comes before the account's)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get(url)


# ---------- The day list, moved from carnet.booking ----------


def test_the_day_list_keeps_its_address_and_name():
    url = reverse("pro:agenda-day", args=[7, DAY])

    assert url == f"/pro/agendas/7/{DAY}/"
    assert resolve(url).func is views.agenda_day
    assert reverse("pro:day-sheet", args=[7, DAY]) == f"/pro/agendas/7/{DAY}/print/"


def test_the_day_list_shows_the_day_and_links_to_the_sheet(
    day, agenda, staff, signed_in
):
    client = signed_in(staff(StaffMembership.Role.SECRETARY))

    response = client.get(f"/pro/agendas/{agenda.pk}/{DAY}/")

    assert response.status_code == 200
    assert next(t.name for t in response.templates) == "pro/agenda_day.html"
    page = html(response)
    assert "Lefebvre" in page
    assert "Garnier" in page
    assert f'href="{sheet_url(agenda)}"' in page
    assert REASON not in page


def test_the_day_list_of_a_bad_date_or_another_practice_is_not_found(
    day, agenda, other_practice_admin, signed_in
):
    client = signed_in(other_practice_admin)

    assert client.get(f"/pro/agendas/{agenda.pk}/2026-02-30/").status_code == 404
    response = client.get(f"/pro/agendas/{agenda.pk}/{DAY}/")
    assert response.status_code == 404
    assert "Lefebvre" not in html(response)
    assert AuditEvent.objects.count() == 0


# ---------- The printable day sheet ----------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_of_the_practice_gets_the_sheet(day, agenda, staff, signed_in, role):
    user = staff(role)

    response = signed_in(user).get(sheet_url(agenda))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = html(response)
    assert agenda.practice.name in page
    assert agenda.practitioner.display_name in page
    assert "Mardi 3 mars 2026" in page  # the default language, French
    assert "Anne Lefebvre" in page
    assert "Bruno Garnier" in page


def test_the_sheet_lists_time_duration_patient_motive_status_and_phone(
    day, agenda, staff, signed_in
):
    secretary = staff(StaffMembership.Role.SECRETARY)

    page = html(get(signed_in(secretary), sheet_url(agenda), language="en"))

    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S)
    cells = [
        [
            re.sub(r"<[^>]+>|\s+", " ", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        ]
        for r in rows[1:]
    ]
    assert cells == [
        [
            "09:00",
            "20 min",
            "Anne Lefebvre",
            "Consultation",
            "booked",
            "06 12 34 56 78",
        ],
        ["10:30", "45 min", "Bruno Garnier", "Bilan", "booked", ""],
    ]
    assert "2 appointments" in page
    assert "Tuesday 3 March 2026" in page


def test_the_sheet_never_shows_the_visit_reason_nor_clinical_notes(
    day, agenda, anne, staff, signed_in
):
    practitioner = staff(StaffMembership.Role.PRACTITIONER)
    write_note(
        actor=practitioner,
        practice_id=agenda.practice_id,
        patient_id=anne.pk,
        text=NOTE,
    )

    page = html(signed_in(practitioner).get(sheet_url(agenda)))

    assert "Anne Lefebvre" in page
    assert "canary" not in page
    assert "anne.lefebvre@example.test" not in page


def test_without_the_contact_right_the_sheet_has_no_phone(
    day, agenda, staff, signed_in, monkeypatch
):
    monkeypatch.setitem(
        roles.ROLE_PERMISSIONS,
        StaffMembership.Role.SECRETARY,
        roles.ROLE_PERMISSIONS[StaffMembership.Role.SECRETARY]
        - {Permission.VIEW_CONTACT_DETAILS},
    )
    client = signed_in(staff(StaffMembership.Role.SECRETARY))

    page = html(client.get(sheet_url(agenda)))

    assert "Anne Lefebvre" in page
    assert "06 12 34 56 78" not in page
    assert ">Phone<" not in page


def test_each_patient_shown_is_one_read_in_the_audit_trail(
    day, agenda, anne, bruno, staff, signed_in
):
    secretary = staff(StaffMembership.Role.SECRETARY)

    signed_in(secretary).get(sheet_url(agenda))

    events = AuditEvent.objects.order_by("pk")
    assert sorted(
        (e.actor_id, e.actor_kind, e.action, e.patient_ref) for e in events
    ) == [
        (secretary.pk, "staff", "read", f"patient:{anne.pk}"),
        (secretary.pk, "staff", "read", f"patient:{bruno.pk}"),
    ]
    assert {e.resource for e in events} == {f"agenda:{agenda.pk}:{DAY}"}
    assert {e.purpose for e in events} == {"care"}
    assert verify_chain().ok


def test_another_practice_gets_404_and_no_trace_of_data(
    day, agenda, other_practice_admin, signed_in
):
    response = signed_in(other_practice_admin).get(sheet_url(agenda))

    assert response.status_code == 404
    assert "Lefebvre" not in html(response)
    assert "06 12 34 56 78" not in html(response)
    assert AuditEvent.objects.count() == 0


def test_an_unknown_agenda_or_a_bad_date_is_not_found(day, agenda, staff, signed_in):
    client = signed_in(staff(StaffMembership.Role.SECRETARY))

    assert client.get(sheet_url(agenda, "2026-13-01")).status_code == 404
    assert client.get(f"/pro/agendas/999999/{DAY}/print/").status_code == 404


def test_the_sheet_needs_a_login_and_a_second_factor(day, agenda, staff):
    anonymous = Client().get(sheet_url(agenda))
    without_mfa = Client()
    without_mfa.force_login(staff(StaffMembership.Role.SECRETARY, mfa=False))
    refused = without_mfa.get(sheet_url(agenda))

    assert anonymous.status_code == 302
    assert anonymous["location"].startswith("/accounts/login/")
    assert refused.status_code == 302
    assert refused["location"] == "/accounts/2fa/"
    assert AuditEvent.objects.count() == 0


def test_a_post_is_refused(day, agenda, staff, signed_in):
    client = signed_in(staff(StaffMembership.Role.SECRETARY))

    assert client.post(sheet_url(agenda)).status_code == 405


def test_cancelled_visits_stay_on_the_sheet_marked_as_such(
    frozen_now, agenda, anne, visit, staff, signed_in
):
    visit(
        agenda,
        anne,
        paris(2026, 3, 3, 11, 0),
        status=Appointment.Status.CANCELLED,
    )

    client = signed_in(staff(StaffMembership.Role.SECRETARY))
    page = html(get(client, sheet_url(agenda), language="en"))

    assert 'class="day-sheet__cancelled"' in page
    assert "cancelled" in page


def test_times_are_those_of_the_agenda_zone_on_a_dst_day(
    frozen_now, anne, visit, staff, signed_in
):
    # New York springs forward on 8 March 2026 at 02:00 (UTC-5 → UTC-4).
    agenda = AgendaFactory(time_zone="America/New_York")
    zone = ZoneInfo("America/New_York")
    visit(agenda, anne, datetime(2026, 3, 8, 1, 30, tzinfo=zone))
    visit(agenda, anne, datetime(2026, 3, 8, 10, 0, tzinfo=zone))
    visit(agenda, anne, datetime(2026, 3, 8, 23, 40, tzinfo=zone))
    visit(agenda, anne, datetime(2026, 3, 9, 0, 10, tzinfo=zone))  # the next day
    user = staff(StaffMembership.Role.SECRETARY, at=agenda.practice)

    page = html(get(signed_in(user), sheet_url(agenda, "2026-03-08"), language="en"))

    times = re.findall(r"<time datetime=\"([^\"]+)\">(\d\d:\d\d)</time>", page)
    assert times == [
        ("2026-03-08T01:30-05:00", "01:30"),
        ("2026-03-08T10:00-04:00", "10:00"),
        ("2026-03-08T23:40-04:00", "23:40"),
    ]
    assert "Sunday 8 March 2026" in page


def test_the_sheet_date_is_in_the_language_of_the_user(day, agenda, staff, signed_in):
    client = signed_in(staff(StaffMembership.Role.SECRETARY))

    page = html(get(client, sheet_url(agenda), language="de"))

    assert "Dienstag, 3. März 2026" in page


def test_the_stylesheet_prints_the_sheet_alone_black_on_white_with_borders():
    css = Path(finders.find("carnet/carnet.css")).read_text(encoding="utf-8")
    blocks = re.findall(r"@media print \{(.*?)\n\}", css, re.S)
    sheet = next(b for b in blocks if ".day-sheet" in b)

    for hidden in (".site-header", ".site-footer", ".day-sheet__actions"):
        assert re.search(
            rf"[^{{}}]*{re.escape(hidden)}[^{{}}]*\{{\s*display: none", sheet
        )
    assert "color: #000000" in sheet
    assert "background: #ffffff" in sheet
    assert "border: 1px solid #000000" in sheet
    assert "display: table-header-group" in sheet
    assert "break-inside: avoid" in sheet


def test_the_sheet_page_carries_the_stylesheet_and_no_inline_style(
    day, agenda, staff, signed_in
):
    page = html(signed_in(staff(StaffMembership.Role.SECRETARY)).get(sheet_url(agenda)))

    assert 'href="/static/carnet/carnet.css"' in page
    assert 'class="day-sheet' in page
    assert "style=" not in page
    assert "<style" not in page
