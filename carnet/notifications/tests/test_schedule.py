"""Tests of the pure message schedule (no Django, no database).

Examples pin exact instants, including the Europe/Paris 2026 DST changes
(spring forward on Sunday 29 March, fall back on Sunday 25 October); property
tests (hypothesis) check the plan's invariants over two years in three zones.
"""

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carnet.notifications.schedule import (
    DEFAULT_OFFSETS,
    DEFAULT_SMS_QUIET_HOURS,
    PlannedMessage,
    plan_messages,
    reminder_offsets_from_hours,
)

PARIS = ZoneInfo("Europe/Paris")
ZONES = [PARIS, ZoneInfo("Europe/Berlin"), ZoneInfo("Europe/Rome")]
H = timedelta(hours=1)
MIN = timedelta(minutes=1)

# Tuesday 16 June 2026, 10:00 CEST (UTC+2): no DST change nearby.
STARTS = datetime(2026, 6, 16, 8, 0, tzinfo=UTC)
LONG_AGO = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def paris(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=PARIS, fold=fold)


def plan(**kwargs) -> list[PlannedMessage]:
    kwargs.setdefault("zone", PARIS)
    kwargs.setdefault("channels", ("email",))
    kwargs.setdefault("booked_at", LONG_AGO)
    kwargs.setdefault("now", kwargs["booked_at"])
    return plan_messages(**kwargs)


def confirmation(channel: str, due_at: datetime) -> PlannedMessage:
    return PlannedMessage(
        "confirmation", channel, due_at, None, f"confirmation:{channel}"
    )


def reminder(channel: str, due_at: datetime, hours: int) -> PlannedMessage:
    return PlannedMessage(
        "reminder",
        channel,
        due_at,
        timedelta(hours=hours),
        f"reminder:{channel}:{hours}h",
    )


def short(channel: str, due_at: datetime, offset: timedelta = 2 * H) -> PlannedMessage:
    return PlannedMessage(
        "reminder", channel, due_at, offset, f"reminder:{channel}:short-2h"
    )


def reminder_times(messages: list[PlannedMessage]) -> dict[str, datetime]:
    return {m.key_suffix: m.due_at for m in messages if m.kind == "reminder"}


# --------------------------------------------------------------------------
# The ordinary plan
# --------------------------------------------------------------------------


def test_booking_weeks_ahead_plans_a_confirmation_and_the_three_default_reminders():
    messages = plan(starts_at=STARTS)

    assert messages == [
        confirmation("email", LONG_AGO),
        reminder("email", utc(2026, 6, 9, 8, 0), 168),
        reminder("email", utc(2026, 6, 14, 8, 0), 48),
        reminder("email", utc(2026, 6, 15, 8, 0), 24),
    ]


def test_each_channel_gets_its_own_messages_in_the_order_of_the_channels():
    messages = plan(starts_at=STARTS, channels=("sms", "email"), offsets=[24 * H])

    assert messages == [
        confirmation("sms", LONG_AGO),
        confirmation("email", LONG_AGO),
        reminder("sms", utc(2026, 6, 15, 8, 0), 24),
        reminder("email", utc(2026, 6, 15, 8, 0), 24),
    ]


def test_due_instants_are_in_utc_whatever_zone_the_inputs_use():
    messages = plan(
        starts_at=STARTS.astimezone(PARIS),
        booked_at=LONG_AGO.astimezone(ZoneInfo("America/New_York")),
        offsets=[24 * H],
    )

    assert [m.due_at.tzinfo for m in messages] == [UTC, UTC]
    assert [m.due_at for m in messages] == [LONG_AGO, utc(2026, 6, 15, 8, 0)]


def test_disabled_reminders_leave_only_the_confirmation():
    messages = plan(
        starts_at=STARTS, channels=("email", "sms"), reminders_enabled=False
    )

    assert messages == [confirmation("email", LONG_AGO), confirmation("sms", LONG_AGO)]


def test_no_offsets_means_no_reminder_not_even_a_short_notice_one():
    booked = STARTS - 3 * H

    messages = plan(starts_at=STARTS, booked_at=booked, offsets=[])

    assert messages == [confirmation("email", booked)]


