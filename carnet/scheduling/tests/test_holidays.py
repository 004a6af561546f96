"""Public holidays per country and region, applied to an agenda as full-day absences."""

from datetime import UTC, date, datetime, time

import pytest
from django.db import IntegrityError, transaction

from carnet.audit.models import AuditEvent
from carnet.booking.models import NextAvailability
from carnet.booking.selectors import list_free_slots
from carnet.directory.tests.factories import (
    LocationFactory,
    PracticeFactory,
    PractitionerRoleFactory,
)
from carnet.scheduling.errors import (
    HolidayCountryUnsupported,
    HolidaySubdivisionUnknown,
    HolidayYearInvalid,
)
from carnet.scheduling.holidays import (
    apply_public_holidays,
    list_public_holidays,
    normalise_subdivision,
    set_agenda_subdivision,
)
from carnet.scheduling.models import Absence, Agenda
from carnet.scheduling.tests.factories import (
    AgendaFactory,
    OpeningRuleFactory,
)
from conftest import NOW


def _holidays(country: str, subdivision: str | None) -> dict[date, str]:
    return {
        h.day: h.name
        for h in list_public_holidays(
            country=country, subdivision=subdivision, year=2026
        )
    }


def test_france_2026_has_its_eleven_public_holidays():
    days = _holidays("FR", None)

    assert len(days) == 11
    assert days[date(2026, 7, 14)] == "Fête nationale"
    assert days[date(2026, 4, 6)] == "Lundi de Pâques"
    assert days[date(2026, 11, 11)] == "Armistice"
    assert list(days) == sorted(days)


def test_bavaria_adds_epiphany_and_corpus_christi_to_germany():
    national = _holidays("DE", "")
    bavaria = _holidays("DE", "BY")

    assert date(2026, 1, 6) not in national
    assert bavaria[date(2026, 1, 6)] == "Heilige Drei Könige"
    assert bavaria[date(2026, 6, 4)] == "Fronleichnam"
    assert bavaria[date(2026, 10, 3)] == "Tag der Deutschen Einheit"
    assert set(national) < set(bavaria)


def test_italy_2026_with_rome_s_patron_saints():
    italy = _holidays("IT", None)
    rome = _holidays("IT", "RM")

    assert italy[date(2026, 6, 2)] == "Festa della Repubblica"
    assert italy[date(2026, 1, 6)] == "Epifania"
    assert date(2026, 6, 29) not in italy
    assert rome[date(2026, 6, 29)] == "Santi Pietro e Paolo"


def test_moselle_adds_good_friday_and_saint_stephen_to_france():
    moselle = _holidays("FR", "57")

    assert moselle[date(2026, 12, 26)] == "Saint-Étienne"
    assert date(2026, 4, 3) in moselle


@pytest.mark.parametrize(
    ("country", "given", "code"),
    [
        ("DE", "BY", "BY"),
        ("DE", "by", "BY"),
        ("DE", "Bayern", "BY"),
        ("FR", "Moselle", "57"),
        ("IT", "Roma", "RM"),
        ("IT", " ", ""),
    ],
)
def test_a_region_may_be_given_by_code_or_name(country, given, code):
    assert normalise_subdivision(country=country, subdivision=given) == code


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"country": "US", "subdivision": "", "year": 2026}, HolidayCountryUnsupported),
        (
            {"country": "DE", "subdivision": "XX", "year": 2026},
            HolidaySubdivisionUnknown,
        ),
        (
            {"country": "FR", "subdivision": "BY", "year": 2026},
            HolidaySubdivisionUnknown,
        ),
        ({"country": "FR", "subdivision": "", "year": 1999}, HolidayYearInvalid),
        ({"country": "FR", "subdivision": "", "year": "2026"}, HolidayYearInvalid),
    ],
)
def test_unknown_countries_regions_and_years_are_refused(arguments, error):
    with pytest.raises(error):
        list_public_holidays(**arguments)


def _agenda_in(country: str, zone: str, subdivision: str = "") -> Agenda:
    location = LocationFactory(
        country=country, practice=PracticeFactory(country=country)
    )
    role = PractitionerRoleFactory(location=location)
    return AgendaFactory(role=role, time_zone=zone, subdivision=subdivision)


def test_applying_the_holidays_closes_each_holiday_from_midnight_to_midnight(
    frozen_now, empty_agenda, admin
):
    applied = apply_public_holidays(actor=admin, agenda_id=empty_agenda.pk, year=2026)

    absences = list(Absence.objects.filter(agenda=empty_agenda).order_by("starts_at"))
    assert absences == applied.absences
    assert len(absences) == 11
    national_day = next(a for a in absences if a.holiday_on == date(2026, 7, 14))
    # Paris is on CEST (UTC+2) in July.
    assert (national_day.starts_at, national_day.ends_at, national_day.label) == (
        datetime(2026, 7, 13, 22, 0, tzinfo=UTC),
        datetime(2026, 7, 14, 22, 0, tzinfo=UTC),
        "Fête nationale",
    )
    new_year = absences[0]
    assert (new_year.starts_at, new_year.ends_at) == (
        datetime(2025, 12, 31, 23, 0, tzinfo=UTC),
        datetime(2026, 1, 1, 23, 0, tzinfo=UTC),
    )


