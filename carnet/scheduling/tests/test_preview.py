"""The live preview of draft opening rules: same checks and same slots as once saved."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carnet.booking.selectors import list_free_slots
from carnet.scheduling import services
from carnet.scheduling.errors import (
    OpeningHoursInvalid,
    OpeningRulesOverlap,
    ValidityInvalid,
    WeekdayInvalid,
)
from carnet.scheduling.models import OpeningRule
from carnet.scheduling.preview import (
    RuleDraft,
    check_draft,
    check_no_overlap,
    drafts_overlap,
    preview_week,
)
from carnet.scheduling.tests.factories import MotiveFactory
from conftest import NOW

PARIS = ZoneInfo("Europe/Paris")


def _flat(week: list[tuple[date, list[datetime]]]) -> list[datetime]:
    return [start for _, starts in week for start in starts]


def _scenarios(consultation_id: int, other_id: int) -> dict[str, tuple]:
    """name -> (week_start, drafts)."""
    return {
        "a plain week with a motive-only afternoon and a late start": (
            date(2026, 3, 9),
            [
                RuleDraft(weekday=0, opens=time(8), closes=time(12)),
                RuleDraft(
                    weekday=0,
                    opens=time(14),
                    closes=time(18),
                    motive_ids={consultation_id},
                ),
                RuleDraft(
                    weekday=2,
                    opens=time(9),
                    closes=time(12, 30),
                    valid_from=date(2026, 3, 11),
                ),
                RuleDraft(
                    weekday=4,
                    opens=time(8),
                    closes=time(10),
                    motive_ids={other_id},
                ),
                RuleDraft(
                    weekday=3,
                    opens=time(8),
                    closes=time(10),
                    valid_until=date(2026, 3, 11),
                ),
            ],
        ),
        "the spring-forward week": (
            date(2026, 3, 23),
            [
                RuleDraft(weekday=6, opens=time(1), closes=time(4)),
                RuleDraft(weekday=5, opens=time(8, 10), closes=time(11, 45)),
            ],
        ),
        "this week, cut by the notice": (
            date(2026, 3, 2),
            [RuleDraft(weekday=0, opens=time(7), closes=time(9))],
        ),
        "past the horizon": (
            date(2026, 6, 1),
            [RuleDraft(weekday=0, opens=time(8), closes=time(12))],
        ),
    }


@pytest.mark.parametrize(
    "scenario",
    [
        "a plain week with a motive-only afternoon and a late start",
        "the spring-forward week",
        "this week, cut by the notice",
        "past the horizon",
    ],
)
def test_saving_the_previewed_rules_offers_the_previewed_slots(
    frozen_now, empty_agenda, consultation, admin, scenario
):
    other = MotiveFactory(agenda=empty_agenda, name="Vaccin")
    week_start, drafts = _scenarios(consultation.pk, other.pk)[scenario]

    preview = preview_week(
        agenda=empty_agenda,
        rules=drafts,
        motive=consultation,
        week_start=week_start,
        now=NOW,
    )
    services.replace_opening_rules(actor=admin, agenda_id=empty_agenda.pk, rules=drafts)
    saved = list_free_slots(motive=consultation, first_day=week_start, days=7, now=NOW)

    assert [day for day, _ in preview] == [
        week_start + timedelta(days=n) for n in range(7)
    ]
    assert _flat(preview) == saved
    assert bool(saved) == (scenario != "past the horizon")
    for day, starts in preview:
        assert all(start.astimezone(PARIS).date() == day for start in starts)


def test_rules_saved_one_by_one_offer_the_previewed_slots(
    frozen_now, empty_agenda, consultation, admin
):
    drafts = [
        RuleDraft(weekday=1, opens=time(8), closes=time(11)),
        RuleDraft(weekday=1, opens=time(11), closes=time(12, 10)),
        RuleDraft(weekday=4, opens=time(13, 30), closes=time(17)),
    ]
    week_start = date(2026, 3, 16)
    preview = preview_week(
        agenda=empty_agenda,
        rules=drafts,
        motive=consultation,
        week_start=week_start,
        now=NOW,
    )

    for draft in drafts:
        services.create_opening_rule(
            actor=admin,
            agenda_id=empty_agenda.pk,
            weekday=draft.weekday,
            opens_time=draft.opens,
            closes_time=draft.closes,
        )

    assert _flat(preview) == list_free_slots(
        motive=consultation, first_day=week_start, days=7, now=NOW
    )
    tuesday = dict(preview)[date(2026, 3, 17)]
    assert tuesday[0] == datetime(2026, 3, 17, 7, 0, tzinfo=UTC)  # 08:00 CET
    assert len(tuesday) == 12  # 9 in 08:00-11:00, 3 in 11:00-12:10


def test_the_preview_reads_nothing_from_the_database(
    empty_agenda, consultation, django_assert_num_queries
):
    agenda = SimpleNamespace(zone=PARIS)
    motive = SimpleNamespace(
        pk=consultation.pk,
        duration=timedelta(minutes=30),
        min_notice=timedelta(0),
        horizon=timedelta(days=30),
    )

    with django_assert_num_queries(0):
        week = preview_week(
            agenda=agenda,
            rules=[RuleDraft(weekday=0, opens=time(9), closes=time(10))],
            motive=motive,
            week_start=date(2026, 3, 9),
            now=NOW,
        )

    assert week[0] == (
        date(2026, 3, 9),
        [
            datetime(2026, 3, 9, 8, 0, tzinfo=UTC),
            datetime(2026, 3, 9, 8, 30, tzinfo=UTC),
        ],
    )
    assert all(starts == [] for _, starts in week[1:])


@pytest.mark.parametrize(
    ("drafts", "error"),
    [
        ([RuleDraft(weekday=0, opens=time(12), closes=time(8))], OpeningHoursInvalid),
        ([RuleDraft(weekday=9, opens=time(8), closes=time(12))], WeekdayInvalid),
        (
            [
                RuleDraft(
                    weekday=0,
                    opens=time(8),
                    closes=time(12),
                    valid_from=date(2026, 4, 1),
                    valid_until=date(2026, 3, 1),
                )
            ],
            ValidityInvalid,
        ),
        (
            [
                RuleDraft(weekday=0, opens=time(8), closes=time(12)),
                RuleDraft(weekday=0, opens=time(11), closes=time(13)),
            ],
            OpeningRulesOverlap,
        ),
    ],
)
def test_the_preview_refuses_what_saving_refuses(
    frozen_now, empty_agenda, consultation, admin, drafts, error
):
    with pytest.raises(error):
        preview_week(
            agenda=empty_agenda,
            rules=drafts,
            motive=consultation,
            week_start=date(2026, 3, 9),
            now=NOW,
        )
    with pytest.raises(error):
        services.replace_opening_rules(
            actor=admin, agenda_id=empty_agenda.pk, rules=drafts
        )
    assert not OpeningRule.objects.filter(agenda=empty_agenda).exists()


def test_a_naive_or_zoned_time_is_refused():
    with pytest.raises(OpeningHoursInvalid):
        check_draft(RuleDraft(weekday=0, opens=time(8, tzinfo=UTC), closes=time(12)))


_times = st.integers(min_value=0, max_value=23 * 4).map(
    lambda quarter: time(quarter // 4, quarter % 4 * 15)
)
_days = st.one_of(
    st.none(), st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))
)


@st.composite
def _drafts(draw):
    opens = draw(_times)
    closes = draw(_times.filter(lambda value: value > opens))
    valid = sorted(d for d in (draw(_days), draw(_days)) if d is not None)
    return RuleDraft(
        weekday=draw(st.integers(0, 6)),
        opens=opens,
        closes=closes,
        valid_from=valid[0] if valid else None,
        valid_until=valid[-1] if len(valid) == 2 else None,
        motive_ids=draw(st.frozensets(st.integers(1, 3), max_size=2)),
    )


@given(st.lists(_drafts(), max_size=6))
def test_accepted_drafts_never_offer_one_motive_twice_at_once(drafts):
    try:
        check_no_overlap(drafts)
    except OpeningRulesOverlap:
        return
    for motive_id in (1, 2, 3):
        for day in (date(2026, 1, 5) + timedelta(days=n * 17) for n in range(21)):
            windows = [
                d.window()
                for d in drafts
                if d.applies_to(motive_id) and d.window().applies_on(day)
            ]
            spans = sorted((w.opens, w.closes) for w in windows)
            assert all(a[1] <= b[0] for a, b in pairwise(spans))


@given(_drafts(), _drafts())
def test_overlap_is_symmetric(first, second):
    assert drafts_overlap(first, second) == drafts_overlap(second, first)