def test_no_channel_means_no_message():
    assert plan(starts_at=STARTS, channels=()) == []


def test_duplicate_offsets_count_once():
    messages = plan(starts_at=STARTS, offsets=[24 * H, 24 * H, timedelta(days=1)])

    assert reminder_times(messages) == {"reminder:email:24h": utc(2026, 6, 15, 8, 0)}


def test_key_suffixes_name_kind_channel_and_offset_and_are_stable():
    kwargs = {
        "starts_at": STARTS,
        "channels": ("email", "sms"),
        "offsets": [*DEFAULT_OFFSETS, timedelta(minutes=90)],
    }

    first, second = plan(**kwargs), plan(**kwargs)

    assert first == second
    assert sorted(m.key_suffix for m in first) == [
        "confirmation:email",
        "confirmation:sms",
        "reminder:email:168h",
        "reminder:email:24h",
        "reminder:email:48h",
        "reminder:email:90m",
        "reminder:sms:168h",
        "reminder:sms:24h",
        "reminder:sms:48h",
        "reminder:sms:90m",
    ]


def test_a_moved_appointment_is_planned_from_the_move():
    # given: booked long ago, moved a day later, two days before the new time
    moved_at = utc(2026, 6, 15, 8, 0)
    new_start = STARTS + timedelta(days=1)

    messages = plan(starts_at=new_start, booked_at=moved_at, now=moved_at)

    # then: the move is confirmed; the 7-day and 48 h reminders are gone
    assert messages == [
        confirmation("email", moved_at),
        reminder("email", utc(2026, 6, 16, 8, 0), 24),
    ]


# --------------------------------------------------------------------------
# Time passing: nothing in the past, no late confirmation
# --------------------------------------------------------------------------


def test_reminders_already_due_are_not_planned_again():
    now = utc(2026, 6, 14, 9, 0)  # after the 48 h reminder

    messages = plan(starts_at=STARTS, now=now)

    assert messages == [reminder("email", utc(2026, 6, 15, 8, 0), 24)]


def test_a_reminder_due_exactly_now_is_still_planned():
    now = utc(2026, 6, 15, 8, 0)

    messages = plan(starts_at=STARTS, now=now)

    assert messages == [reminder("email", now, 24)]


def test_the_confirmation_is_planned_only_within_its_window_after_booking():
    within = plan(starts_at=STARTS, now=LONG_AGO + 59 * MIN, offsets=[])
    after = plan(starts_at=STARTS, now=LONG_AGO + H, offsets=[])
    wider = plan(
        starts_at=STARTS,
        now=LONG_AGO + 5 * H,
        offsets=[],
        confirmation_window=timedelta(hours=6),
    )

    assert within == [confirmation("email", LONG_AGO)]
    assert after == []
    assert wider == [confirmation("email", LONG_AGO)]


def test_nothing_is_planned_once_the_appointment_has_started():
    assert plan(starts_at=STARTS, now=STARTS) == []
    assert plan(starts_at=STARTS, booked_at=STARTS, now=STARTS + H) == []


def test_a_confirmation_is_sent_even_minutes_before_the_start():
    booked = STARTS - 10 * MIN

    messages = plan(starts_at=STARTS, booked_at=booked)

    assert messages == [confirmation("email", booked)]


# --------------------------------------------------------------------------
# Short notice and the gap after booking
# --------------------------------------------------------------------------


def test_a_reminder_too_soon_after_booking_is_dropped():
    booked = STARTS - 40 * H  # the 24 h reminder comes 16 h after booking

    messages = plan(starts_at=STARTS, booked_at=booked)

    assert messages == [
        confirmation("email", booked),
        reminder("email", utc(2026, 6, 15, 8, 0), 24),
    ]


def test_booked_at_short_notice_gets_one_short_reminder_instead():
    booked = STARTS - 30 * H  # the 24 h reminder would come 6 h after booking

    messages = plan(starts_at=STARTS, booked_at=booked)

    assert messages == [
        confirmation("email", booked),
        short("email", STARTS - 2 * H),
    ]


