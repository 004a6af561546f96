"""The practice's agenda grid (pro:practice-agenda): views, gates, audit, DST."""

import re
from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.conf import settings

from carnet.accounts import roles
from carnet.accounts.models import StaffMembership
from carnet.accounts.roles import Permission
from carnet.accounts.selectors import patient_audit_ref
from carnet.audit.models import AuditEvent
from carnet.booking.models import Appointment
from carnet.pro.tests.conftest import paris
from carnet.scheduling.tests.factories import (
    AbsenceFactory,
    AgendaFactory,
    MotiveFactory,
    OpeningRuleFactory,
)

pytestmark = pytest.mark.django_db
SECRETARY = StaffMembership.Role.SECRETARY
DAY = "2026-03-03"  # a Tuesday; NOW (frozen_now) is Monday 2026-03-02 07:00 in Paris


def url(of, **query) -> str:
    base = f"/pro/practices/{of.practice_id}/agenda/"
    if not query:
        return base
    return base + "?" + "&".join(f"{k}={v}" for k, v in query.items())


def body(response) -> str:
    return response.content.decode()


def rows_of(page: str, pattern: str) -> list[str]:
    return re.findall(pattern, page)


@pytest.fixture
def desk(staff, signed_in):
    client = signed_in(staff(SECRETARY))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def anne_at_nine(frozen_now, agenda, anne, visit):
    motive = MotiveFactory(agenda=agenda, name="Consultation", colour="#AA3355")
    return visit(agenda, anne, paris(2026, 3, 3, 9, 0), motive=motive)


def test_the_day_view_shows_each_agenda_of_the_practice_side_by_side(
    anne_at_nine, agenda, desk
):
    other = AgendaFactory(
        practice=agenda.practice, location=agenda.location, name="Salle 2"
    )
    OpeningRuleFactory(
        agenda=other, weekday=1, opens_time=time(9), closes_time=time(12)
    )
    elsewhere = AgendaFactory(name="Ailleurs")  # another practice's

    response = desk.get(url(agenda, date=DAY))

    page = body(response)
    assert response.status_code == 200
    assert next(t.name for t in response.templates) == "pro/agenda/agenda.html"
    assert page.count('class="agenda-col"') == 2
    assert "Salle 2" in page
    assert "Ailleurs" not in page
    assert f'data-agenda-column="{elsewhere.pk}"' not in page
    # Axis 08:00–18:00 (the widest opening): 09:00 is row 13, 20 minutes span 4 rows.
    assert re.search(
        r'agenda-appt row-start-13 row-span-4 lane-1-of-1 agenda-appt--booked"', page
    )
    assert "Anne Lefebvre" in page
    assert 'data-colour="#AA3355"' in page
    # Hours outside the second agenda's opening (09:00–12:00) are shaded, not bookable.
    assert "agenda-cell--closed" in page
    assert page.count('<span class="agenda-axis__label') == 20  # every half hour


def test_cells_link_to_booking_with_their_instant_and_drop_targets_carry_it(
    anne_at_nine, agenda, desk
):
    page = body(desk.get(url(agenda, date=DAY)))

    # 08:00 in Paris in March (UTC+1) is 07:00 UTC.
    assert (
        f'href="/pro/practices/{agenda.practice_id}/agenda/book/?agenda={agenda.pk}'
        '&amp;starts_at=2026-03-03T07%3A00%3A00Z"' in page
    )
    assert 'data-starts-at="2026-03-03T07:00:00Z"' in page
    assert 'data-starts-at="2026-03-03T16:55:00Z"' in page  # 17:55, the last row
    assert 'data-starts-at="2026-03-03T17:00:00Z"' not in page


def test_reading_the_agenda_is_audited_per_patient(anne_at_nine, agenda, anne, desk):
    before = AuditEvent.objects.filter(patient_ref=patient_audit_ref(anne.pk)).count()

    desk.get(url(agenda, date=DAY))

    events = AuditEvent.objects.filter(patient_ref=patient_audit_ref(anne.pk))
    assert events.count() == before + 1
    assert events.last().resource == f"agenda:{agenda.pk}:{DAY}"


def test_the_week_view_shows_one_agenda_from_monday_to_sunday(
    anne_at_nine, agenda, desk, bruno, visit
):
    visit(agenda, bruno, paris(2026, 3, 8, 10, 0))  # Sunday

    page = body(desk.get(url(agenda, date=DAY, view="week", agenda=agenda.pk)))

    assert page.count('class="agenda-col"') == 7
    assert "Anne Lefebvre" in page
    assert "Bruno Garnier" in page
    assert 'data-starts-at="2026-03-02T07:00:00Z"' in page  # Monday
    assert 'data-starts-at="2026-03-08T07:00:00Z"' in page  # Sunday
    assert 'data-starts-at="2026-03-09T07:00:00Z"' not in page
    assert "?date=2026-02-24&amp;view=week&amp;agenda=" in page  # previous week


