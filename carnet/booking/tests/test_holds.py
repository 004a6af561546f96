"""Slot holds: a chosen slot kept a few minutes for one visitor of the booking funnel."""

import threading
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connections
from django.test import override_settings
from django.utils import timezone, translation

from carnet.booking.errors import (
    HoldExpired,
    HoldNotFound,
    SlotInPast,
    SlotOutsideHours,
    SlotUnavailable,
)
from carnet.booking.models import Appointment, SlotHold
from carnet.booking.selectors import get_lapsed_hold, get_live_hold, list_free_slots
from carnet.booking.services import (
    book_appointment,
    hold_slot,
    release_hold,
    reschedule_appointment,
)
from carnet.scheduling.tests.factories import (
    AgendaFactory,
    MotiveFactory,
    OpeningRuleFactory,
)

PARIS = ZoneInfo("Europe/Paris")
SLOT = datetime(2026, 3, 3, 9, 0, tzinfo=PARIS)  # Tuesday, the day after NOW
pytestmark = pytest.mark.django_db


def book(motive, patient, starts_at, **kwargs):
    return book_appointment(
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        patient=patient,
        starts_at=starts_at,
        booked_by=patient.account,
        **kwargs,
    )


def hold(motive, starts_at=SLOT, holder="visitor-1"):
    return hold_slot(
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        starts_at=starts_at,
        holder=holder,
    )


def test_a_hold_keeps_the_slot_for_its_holder(frozen_now, motive):
    held = hold(motive)

    assert held.starts_at == SLOT.astimezone(UTC)
    assert held.ends_at == held.starts_at + motive.duration
    lasts = held.expires_at - held.created_at
    assert timedelta(minutes=9, seconds=59) < lasts <= timedelta(minutes=10)
    assert get_live_hold(hold_id=held.pk, holder="visitor-1") == held


def test_a_held_slot_cannot_be_booked_by_another_patient(frozen_now, motive, patient):
    hold(motive)

    with pytest.raises(SlotUnavailable) as caught:
        book(motive, patient, SLOT)

    assert Appointment.objects.count() == 0
    alternatives = caught.value.details["alternatives"]
    assert SLOT.isoformat() not in alternatives
    assert len(alternatives) == 5


def test_the_holder_books_the_held_slot_and_consumes_the_hold(
    frozen_now, motive, patient
):
    held = hold(motive)

    appointment = book(motive, patient, SLOT, hold_id=held.pk, holder="visitor-1")

    assert appointment.starts_at == SLOT
    assert not SlotHold.objects.exists()
    with pytest.raises(HoldNotFound):
        get_live_hold(hold_id=held.pk, holder="visitor-1")


def test_a_hold_expires_after_the_configured_minutes(frozen_now, motive, patient):
    held = hold(motive)

    with time_machine.travel(frozen_now + timedelta(minutes=9), tick=False):
        assert get_live_hold(hold_id=held.pk, holder="visitor-1") == held
        with pytest.raises(SlotUnavailable):
            book(motive, patient, SLOT)

    with time_machine.travel(frozen_now + timedelta(minutes=10, seconds=1), tick=False):
        with pytest.raises(HoldExpired) as caught:
            get_live_hold(hold_id=held.pk, holder="visitor-1")
        assert caught.value.code == "hold_expired"
        assert "10" in caught.value.render()
        assert book(motive, patient, SLOT).starts_at == SLOT


@override_settings(CARNET_HOLD_MINUTES=3)
def test_the_hold_length_comes_from_the_settings(frozen_now, motive, patient):
    held = hold(motive)
    assert held.expires_at - timezone.now() <= timedelta(minutes=3)

    with time_machine.travel(frozen_now + timedelta(minutes=4), tick=False):
        with pytest.raises(HoldExpired):
            get_live_hold(hold_id=held.pk, holder="visitor-1")
        assert book(motive, patient, SLOT).starts_at == SLOT


def test_the_holder_may_book_after_the_hold_expired_if_still_free(
    frozen_now, motive, patient
):
    held = hold(motive)
    with time_machine.travel(frozen_now + timedelta(minutes=30), tick=False):
        appointment = book(motive, patient, SLOT, hold_id=held.pk, holder="visitor-1")
    assert appointment.starts_at == SLOT


def test_one_live_hold_per_holder(frozen_now, motive, patient):
    first = hold(motive)
    second = hold(motive, starts_at=SLOT + timedelta(hours=1))

    assert list(SlotHold.objects.values_list("pk", flat=True)) == [second.pk]
    with pytest.raises(HoldNotFound):
        get_live_hold(hold_id=first.pk, holder="visitor-1")
    assert book(motive, patient, SLOT).starts_at == SLOT  # the first was released


def test_a_new_hold_on_another_agenda_releases_the_previous(frozen_now, motive):
    other_agenda = AgendaFactory()
    OpeningRuleFactory(agenda=other_agenda, weekday=1)
    other = MotiveFactory(agenda=other_agenda)
    hold(motive)

    moved = hold(other)

    assert list(SlotHold.objects.values_list("pk", flat=True)) == [moved.pk]
    assert SLOT.astimezone(UTC) in list_free_slots(
        motive=motive, first_day=SLOT.date(), days=1, now=timezone.now()
    )


def test_a_slot_held_by_someone_else_cannot_be_held(frozen_now, motive):
    hold(motive, holder="visitor-1")

    with pytest.raises(SlotUnavailable):
        hold(motive, holder="visitor-2")
    # An overlapping slot of a longer visit is refused too.
    long_visit = MotiveFactory(agenda=motive.agenda, duration_minutes=40)
    with pytest.raises(SlotUnavailable):
        hold(long_visit, starts_at=SLOT - timedelta(minutes=20), holder="visitor-2")
    # The holder may take the same slot again (a second click).
    assert hold(motive, holder="visitor-1").starts_at == SLOT