def test_a_short_reminder_needs_half_an_hour_after_booking():
    exactly = plan(starts_at=STARTS, booked_at=STARTS - 150 * MIN)
    too_soon = plan(starts_at=STARTS, booked_at=STARTS - 149 * MIN)

    assert reminder_times(exactly) == {"reminder:email:short-2h": STARTS - 2 * H}
    assert reminder_times(too_soon) == {}


def test_short_notice_can_be_switched_off_or_tuned():
    booked = STARTS - 5 * H

    off = plan(starts_at=STARTS, booked_at=booked, short_notice_offset=None)
    three_hours = plan(
        starts_at=STARTS, booked_at=booked, short_notice_offset=timedelta(hours=3)
    )

    assert reminder_times(off) == {}
    assert reminder_times(three_hours) == {"reminder:email:short-3h": STARTS - 3 * H}


def test_short_notice_is_judged_at_booking_not_as_reminders_pass():
    # given: booked long ago; every configured reminder is now in the past
    now = utc(2026, 6, 15, 9, 0)

    messages = plan(starts_at=STARTS, now=now)

    # then: no short reminder appears late
    assert messages == []


def test_a_smaller_gap_after_booking_keeps_more_reminders():
    booked = STARTS - 30 * H

    messages = plan(
        starts_at=STARTS, booked_at=booked, min_gap_after_booking=timedelta(hours=6)
    )

    assert reminder_times(messages) == {"reminder:email:24h": STARTS - 24 * H}


# --------------------------------------------------------------------------
# Spread: never two reminders close together
# --------------------------------------------------------------------------


def test_of_two_reminders_closer_than_the_gap_the_later_one_stays():
    messages = plan(starts_at=STARTS, offsets=[24 * H, 20 * H])

    assert reminder_times(messages) == {"reminder:email:20h": STARTS - 20 * H}


def test_reminders_exactly_the_gap_apart_both_stay():
    messages = plan(starts_at=STARTS, offsets=[24 * H, 12 * H])

    assert reminder_times(messages) == {
        "reminder:email:24h": STARTS - 24 * H,
        "reminder:email:12h": STARTS - 12 * H,
    }


def test_sms_reminders_moved_together_by_quiet_hours_keep_only_the_later():
    # given: 09:00 appointment, reminders the day before at 09:00 and at 07:00
    starts = paris(2026, 6, 16, 9, 0).astimezone(UTC)

    messages = plan(
        starts_at=starts, channels=("sms", "email"), offsets=[24 * H, 2 * H]
    )

    # then: the 2 h SMS moves to 20:00 the evening before, 11 h after the 24 h
    # one, which is dropped; e-mail keeps both
    assert reminder_times(messages) == {
        "reminder:sms:2h": paris(2026, 6, 15, 20, 0).astimezone(UTC),
        "reminder:email:24h": paris(2026, 6, 15, 9, 0).astimezone(UTC),
        "reminder:email:2h": paris(2026, 6, 16, 7, 0).astimezone(UTC),
    }


# --------------------------------------------------------------------------
# SMS quiet hours
# --------------------------------------------------------------------------

EARLY = paris(2026, 6, 16, 7, 30).astimezone(UTC)  # Tuesday 07:30 CEST


def test_an_sms_due_in_quiet_hours_moves_to_the_evening_before_and_email_does_not():
    messages = plan(starts_at=EARLY, channels=("email", "sms"))

    assert reminder_times(messages) == {
        "reminder:email:168h": paris(2026, 6, 9, 7, 30).astimezone(UTC),
        "reminder:sms:168h": paris(2026, 6, 8, 20, 0).astimezone(UTC),
        "reminder:email:48h": paris(2026, 6, 14, 7, 30).astimezone(UTC),
        "reminder:sms:48h": paris(2026, 6, 13, 20, 0).astimezone(UTC),
        "reminder:email:24h": paris(2026, 6, 15, 7, 30).astimezone(UTC),
        "reminder:sms:24h": paris(2026, 6, 14, 20, 0).astimezone(UTC),
    }