def test_navigation_links_and_the_date_form_work_without_javascript(agenda, desk):
    page = body(desk.get(url(agenda, date=DAY)))

    assert "?date=2026-03-02&amp;view=day" in page
    assert "?date=2026-03-04&amp;view=day" in page
    assert '<input type="date" id="agenda-date" name="date" value="2026-03-03"' in page
    assert f'href="/pro/agendas/{agenda.pk}/{DAY}/"' in page  # the day list
    assert f'href="/pro/agendas/{agenda.pk}/{DAY}/print/"' in page  # the day sheet


def test_an_unreadable_date_says_so_and_shows_today(frozen_now, agenda, desk):
    response = desk.get(url(agenda, date="2026-13-45"))

    assert response.status_code == 400
    assert 'role="alert"' in body(response)
    assert 'value="2026-03-02"' in body(response)


def test_an_agenda_of_another_practice_is_not_found(agenda, desk):
    elsewhere = AgendaFactory()

    response = desk.get(url(agenda, view="week", agenda=elsewhere.pk))

    assert response.status_code == 404


def test_absences_are_shaded_and_closed_to_booking(frozen_now, agenda, desk):
    AbsenceFactory(
        agenda=agenda,
        starts_at=paris(2026, 3, 3, 12, 0),
        ends_at=paris(2026, 3, 3, 14, 0),
        label="Formation",
    )

    page = body(desk.get(url(agenda, date=DAY)))

    assert re.search(r'agenda-shade row-start-49 row-span-24">Absent: Formation', page)
    # 12:00 Paris = 11:00 UTC: a drop target, but no booking link.
    assert "starts_at=2026-03-03T11%3A00%3A00Z" not in page
    assert "agenda-cell--absent" in page


@pytest.fixture
def crowded(frozen_now, agenda, anne, bruno, visit):
    motive = MotiveFactory(agenda=agenda)
    visit(agenda, anne, paris(2026, 3, 3, 9, 0), motive=motive)
    visit(agenda, bruno, paris(2026, 3, 3, 9, 0), motive=motive, is_overbooked=True)
    return visit(
        agenda,
        bruno,
        paris(2026, 3, 3, 11, 0),
        motive=motive,
        status=Appointment.Status.CANCELLED,
        cancellation_reason="Grippe",
    )


def test_only_overlapping_appointments_share_the_width(
    crowded, agenda, anne, desk, visit
):
    later = visit(agenda, anne, paris(2026, 3, 3, 10, 0))

    page = body(desk.get(url(agenda, date=DAY)))

    grid = page[page.index("data-agenda-grid") : page.index("agenda-flow")]
    assert grid.count("lane-1-of-2") == 1
    assert grid.count("lane-2-of-2") == 1
    at_ten = grid[grid.index(f"/pro/appointments/{later.pk}/") - 400 :]
    assert "lane-1-of-1" in at_ten[:400]


def test_overbooking_is_flagged_in_text_and_cancelled_visits_are_apart(
    crowded, agenda, desk
):
    page = body(desk.get(url(agenda, date=DAY)))

    grid = page[page.index("data-agenda-grid") : page.index("agenda-flow")]
    assert "lane-1-of-2" in grid
    assert "lane-2-of-2 agenda-appt--booked agenda-appt--overbooked" in grid
    assert "<strong>overbooked</strong>" in grid
    assert f"/pro/appointments/{crowded.pk}/" not in grid  # not in the grid...
    assert grid.count("lane-1-of-1") == 0
    tail = page[page.index("agenda-cancelled") :]
    assert f"/pro/appointments/{crowded.pk}/" in tail
    assert "Grippe" in tail


def test_statuses_are_written_in_words_with_the_day_flow_buttons(
    frozen_now, agenda, anne, visit, desk
):
    with time_machine.travel(paris(2026, 3, 3, 9, 30), tick=False):
        visit(agenda, anne, paris(2026, 3, 3, 9, 0))
        page = body(desk.get(url(agenda, date=DAY)))

    flow = page[page.index('class="agenda-flow"') :]
    assert "Booked" in flow
    assert 'name="status" value="arrived"' in flow
    assert 'name="status" value="noshow"' in flow
    assert "+33612345678" not in flow
    assert "06 12 34 56 78" in flow


def test_the_current_time_line_sits_on_the_current_row_of_today(agenda, desk):
    with time_machine.travel(paris(2026, 3, 3, 9, 7), tick=False):
        page = body(desk.get(url(agenda)))

    assert re.search(r'class="agenda-now row-start-14"[^>]*data-now-line', page)
    assert 'data-zone="Europe/Paris" data-day="2026-03-03"' in page


def test_other_days_have_no_current_time_line(frozen_now, agenda, desk):
    assert "data-now-line" not in body(desk.get(url(agenda, date=DAY)))


def test_phones_need_the_contact_permission(
    anne_at_nine, agenda, staff, signed_in, monkeypatch
):
    client = signed_in(staff(SECRETARY))
    monkeypatch.setitem(
        roles.ROLE_PERMISSIONS, SECRETARY, frozenset({Permission.VIEW_AGENDA})
    )

    response = client.get(url(agenda, date=DAY))

    assert response.status_code == 200
    assert "Anne Lefebvre" in body(response)
    assert "06 12 34 56 78" not in body(response)
    assert "/agenda/book/" not in body(response)  # no booking without the right