def test_a_booked_slot_cannot_be_held(frozen_now, motive, patient):
    book(motive, patient, SLOT)

    with pytest.raises(SlotUnavailable):
        hold(motive)
    assert not SlotHold.objects.exists()


@pytest.mark.parametrize(
    ("starts_at", "error"),
    [
        (datetime(2026, 3, 1, 9, 0, tzinfo=PARIS), SlotInPast),
        (datetime(2026, 3, 3, 9, 5, tzinfo=PARIS), SlotOutsideHours),
    ],
)
def test_a_hold_follows_the_booking_rules(frozen_now, motive, starts_at, error):
    with pytest.raises(error):
        hold(motive, starts_at=starts_at)
    assert not SlotHold.objects.exists()


def test_a_blank_holder_is_a_programming_error(frozen_now, motive):
    with pytest.raises(ValueError, match="holder"):
        hold(motive, holder="")


def test_release_frees_the_slot_and_is_idempotent(frozen_now, motive, patient):
    held = hold(motive)

    release_hold(hold_id=held.pk, holder="someone-else")
    assert SlotHold.objects.exists()
    release_hold(hold_id=held.pk, holder="visitor-1")
    release_hold(hold_id=held.pk, holder="visitor-1")
    release_hold(hold_id="not-a-uuid", holder="visitor-1")

    assert not SlotHold.objects.exists()
    assert book(motive, patient, SLOT).starts_at == SLOT


def test_a_hold_is_only_found_by_its_holder(frozen_now, motive):
    held = hold(motive)

    for hold_id, holder in [
        (held.pk, "visitor-2"),
        (held.pk, ""),
        (uuid.uuid4(), "visitor-1"),
        ("not-a-uuid", "visitor-1"),
    ]:
        with pytest.raises(HoldNotFound) as caught:
            get_live_hold(hold_id=hold_id, holder=holder)
        assert caught.value.kind == "not_found"


def test_hold_errors_are_translated_messages():
    with translation.override("fr"):
        assert HoldNotFound().render()
        assert HoldExpired(minutes=10).render()


def test_free_slots_hide_others_holds_but_show_the_holders_own(frozen_now, motive):
    hold(motive)
    day = SLOT.date()
    now = timezone.now()

    assert SLOT not in list_free_slots(motive=motive, first_day=day, days=1, now=now)
    own = list_free_slots(
        motive=motive, first_day=day, days=1, now=now, holder="visitor-1"
    )
    assert SLOT in own


def test_a_move_respects_others_holds(frozen_now, motive, patient):
    appointment = book(motive, patient, SLOT + timedelta(days=1))
    hold(motive, holder="visitor-2")

    with pytest.raises(SlotUnavailable):
        reschedule_appointment(
            user=patient.account, appointment_id=appointment.pk, starts_at=SLOT
        )

    held = hold(motive, starts_at=SLOT + timedelta(hours=2), holder="visitor-3")
    moved = reschedule_appointment(
        user=patient.account,
        appointment_id=appointment.pk,
        starts_at=SLOT + timedelta(hours=2),
        hold_id=held.pk,
        holder="visitor-3",
    )
    assert moved.starts_at == SLOT + timedelta(hours=2)
    assert list(SlotHold.objects.values_list("holder", flat=True)) == ["visitor-2"]


def test_staff_booking_also_respects_holds(frozen_now, motive, patient):
    hold(motive)
    with pytest.raises(SlotUnavailable):
        book(motive, patient, SLOT, actor=Appointment.Actor.STAFF)


def _soon(hour: int) -> datetime:
    day = timezone.now().astimezone(PARIS).date() + timedelta(days=3)
    return datetime.combine(day, time(hour), tzinfo=PARIS)


@pytest.mark.django_db(transaction=True)
def test_racing_holders_yield_exactly_one_hold():
    agenda = AgendaFactory()
    for weekday in range(7):
        OpeningRuleFactory(agenda=agenda, weekday=weekday)
    motive = MotiveFactory(agenda=agenda)
    long_visit = MotiveFactory(agenda=agenda, duration_minutes=60)
    slot = _soon(10)
    racers = 20
    barrier = threading.Barrier(racers)
    outcomes: list[object] = [None] * racers

    def attempt(index: int) -> None:
        try:
            barrier.wait()
            # Half take the slot itself, half a longer visit that overlaps it.
            chosen, start = (
                (motive, slot + timedelta(minutes=20))
                if index % 2
                else (long_visit, slot)
            )
            outcomes[index] = hold(chosen, starts_at=start, holder=f"racer-{index}")
        except Exception as exc:  # noqa: BLE001 - every outcome is asserted below
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    winners = [o for o in outcomes if isinstance(o, SlotHold)]
    losers = [o for o in outcomes if isinstance(o, SlotUnavailable)]
    assert len(winners) == 1, outcomes
    assert len(losers) == racers - 1, outcomes
    assert SlotHold.objects.count() == 1


def test_a_lapsed_hold_is_still_found_by_its_holder(frozen_now, motive):
    held = hold(motive)

    with time_machine.travel(frozen_now + timedelta(minutes=20), tick=False):
        with pytest.raises(HoldExpired):
            get_live_hold(hold_id=held.pk, holder="visitor-1")
        assert get_lapsed_hold(hold_id=held.pk, holder="visitor-1") == held
        with pytest.raises(HoldNotFound):
            get_lapsed_hold(hold_id=held.pk, holder="visitor-2")