def test_a_moved_sms_waits_for_the_gap_after_booking_if_quiet_hours_allow():
    booked = paris(2026, 6, 14, 8, 30).astimezone(UTC)  # gap ends 20:30

    messages = plan(starts_at=EARLY, booked_at=booked, channels=("email", "sms"))

    assert reminder_times(messages) == {
        "reminder:sms:24h": paris(2026, 6, 14, 20, 30).astimezone(UTC),
        "reminder:email:24h": paris(2026, 6, 15, 7, 30).astimezone(UTC),
    }


def test_an_sms_that_cannot_move_earlier_falls_back_to_the_short_reminder():
    # given: booked Sunday 09:00, so the gap ends just as quiet hours begin
    booked = paris(2026, 6, 14, 9, 0).astimezone(UTC)

    messages = plan(starts_at=EARLY, booked_at=booked, channels=("email", "sms"))

    # then: the short SMS (05:30, quiet) moves to Monday 20:00
    assert messages == [
        confirmation("email", booked),
        confirmation("sms", booked),
        reminder("email", paris(2026, 6, 15, 7, 30).astimezone(UTC), 24),
        short("sms", paris(2026, 6, 15, 20, 0).astimezone(UTC)),
    ]


def test_an_sms_with_no_allowed_time_left_is_dropped():
    # given: booked at 22:30 for 08:30 the next morning
    booked = paris(2026, 6, 15, 22, 30).astimezone(UTC)
    starts = paris(2026, 6, 16, 8, 30).astimezone(UTC)

    messages = plan(starts_at=starts, booked_at=booked, channels=("email", "sms"))

    # then: the confirmation SMS goes at once, the short reminder by e-mail only
    assert messages == [
        confirmation("email", booked),
        confirmation("sms", booked),
        short("email", paris(2026, 6, 16, 6, 30).astimezone(UTC)),
    ]


def test_quiet_hours_within_a_day_and_switched_off():
    starts = paris(2026, 6, 16, 15, 0).astimezone(UTC)

    lunch = plan(
        starts_at=starts,
        channels=("sms",),
        offsets=[2 * H],
        sms_quiet_hours=(time(12), time(14)),
    )
    none = plan(
        starts_at=starts, channels=("sms",), offsets=[2 * H], sms_quiet_hours=None
    )

    assert reminder_times(lunch) == {
        "reminder:sms:2h": paris(2026, 6, 16, 11, 0).astimezone(UTC)
    }
    assert reminder_times(none) == {
        "reminder:sms:2h": paris(2026, 6, 16, 13, 0).astimezone(UTC)
    }


def test_a_moved_sms_never_lands_in_the_previous_quiet_hours():
    # given: allowed only 08:00-08:30, a margin of 1 h would reach back before 08:00
    starts = paris(2026, 6, 16, 12, 0).astimezone(UTC)

    messages = plan(
        starts_at=starts,
        channels=("sms",),
        offsets=[2 * H],
        sms_quiet_hours=(time(8, 30), time(8, 0)),
    )

    assert reminder_times(messages) == {
        "reminder:sms:2h": paris(2026, 6, 16, 8, 0).astimezone(UTC)
    }


# --------------------------------------------------------------------------
# DST: whole days keep the wall-clock time, other offsets are durations
# --------------------------------------------------------------------------


def test_spring_forward_day_before_reminder_keeps_the_wall_clock_time():
    # given: Sunday 29 March 2026 09:00 CEST, the morning the clocks went forward
    starts = paris(2026, 3, 29, 9, 0)
    booked = utc(2026, 3, 1, 0, 0)

    times = reminder_times(plan(starts_at=starts, booked_at=booked))

    # then: 09:00 CET each time, 23 h, 47 h and 167 h before
    assert times == {
        "reminder:email:24h": paris(2026, 3, 28, 9, 0).astimezone(UTC),
        "reminder:email:48h": paris(2026, 3, 27, 9, 0).astimezone(UTC),
        "reminder:email:168h": paris(2026, 3, 22, 9, 0).astimezone(UTC),
    }
    assert times["reminder:email:24h"] == utc(2026, 3, 28, 8, 0)
    assert starts - times["reminder:email:24h"] == 23 * H


