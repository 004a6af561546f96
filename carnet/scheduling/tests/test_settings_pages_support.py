"""What the workspace's settings pages read: a practice's agendas, a rule change's preview, regions."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from carnet.accounts.errors import MfaRequired
from carnet.directory.tests.factories import LocationFactory
from carnet.scheduling.errors import (
    AgendaSettingsNotFound,
    HolidayCountryUnsupported,
    OpeningRulesOverlap,
    SettingsForbidden,
)
from carnet.scheduling.holidays import list_subdivisions
from carnet.scheduling.models import OpeningRule
from carnet.scheduling.preview import RuleDraft
from carnet.scheduling.selectors import get_practice_settings, preview_rule_change
from carnet.scheduling.tests.factories import (
    AbsenceFactory,
    AgendaFactory,
    OpeningRuleFactory,
)

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 2, 6, 0, tzinfo=PARIS)
WEEK = date(2026, 3, 9)


def test_practice_settings_group_agendas_by_location(empty_agenda, make_staff):
    practice = empty_agenda.practice
    lyon = LocationFactory(practice=practice, city="Lyon")
    second = AgendaFactory(
        practice=practice, practitioner=empty_agenda.practitioner, location=lyon
    )
    admin = make_staff(practice, "practice_admin")
    found = get_practice_settings(actor=admin, practice_id=practice.pk)
    assert found.practice == practice
    by_city = {entry.location.city: entry.agendas for entry in found.locations}
    assert by_city["Lyon"] == [second]
    assert [empty_agenda] in by_city.values()


def test_practice_settings_are_gated(empty_agenda, make_staff):
    practice = empty_agenda.practice
    outsider = make_staff(AgendaFactory().practice, "practice_admin")
    with pytest.raises(AgendaSettingsNotFound):
        get_practice_settings(actor=outsider, practice_id=practice.pk)
    with pytest.raises(SettingsForbidden):
        get_practice_settings(
            actor=make_staff(practice, "secretary"), practice_id=practice.pk
        )
    with pytest.raises(MfaRequired):
        get_practice_settings(
            actor=make_staff(practice, "practitioner", mfa=False),
            practice_id=practice.pk,
        )
    with pytest.raises(AgendaSettingsNotFound):
        get_practice_settings(actor=outsider, practice_id=999_999)


def _starts(preview, day: date) -> list[str]:
    (row,) = preview
    (found,) = [d for d in row.days if d.day == day]
    return [s.starts_at.astimezone(PARIS).strftime("%H:%M") for s in found.slots]


def test_a_draft_replacing_a_rule_is_compared_with_the_saved_week(
    empty_agenda, consultation
):
    tuesday = OpeningRuleFactory(
        agenda=empty_agenda, weekday=1, opens_time=time(9), closes_time=time(10)
    )
    draft = RuleDraft(weekday=1, opens=time(9, 20), closes=time(10, 20))
    (row,) = preview_rule_change(
        agenda=empty_agenda,
        draft=draft,
        replacing_id=tuesday.pk,
        week_start=WEEK,
        now=NOW,
    )
    (day,) = [d for d in row.days if d.day == date(2026, 3, 10)]
    assert [
        (s.starts_at.astimezone(PARIS).strftime("%H:%M"), s.is_new) for s in day.slots
    ] == [
        ("09:20", False),
        ("09:40", False),
        ("10:00", True),
    ]
    assert (day.removed, row.added, row.removed) == (1, 1, 1)
    assert OpeningRule.objects.get(pk=tuesday.pk).closes_time == time(10)


def test_deleting_in_preview_and_absences_are_taken_out(empty_agenda, consultation):
    rule = OpeningRuleFactory(
        agenda=empty_agenda, weekday=2, opens_time=time(9), closes_time=time(10)
    )
    AbsenceFactory(
        agenda=empty_agenda,
        starts_at=datetime(2026, 3, 11, 9, 0, tzinfo=PARIS),
        ends_at=datetime(2026, 3, 11, 9, 20, tzinfo=PARIS),
    )
    saved = preview_rule_change(
        agenda=empty_agenda, draft=None, replacing_id=None, week_start=WEEK, now=NOW
    )
    assert _starts(saved, date(2026, 3, 11)) == ["09:20", "09:40"]
    gone = preview_rule_change(
        agenda=empty_agenda, draft=None, replacing_id=rule.pk, week_start=WEEK, now=NOW
    )
    assert _starts(gone, date(2026, 3, 11)) == []
    assert gone[0].removed == 2


def test_an_overlapping_draft_names_the_saved_hours(empty_agenda, consultation):
    OpeningRuleFactory(
        agenda=empty_agenda, weekday=1, opens_time=time(8), closes_time=time(12)
    )
    with pytest.raises(OpeningRulesOverlap) as refused:
        preview_rule_change(
            agenda=empty_agenda,
            draft=RuleDraft(weekday=1, opens=time(11), closes=time(13)),
            replacing_id=None,
            week_start=WEEK,
            now=NOW,
        )
    assert refused.value.params == {"opens": "08:00", "closes": "12:00"}


def test_regions_have_names():
    assert ("57", "Moselle") in list_subdivisions(country="FR")
    assert ("BY", "Bayern") in list_subdivisions(country="DE")
    assert ("RM", "Roma") in list_subdivisions(country="IT")
    with pytest.raises(HolidayCountryUnsupported):
        list_subdivisions(country="ES")