def test_applying_the_holidays_twice_adds_nothing(frozen_now, empty_agenda, secretary):
    apply_public_holidays(actor=secretary, agenda_id=empty_agenda.pk, year=2026)
    rows = list(Absence.objects.order_by("pk").values())
    events = AuditEvent.objects.count()

    again = apply_public_holidays(actor=secretary, agenda_id=empty_agenda.pk, year=2026)

    assert again.absences == []
    assert again.affected_appointments == []
    assert list(Absence.objects.order_by("pk").values()) == rows
    assert AuditEvent.objects.count() == events


def test_a_deleted_holiday_comes_back_on_the_next_application(
    frozen_now, empty_agenda, admin
):
    apply_public_holidays(actor=admin, agenda_id=empty_agenda.pk, year=2026)
    Absence.objects.filter(holiday_on=date(2026, 5, 1)).delete()

    again = apply_public_holidays(actor=admin, agenda_id=empty_agenda.pk, year=2026)

    assert [a.holiday_on for a in again.absences] == [date(2026, 5, 1)]


def test_a_bavarian_agenda_gets_epiphany_in_its_own_zone(frozen_now, make_staff):
    agenda = _agenda_in("DE", "Europe/Berlin", subdivision="BY")
    practitioner = make_staff(agenda.practice, "practitioner")

    applied = apply_public_holidays(actor=practitioner, agenda_id=agenda.pk, year=2026)

    days = {a.holiday_on: a for a in applied.absences}
    assert len(days) == 12
    assert days[date(2026, 1, 6)].label == "Heilige Drei Könige"
    assert days[date(2026, 1, 6)].starts_at == datetime(2026, 1, 5, 23, tzinfo=UTC)


def test_an_italian_agenda_closes_on_republic_day(frozen_now, make_staff):
    agenda = _agenda_in("IT", "Europe/Rome")
    admin = make_staff(agenda.practice, "practice_admin")

    applied = apply_public_holidays(actor=admin, agenda_id=agenda.pk, year=2026)

    republic_day = next(a for a in applied.absences if a.holiday_on == date(2026, 6, 2))
    assert (republic_day.label, republic_day.starts_at) == (
        "Festa della Repubblica",
        datetime(2026, 6, 1, 22, tzinfo=UTC),
    )


def test_holiday_appointments_are_returned_for_staff_to_move(
    frozen_now, empty_agenda, consultation, admin, book
):
    easter_monday = book(consultation, datetime(2026, 4, 6, 8, tzinfo=UTC))
    book(consultation, datetime(2026, 4, 7, 8, tzinfo=UTC))
    events = AuditEvent.objects.count()

    applied = apply_public_holidays(actor=admin, agenda_id=empty_agenda.pk, year=2026)

    assert applied.affected_appointments == [easter_monday]
    assert AuditEvent.objects.count() == events + 1


def test_applied_holidays_leave_the_index_and_the_booking_pages(
    frozen_now, empty_agenda, consultation, admin
):
    OpeningRuleFactory(
        agenda=empty_agenda,
        weekday=0,
        opens_time=time(8),
        closes_time=time(12),
        valid_on=date(2026, 4, 6),
    )
    easter_monday = date(2026, 4, 6)
    assert list_free_slots(
        motive=consultation, first_day=easter_monday, days=1, now=NOW
    )

    apply_public_holidays(actor=admin, agenda_id=empty_agenda.pk, year=2026)

    assert (
        list_free_slots(motive=consultation, first_day=easter_monday, days=1, now=NOW)
        == []
    )
    row = NextAvailability.objects.get(motive=consultation)
    assert row.first_slot_at == datetime(2026, 4, 13, 6, tzinfo=UTC)  # 08:00 CEST


def test_the_region_is_stored_as_a_code(frozen_now, make_staff):
    agenda = _agenda_in("DE", "Europe/Berlin")
    admin = make_staff(agenda.practice, "practice_admin")

    set_agenda_subdivision(actor=admin, agenda_id=agenda.pk, subdivision="Bayern")

    agenda.refresh_from_db()
    assert agenda.subdivision == "BY"


def test_an_unknown_region_is_refused_and_changes_nothing(frozen_now, make_staff):
    agenda = _agenda_in("DE", "Europe/Berlin", subdivision="BY")
    admin = make_staff(agenda.practice, "practice_admin")
    before = Agenda.objects.filter(pk=agenda.pk).values().get()

    with pytest.raises(HolidaySubdivisionUnknown) as caught:
        set_agenda_subdivision(actor=admin, agenda_id=agenda.pk, subdivision="Texas")

    assert "Texas" in caught.value.render()
    assert Agenda.objects.filter(pk=agenda.pk).values().get() == before


def test_the_database_keeps_one_absence_per_holiday_and_agenda(db, empty_agenda):
    day = date(2026, 5, 1)
    Absence.objects.create(
        agenda=empty_agenda,
        starts_at=datetime(2026, 4, 30, 22, tzinfo=UTC),
        ends_at=datetime(2026, 5, 1, 22, tzinfo=UTC),
        holiday_on=day,
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        Absence.objects.create(
            agenda=empty_agenda,
            starts_at=datetime(2026, 4, 30, 22, tzinfo=UTC),
            ends_at=datetime(2026, 5, 1, 22, tzinfo=UTC),
            holiday_on=day,
        )
    # Ordinary absences may share a day.
    for _ in range(2):
        Absence.objects.create(
            agenda=empty_agenda,
            starts_at=datetime(2026, 4, 30, 22, tzinfo=UTC),
            ends_at=datetime(2026, 5, 1, 22, tzinfo=UTC),
        )
    assert Absence.objects.filter(agenda=empty_agenda).count() == 3