def test_spring_forward_day_after_keeps_the_wall_clock_time_too():
    # given: Monday 30 March 2026 09:00 CEST (07:00 UTC)
    starts = paris(2026, 3, 30, 9, 0)

    times = reminder_times(plan(starts_at=starts, booked_at=utc(2026, 3, 1)))

    assert times == {
        "reminder:email:24h": utc(2026, 3, 29, 7, 0),  # Sunday 09:00 CEST: 24 h
        "reminder:email:48h": utc(2026, 3, 28, 8, 0),  # Saturday 09:00 CET: 47 h
        "reminder:email:168h": utc(2026, 3, 23, 8, 0),  # Monday 09:00 CET: 167 h
    }


def test_fall_back_day_before_reminder_keeps_the_wall_clock_time():
    # given: Sunday 25 October 2026 09:00 CET (08:00 UTC), the morning clocks went back
    starts = paris(2026, 10, 25, 9, 0)

    times = reminder_times(plan(starts_at=starts, booked_at=utc(2026, 10, 1)))

    # then: 09:00 CEST each time, 25 h, 49 h and 169 h before
    assert times == {
        "reminder:email:24h": utc(2026, 10, 24, 7, 0),
        "reminder:email:48h": utc(2026, 10, 23, 7, 0),
        "reminder:email:168h": utc(2026, 10, 18, 7, 0),
    }
    assert starts - times["reminder:email:24h"] == 25 * H


def test_offsets_that_are_not_whole_days_are_exact_durations_across_dst():
    starts = paris(2026, 3, 29, 9, 0)  # 07:00 UTC

    times = reminder_times(
        plan(starts_at=starts, booked_at=utc(2026, 3, 1), offsets=[36 * H, 2 * H])
    )

    assert times == {
        "reminder:email:36h": utc(2026, 3, 27, 19, 0),  # 20:00 CET
        "reminder:email:2h": utc(2026, 3, 29, 5, 0),  # 07:00 CEST
    }


def test_a_wall_clock_time_in_the_spring_gap_is_read_as_the_jump():
    # given: 02:30 on Sunday 5 April; a week before, 02:30 did not exist
    starts = paris(2026, 4, 5, 2, 30)

    times = reminder_times(
        plan(starts_at=starts, booked_at=utc(2026, 3, 1), offsets=[timedelta(days=7)])
    )

    assert times == {"reminder:email:168h": utc(2026, 3, 29, 1, 0)}  # 03:00 CEST


def test_an_ambiguous_wall_clock_time_in_the_autumn_is_its_first_occurrence():
    # given: 02:30 on Sunday 1 November; a week before, 02:30 happened twice
    starts = paris(2026, 11, 1, 2, 30)

    times = reminder_times(
        plan(starts_at=starts, booked_at=utc(2026, 10, 1), offsets=[timedelta(days=7)])
    )

    assert times == {"reminder:email:168h": utc(2026, 10, 25, 0, 30)}  # 02:30 CEST


def test_a_second_occurrence_start_keeps_its_wall_time_a_day_earlier():
    # given: 02:30 CET on 25 October, the second 02:30 of the night
    starts = paris(2026, 10, 25, 2, 30, fold=1)
    assert starts.astimezone(UTC) == utc(2026, 10, 25, 1, 30)

    times = reminder_times(
        plan(starts_at=starts, booked_at=utc(2026, 10, 1), offsets=[24 * H])
    )

    assert times == {"reminder:email:24h": utc(2026, 10, 24, 0, 30)}  # 02:30 CEST


def test_sms_quiet_hours_follow_the_wall_clock_on_the_fall_back_night():
    # given: Monday 26 October 07:00 CET; the day before at 07:00 is quiet
    starts = paris(2026, 10, 26, 7, 0)

    times = reminder_times(
        plan(
            starts_at=starts,
            booked_at=utc(2026, 10, 1),
            channels=("sms",),
            offsets=[24 * H],
        )
    )

    # then: Saturday 20:00 CEST, one hour before the quiet hours began
    assert times == {"reminder:sms:24h": utc(2026, 10, 24, 18, 0)}