def test_a_role_without_the_agenda_gets_403_without_patient_data(
    anne_at_nine, agenda, staff, signed_in, monkeypatch
):
    client = signed_in(staff(SECRETARY))
    monkeypatch.setitem(
        roles.ROLE_PERMISSIONS, SECRETARY, frozenset({Permission.MANAGE_ABSENCES})
    )

    response = client.get(url(agenda, date=DAY))

    assert response.status_code == 403
    assert "Lefebvre" not in body(response)


def test_outsiders_get_404_and_no_patient_data(
    anne_at_nine, agenda, other_practice_admin, signed_in
):
    response = signed_in(other_practice_admin).get(url(agenda, date=DAY))

    assert response.status_code == 404
    assert "Lefebvre" not in body(response)
    assert not AuditEvent.objects.filter(
        resource__startswith=f"agenda:{agenda.pk}:"
    ).exists()


def test_staff_without_a_second_factor_are_refused(anne_at_nine, agenda, staff):
    from django.test import Client

    from conftest import login_with_totp

    user = staff(SECRETARY, mfa=False)
    client = Client()
    login_with_totp(client, email=user.email, password="secret-password")

    response = client.get(url(agenda, date=DAY))

    assert response.status_code in (302, 403)
    assert "Lefebvre" not in body(response)


# ---------- Daylight saving time (Europe/Paris) ----------


def _night_agenda(practice_agenda):
    agenda = AgendaFactory(
        practice=practice_agenda.practice, location=practice_agenda.location
    )
    OpeningRuleFactory(
        agenda=agenda, weekday=6, opens_time=time(0), closes_time=time(5)
    )
    return agenda


def _labels(page: str) -> list[str]:
    return re.findall(
        r'agenda-axis__label row-start-\d+ row-span-6">(\d\d:\d\d)<', page
    )


def test_the_spring_change_has_no_missing_or_duplicated_row(
    frozen_now, agenda, anne, visit, desk
):
    night = _night_agenda(agenda)
    visit(night, anne, datetime(2026, 3, 29, 1, 0, tzinfo=UTC))  # 03:00 CEST

    page = body(desk.get(url(night, date="2026-03-29", view="week", agenda=night.pk)))
    sunday = page[page.rindex('class="agenda-col"') :]

    labels = _labels(page)
    assert labels == sorted(set(labels))  # each wall time once, in order
    cells = re.findall(r"agenda-cell row-start-(\d+)", sunday)
    assert [int(c) for c in cells] == list(range(1, 5 * 12 + 1))  # 00:00–04:55
    # 02:00–02:55 does not exist that night: 12 rows without an instant.
    assert sunday.count("agenda-cell--void") == 12
    instants = re.findall(r'data-starts-at="([^"]+)"', sunday)
    assert len(instants) == len(set(instants)) == 5 * 12 - 12
    assert "2026-03-29T00:55:00Z" in instants
    assert "2026-03-29T01:00:00Z" in instants
    # The 03:00 CEST visit sits on the 03:00 row (37).
    assert re.search(r"agenda-appt row-start-37 row-span-4 ", sunday)


def test_the_autumn_change_has_no_missing_or_duplicated_row(
    frozen_now, agenda, anne, visit, desk
):
    visit(agenda, anne, paris(2026, 10, 25, 9, 0))  # 09:00 CET = 08:00 UTC
    page = body(desk.get(url(agenda, date="2026-10-25")))

    labels = _labels(page)
    assert labels == sorted(set(labels))
    assert labels[0] == "08:00"
    cells = [int(c) for c in re.findall(r"agenda-cell row-start-(\d+)", page)]
    assert cells == list(range(1, 121))  # 08:00–17:55, once each
    assert 'data-starts-at="2026-10-25T07:00:00Z"' in page  # 08:00 CET
    assert re.search(r"agenda-appt row-start-13 row-span-4 ", page)


def test_the_autumn_night_shows_the_repeated_hour_once(frozen_now, agenda, desk):
    night = _night_agenda(agenda)

    page = body(desk.get(url(night, date="2026-10-25", view="week", agenda=night.pk)))
    sunday = page[page.rindex('class="agenda-col"') :]

    cells = [int(c) for c in re.findall(r"agenda-cell row-start-(\d+)", sunday)]
    assert cells == list(range(1, 5 * 12 + 1))
    assert "agenda-cell--void" not in sunday
    instants = re.findall(r'data-starts-at="([^"]+)"', sunday)
    assert len(instants) == len(set(instants)) == 5 * 12
    assert "2026-10-25T00:00:00Z" in instants  # 02:00, its first occurrence (CEST)
    assert "2026-10-25T02:00:00Z" in instants  # 03:00 CET
    assert date(2026, 10, 25).weekday() == 6