def test_sms_quiet_hours_follow_the_wall_clock_on_the_spring_forward_night():
    starts = paris(2026, 3, 30, 7, 0)

    times = reminder_times(
        plan(
            starts_at=starts,
            booked_at=utc(2026, 3, 1),
            channels=("sms",),
            offsets=[24 * H],
        )
    )

    assert times == {"reminder:sms:24h": utc(2026, 3, 28, 19, 0)}  # Saturday 20:00 CET


def test_quiet_hours_ending_in_the_repeated_hour_cover_both_occurrences():
    # given: quiet 01:30-02:45; an SMS due at the second 02:15 of 25 October
    starts = utc(2026, 10, 25, 3, 15)  # 04:15 CET
    assert (starts - 2 * H).astimezone(PARIS).fold == 1

    times = reminder_times(
        plan(
            starts_at=starts,
            booked_at=utc(2026, 10, 1),
            channels=("sms",),
            offsets=[2 * H],
            sms_quiet_hours=(time(1, 30), time(2, 45)),
        )
    )

    # then: still quiet, so it moves to 00:30 CEST, an hour before 01:30
    assert times == {"reminder:sms:2h": utc(2026, 10, 24, 22, 30)}


def test_quiet_hours_beginning_in_the_spring_gap_begin_at_the_jump():
    # given: quiet 02:30-03:15; an SMS due at 03:10 CEST on 29 March
    starts = utc(2026, 3, 29, 3, 10)  # 05:10 CEST

    times = reminder_times(
        plan(
            starts_at=starts,
            booked_at=utc(2026, 3, 1),
            channels=("sms",),
            offsets=[2 * H],
            sms_quiet_hours=(time(2, 30), time(3, 15)),
        )
    )

    # then: quiet began at the jump (03:00 CEST); it moves to 01:00 CET
    assert times == {"reminder:sms:2h": utc(2026, 3, 29, 0, 0)}


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"starts_at": STARTS.replace(tzinfo=None)}, "starts_at must be an aware"),
        ({"booked_at": LONG_AGO.replace(tzinfo=None)}, "booked_at must be an aware"),
        ({"now": LONG_AGO.replace(tzinfo=None)}, "now must be an aware"),
        ({"now": LONG_AGO - MIN}, "must not be before booked_at"),
        ({"offsets": [timedelta(0)]}, "each offset must be a positive"),
        ({"offsets": [-H]}, "each offset must be a positive"),
        ({"channels": "email"}, "not one string"),
        ({"channels": ("email", "email")}, "must be distinct"),
        ({"channels": ("e:mail",)}, "lowercase name"),
        ({"channels": ("",)}, "lowercase name"),
        ({"short_notice_offset": timedelta(0)}, "short_notice_offset"),
        ({"min_gap_after_booking": -H}, "min_gap_after_booking"),
        ({"short_notice_min_gap": -H}, "short_notice_min_gap"),
        ({"confirmation_window": -H}, "confirmation_window"),
        ({"sms_quiet_hours": (time(21), time(21))}, "same time"),
        ({"sms_quiet_hours": (time(21, tzinfo=UTC), time(8))}, "naive wall-clock"),
    ],
)
def test_bad_input_is_refused(overrides, match):
    kwargs = {"starts_at": STARTS, **overrides}

    with pytest.raises(ValueError, match=match):
        plan(**kwargs)


def test_a_non_datetime_or_non_zone_is_a_type_error():
    with pytest.raises(TypeError, match="starts_at must be a datetime"):
        plan(starts_at="2026-06-16T10:00:00+02:00")
    with pytest.raises(TypeError, match="zone must be a ZoneInfo"):
        plan(starts_at=STARTS, zone=UTC)


# --------------------------------------------------------------------------
# reminder_offsets_from_hours
# --------------------------------------------------------------------------


def test_offsets_from_hours_are_deduplicated_and_sorted_latest_reminder_last():
    assert reminder_offsets_from_hours([24, 168, 24, 48, 2]) == [
        timedelta(hours=168),
        timedelta(hours=48),
        timedelta(hours=24),
        timedelta(hours=2),
    ]


def test_offsets_from_hours_accept_the_bounds_and_nothing():
    assert reminder_offsets_from_hours(iter([720, 1])) == [
        timedelta(hours=720),
        timedelta(hours=1),
    ]
    assert reminder_offsets_from_hours([]) == []


@pytest.mark.parametrize(
    ("hours", "match"),
    [
        ([0], "from 1 to 720, got 0"),
        ([721], "from 1 to 720, got 721"),
        ([-24], "from 1 to 720"),
        ([True], "must be integers"),
        ([1.5], "must be integers"),
        (["24"], "must be integers"),
        ([None], "must be integers"),
    ],
)
def test_offsets_from_hours_refuse_what_is_not_whole_hours_in_range(hours, match):
    with pytest.raises(ValueError, match=match):
        reminder_offsets_from_hours(hours)


# --------------------------------------------------------------------------
# Property-based tests
# --------------------------------------------------------------------------

PROPERTY = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
FROM = utc(2026, 1, 1)
TWO_YEARS = timedelta(days=730)
# 01:00 UTC on the last Sundays of March and October, 2026 and 2027.
DST_CHANGES = [
    utc(2026, 3, 29, 1),
    utc(2026, 10, 25, 1),
    utc(2027, 3, 28, 1),
    utc(2027, 10, 31, 1),
]
QUIET_HOURS = [
    DEFAULT_SMS_QUIET_HOURS,
    (time(20), time(9, 30)),
    (time(12), time(14)),
    (time(2, 30), time(3, 15)),  # begins in the spring gap
    (time(1, 30), time(2, 45)),  # ends in the spring gap / the autumn overlap
    (time(0, 0), time(23, 0)),  # one allowed hour a day
    None,
]


def seconds(low: timedelta, high: timedelta) -> st.SearchStrategy[timedelta]:
    return st.integers(int(low.total_seconds()), int(high.total_seconds())).map(
        lambda value: timedelta(seconds=value)
    )


@st.composite
def scenarios(draw):
    anywhere = seconds(timedelta(0), TWO_YEARS).map(lambda delta: FROM + delta)
    near_dst = st.tuples(
        st.sampled_from(DST_CHANGES), seconds(-timedelta(days=9), timedelta(days=9))
    ).map(lambda pair: pair[0] + pair[1])
    starts = draw(st.one_of(anywhere, near_dst))
    lead = draw(
        st.one_of(
            seconds(timedelta(seconds=1), timedelta(days=3)),
            seconds(timedelta(days=3), timedelta(days=40)),
        )
    )
    booked = starts - lead
    now = booked + draw(st.just(timedelta(0)) | seconds(timedelta(0), lead))
    zone = draw(st.sampled_from(ZONES))
    offsets = draw(
        st.one_of(
            st.just(DEFAULT_OFFSETS),
            st.lists(st.integers(1, 720), max_size=5).map(reminder_offsets_from_hours),
            st.lists(seconds(timedelta(minutes=1), timedelta(days=10)), max_size=4),
        )
    )
    return {
        "starts_at": starts.astimezone(zone) if draw(st.booleans()) else starts,
        "booked_at": booked,
        "now": now,
        "zone": zone,
        "offsets": offsets,
        "channels": draw(
            st.sampled_from([("email",), ("sms",), ("email", "sms"), ("sms", "email")])
        ),
        "reminders_enabled": draw(st.booleans() | st.just(True)),
        "short_notice_offset": draw(
            st.sampled_from([None, 2 * H, timedelta(minutes=45)])
        ),
        "min_gap_after_booking": draw(
            st.sampled_from([timedelta(0), H, 12 * H, 30 * H])
        ),
        "sms_quiet_hours": draw(st.sampled_from(QUIET_HOURS)),
    }


def is_quiet(instant: datetime, zone: ZoneInfo, quiet: tuple[time, time]) -> bool:
    wall = instant.astimezone(zone).time().replace(fold=0)
    begins, ends = quiet
    if begins < ends:
        return begins <= wall < ends
    return wall >= begins or wall < ends


@PROPERTY
@given(scenarios())
def test_every_message_lies_between_booking_and_start_and_reminders_are_not_past(s):
    messages = plan_messages(**s)

    for message in messages:
        assert message.due_at.tzinfo is UTC
        assert s["booked_at"] <= message.due_at < s["starts_at"]
        if message.kind == "confirmation":
            assert message.due_at == s["booked_at"]
            assert message.offset is None
        else:
            assert message.due_at >= s["now"]
            if ":short-" in message.key_suffix:
                assert message.due_at >= s["booked_at"] + timedelta(minutes=30)
            else:
                assert message.due_at >= s["booked_at"] + s["min_gap_after_booking"]


@PROPERTY
@given(scenarios())
def test_reminders_of_one_channel_are_never_closer_than_the_gap(s):
    messages = plan_messages(**s)

    for channel in s["channels"]:
        times = [
            m.due_at for m in messages if m.kind == "reminder" and m.channel == channel
        ]
        for earlier, later in pairwise(times):
            assert later - earlier >= s["min_gap_after_booking"]
            assert later > earlier


@PROPERTY
@given(scenarios())
def test_no_sms_reminder_is_due_in_quiet_hours(s):
    messages = plan_messages(**s)

    if s["sms_quiet_hours"] is not None:
        for message in messages:
            if message.channel == "sms" and message.kind == "reminder":
                assert not is_quiet(message.due_at, s["zone"], s["sms_quiet_hours"])


@PROPERTY
@given(scenarios())
def test_the_plan_is_sorted_deterministic_and_its_keys_unique(s):
    messages = plan_messages(**s)

    assert [m.due_at for m in messages] == sorted(m.due_at for m in messages)
    assert plan_messages(**s) == messages
    assert len({m.key_suffix for m in messages}) == len(messages)
    for message in messages:
        assert message.key_suffix.split(":")[:2] == [message.kind, message.channel]


@PROPERTY
@given(scenarios(), st.data())
def test_a_later_now_plans_a_subset_of_the_earlier_plan(s, data):
    later = s["now"] + data.draw(seconds(timedelta(0), timedelta(days=45)))

    before = plan_messages(**s)
    after = plan_messages(**{**s, "now": later})

    assert set(after) <= set(before)
    assert after == [m for m in before if m in set(after)]
    assert all(m.due_at >= later for m in after if m.kind == "reminder")


@PROPERTY
@given(scenarios())
def test_email_reminders_are_at_the_offset_in_wall_clock_days_or_exact_hours(s):
    messages = plan_messages(**s)

    zone = s["zone"]
    # aware arithmetic in one tzinfo is wall-clock arithmetic: compute in UTC
    starts = s["starts_at"].astimezone(UTC)
    for message in messages:
        if message.channel != "email" or message.kind != "reminder":
            continue
        if message.offset % timedelta(days=1):
            assert message.due_at == starts - message.offset
        else:
            wall = starts.astimezone(zone).replace(tzinfo=None) - message.offset
            due_wall = message.due_at.astimezone(zone).replace(tzinfo=None)
            assert due_wall.date() == wall.date()
            # equal unless the wall time fell in a DST gap (then up to an hour later)
            assert timedelta(0) <= due_wall - wall <= H


@PROPERTY
@given(scenarios())
def test_booked_well_ahead_with_default_offsets_email_gets_all_three(s):
    s = {
        **s,
        "booked_at": s["starts_at"] - timedelta(days=9),
        "now": s["starts_at"] - timedelta(days=9),
        "offsets": DEFAULT_OFFSETS,
        "reminders_enabled": True,
        "min_gap_after_booking": 12 * H,
        "channels": ("email", "sms"),
    }

    messages = plan_messages(**s)

    email = [
        m.offset for m in messages if m.channel == "email" and m.kind == "reminder"
    ]
    sms = [m.offset for m in messages if m.channel == "sms" and m.kind == "reminder"]
    assert email == list(DEFAULT_OFFSETS)
    assert 24 * H in sms
