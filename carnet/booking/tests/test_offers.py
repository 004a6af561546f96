"""Waiting-list offers: a freed slot goes to waiting patients in turn, with a cascade.

The clock stands still at Monday 2 March 2026, 07:00 in Paris (NOW) unless a
test moves it; the agenda is open 08:00–18:00 every day and the motive lasts
20 minutes, with 60 minutes' notice and a 24-hour cancellation cut-off.
"""

import threading
from datetime import date, time, timedelta
from uuid import uuid4

import pytest
import time_machine
from django.core.management import call_command
from django.db import connections
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from carnet.accounts.tests.factories import PatientFactory, RelativeFactory
from carnet.booking import offers
from carnet.booking.errors import (
    CancellationTooLate,
    OfferAlreadyDecided,
    OfferExpired,
    OfferNotFound,
    SlotUnavailable,
)
from carnet.booking.models import (
    Appointment,
    SlotHold,
    WaitingListEntry,
    WaitlistOffer,
)
from carnet.booking.selectors import list_free_slots
from carnet.booking.services import (
    book_appointment,
    cancel_appointment,
    hold_slot,
    reschedule_appointment,
)
from carnet.booking.staff import staff_cancel
from carnet.booking.tests.conftest import paris
from carnet.booking.waitlist import join_waiting_list, leave_waiting_list
from carnet.notifications import links, outbox
from carnet.scheduling.tests.factories import (
    AgendaFactory,
    MotiveFactory,
    OpeningRuleFactory,
)
from conftest import NOW

pytestmark = pytest.mark.django_db

Offer = WaitlistOffer.Status
Entry = WaitingListEntry.Status

# Tuesday 3 March 2026, 10:00 in Paris: the slot that frees up (27 hours ahead).
SLOT = paris(2026, 3, 3, 10, 0)
FIFTEEN = timedelta(minutes=15)


@pytest.fixture
def clock():
    """The clock stopped at NOW; `clock.shift(delta)` moves it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sent(monkeypatch):
    """Every offer the outbox was asked to send, as (offer, now)."""
    calls = []
    monkeypatch.setattr(
        outbox, "offer_made", lambda *, offer, now: calls.append((offer, now))
    )
    return calls


@pytest.fixture
def cancelled_notices(monkeypatch):
    """Every cancellation the outbox was told of, as the appointment's id."""
    calls = []
    real = outbox.appointment_cancelled

    def record(*, appointment, by_practice, notify_patient, now):
        calls.append(appointment.pk)
        real(
            appointment=appointment,
            by_practice=by_practice,
            notify_patient=notify_patient,
            now=now,
        )

    monkeypatch.setattr(outbox, "appointment_cancelled", record)
    return calls


def book(motive, patient, starts_at, **kwargs):
    return book_appointment(
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        patient=patient,
        starts_at=starts_at,
        booked_by=patient.account,
        **kwargs,
    )


def wait(patient, motive, earliest=date(2026, 3, 2), latest=date(2026, 3, 31)):
    return join_waiting_list(
        user=patient.account,
        patient_id=None,
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        earliest_on=earliest,
        latest_on=latest,
    )


def cancel(appointment):
    return cancel_appointment(
        user=appointment.patient.account, appointment_id=appointment.pk
    )


def offers_free_slots(motive):
    """The motive's free starts on Tuesday 3 March, as the booking pages list them."""
    return list_free_slots(motive=motive, first_day=date(2026, 3, 3), days=1, now=NOW)


def token_of(offer):
    return offers.make_offer_token(offer)


def expiry_tasks():
    return DBTaskResult.objects.filter(task_path__endswith="expire_waitlist_offer")


def public_can_hold(motive, starts_at=SLOT):
    """Whether a visitor of the booking funnel can take `starts_at` now."""
    try:
        hold = hold_slot(
            agenda_id=motive.agenda_id,
            motive_id=motive.pk,
            starts_at=starts_at,
            holder=f"visitor-{uuid4()}",
        )
    except SlotUnavailable:
        return False
    hold.delete()
    return True


def live_offer():
    return WaitlistOffer.objects.get(status=Offer.OFFERED)


def status_of(entry):
    entry.refresh_from_db()
    return entry.status


@pytest.fixture
def anne(db):
    return PatientFactory(first_name="Anne", last_name="Arnaud")


@pytest.fixture
def bruno(db):
    return PatientFactory(first_name="Bruno", last_name="Bernard")


@pytest.fixture
def chloe(db):
    return PatientFactory(first_name="Chloé", last_name="Chevalier")


@pytest.fixture
def freed(clock, motive, anne, bruno, chloe, sent):
    """Anne booked SLOT; Bruno then Chloé wait; Anne cancels: Bruno gets the offer."""
    appointment = book(motive, anne, SLOT)
    first = wait(bruno, motive)
    second = wait(chloe, motive)
    cancel(appointment)
    return appointment, first, second


# -- the first offer ---------------------------------------------------------------


def test_a_cancelled_slot_is_offered_to_the_first_waiting_patient(
    freed, motive, bruno, sent
):
    _appointment, first, second = freed

    offer = live_offer()
    assert offer.entry == first
    assert (offer.agenda_id, offer.motive_id) == (motive.agenda_id, motive.pk)
    assert (offer.starts_at, offer.ends_at) == (SLOT, SLOT + timedelta(minutes=20))
    assert offer.expires_at == NOW + FIFTEEN
    assert offer.freed_appointment == _appointment
    assert status_of(first) == Entry.OFFERED
    assert status_of(second) == Entry.ACTIVE
    hold = SlotHold.objects.get()
    assert hold.holder == f"offer:{offer.ref}"
    assert (hold.starts_at, hold.ends_at, hold.expires_at) == (
        SLOT,
        SLOT + timedelta(minutes=20),
        NOW + FIFTEEN,
    )
    assert [(o.pk, now) for o, now in sent] == [(offer.pk, NOW)]
    assert sent[0][0].entry.patient == bruno


def test_the_public_cannot_take_an_offered_slot(freed, motive):
    stranger = PatientFactory()

    assert not public_can_hold(motive)
    with pytest.raises(SlotUnavailable):
        book(motive, stranger, SLOT)

    assert not Appointment.objects.filter(patient=stranger).exists()
    assert SLOT not in offers_free_slots(motive)


def test_the_expiry_task_is_enqueued_for_the_end_of_the_hold(freed):
    offer = live_offer()

    task = expiry_tasks().get()
    assert task.run_after == offer.expires_at
    assert task.args_kwargs["args"] == [offer.pk]


@override_settings(CARNET_WAITLIST_OFFER_MINUTES=40)
def test_the_hold_time_comes_from_the_settings(clock, motive, anne, bruno, sent):
    appointment = book(motive, anne, SLOT)
    wait(bruno, motive)

    cancel(appointment)

    assert live_offer().expires_at == NOW + timedelta(minutes=40)


def test_an_offer_ends_at_the_motives_notice_at_the_latest(
    clock, agenda, anne, bruno, sent
):
    motive = MotiveFactory(agenda=agenda, min_notice_minutes=70)
    # 08:20 in Paris, 80 minutes ahead: bookable for 10 more minutes only.
    soon = paris(2026, 3, 2, 8, 20)
    appointment = Appointment.objects.create(
        agenda=motive.agenda,
        motive=motive,
        patient=anne,
        starts_at=soon,
        ends_at=soon + motive.duration,
        status=Appointment.Status.CANCELLED,
    )
    wait(bruno, motive)

    offers.slot_freed(appointment=appointment, starts_at=soon, now=NOW)

    assert live_offer().expires_at == NOW + timedelta(minutes=10)


def test_a_slot_within_the_notice_or_past_is_not_offered(
    clock, motive, anne, bruno, sent
):
    soon = paris(2026, 3, 2, 8, 0)  # 60 minutes ahead: exactly the notice
    appointment = Appointment.objects.create(
        agenda=motive.agenda,
        motive=motive,
        patient=anne,
        starts_at=soon,
        ends_at=soon + motive.duration,
        status=Appointment.Status.CANCELLED,
    )
    entry = wait(bruno, motive)
    clock.shift(timedelta(minutes=1))

    offers.slot_freed(
        appointment=appointment, starts_at=soon, now=NOW + timedelta(minutes=1)
    )
    offers.slot_freed(
        appointment=appointment, starts_at=NOW - timedelta(hours=1), now=NOW
    )

    assert WaitlistOffer.objects.count() == 0
    assert SlotHold.objects.count() == 0
    assert status_of(entry) == Entry.ACTIVE
    assert sent == []


def test_no_waiting_patient_no_offer_and_no_hold(clock, motive, anne, sent):
    appointment = book(motive, anne, SLOT)

    cancel(appointment)

    assert WaitlistOffer.objects.count() == 0
    assert SlotHold.objects.count() == 0
    assert expiry_tasks().count() == 0
    assert sent == []
    assert SLOT in offers_free_slots(motive)
    assert public_can_hold(motive)


def test_who_is_skipped(clock, agenda, motive, anne, bruno, sent):
    appointment = book(motive, anne, SLOT)
    # Anne herself waits for an earlier slot of another motive: never her own.
    wait(anne, MotiveFactory(agenda=agenda, name="Bilan"))
    # Dates that do not include Tuesday 3 March.
    too_late = wait(PatientFactory(), motive, date(2026, 3, 4), date(2026, 3, 20))
    # Already has an appointment for the motive before the slot.
    early_bird = PatientFactory()
    book(motive, early_bird, paris(2026, 3, 3, 9, 0))
    wait(early_bird, motive)
    # A patient whose range fits, last in line.
    last = wait(bruno, motive)

    cancel(appointment)

    assert live_offer().entry == last
    assert status_of(too_late) == Entry.ACTIVE
    assert len(sent) == 1


def test_any_motive_of_the_agenda_that_fits_the_start_counts(
    clock, agenda, motive, anne, bruno, chloe, sent
):
    long_visit = MotiveFactory(agenda=agenda, name="Long", duration_minutes=40)
    bilan = MotiveFactory(agenda=agenda, name="Bilan", duration_minutes=20)
    appointment = book(motive, anne, SLOT)
    book(motive, PatientFactory(), SLOT + timedelta(minutes=20))  # right after
    wait(chloe, long_visit)  # 40 minutes would run into the next appointment
    entry = wait(bruno, bilan)

    cancel(appointment)

    offer = live_offer()
    assert (offer.entry, offer.motive) == (entry, bilan)


def test_a_patient_blocked_by_no_shows_is_skipped(clock, motive, anne, bruno, sent):
    from carnet.booking.models import Strike

    appointment = book(motive, anne, SLOT)
    blocked = PatientFactory()
    wait(blocked, motive)
    entry = wait(bruno, motive)
    for days in (3, 2, 1):
        missed = Appointment.objects.create(
            agenda=motive.agenda,
            motive=motive,
            patient=blocked,
            starts_at=NOW - timedelta(days=days),
            ends_at=NOW - timedelta(days=days) + motive.duration,
            status=Appointment.Status.NO_SHOW,
        )
        Strike.objects.create(
            patient=blocked,
            practice=motive.agenda.practice,
            appointment=missed,
            expires_at=NOW + timedelta(days=300),
        )

    cancel(appointment)

    assert live_offer().entry == entry


def test_a_moved_appointment_offers_its_old_time(clock, motive, anne, bruno, sent):
    appointment = book(motive, anne, SLOT)
    entry = wait(bruno, motive)

    reschedule_appointment(
        user=anne.account,
        appointment_id=appointment.pk,
        starts_at=paris(2026, 3, 5, 11, 0),
    )

    offer = live_offer()
    assert (offer.entry, offer.starts_at) == (entry, SLOT)


def test_a_staff_cancellation_offers_the_slot(
    clock, motive, anne, bruno, secretary, sent
):
    appointment = book(motive, anne, SLOT)
    entry = wait(bruno, motive)

    staff_cancel(actor=secretary, appointment_id=appointment.pk, reason="Absent")

    assert live_offer().entry == entry


# -- declining, expiry, the cascade ------------------------------------------------------


def test_decline_offers_the_slot_to_the_next_patient(freed, chloe, sent):
    _appointment, first, second = freed
    declined = live_offer()

    result = offers.decline_offer(
        token=token_of(declined), now=NOW + timedelta(minutes=2)
    )

    assert result.status == Offer.DECLINED
    assert result.decided_at == NOW + timedelta(minutes=2)
    assert status_of(first) == Entry.ACTIVE
    following = live_offer()
    assert following.entry == second
    assert following.expires_at == NOW + timedelta(minutes=2) + FIFTEEN
    assert SlotHold.objects.get().holder == following.holder
    assert [o.entry.patient for o, _now in sent] == [declined.entry.patient, chloe]


def test_declining_twice_changes_nothing(freed):
    offer = live_offer()
    offers.decline_offer(token=token_of(offer), now=NOW)
    after_first = list(WaitlistOffer.objects.values_list("pk", "status"))

    again = offers.decline_offer(token=token_of(offer), now=NOW)

    assert again.status == Offer.DECLINED
    assert list(WaitlistOffer.objects.values_list("pk", "status")) == after_first


def test_when_nobody_is_left_the_slot_goes_back_to_the_public(freed, motive):
    _appointment, first, second = freed
    offers.decline_offer(token=token_of(live_offer()), now=NOW)

    offers.decline_offer(token=token_of(live_offer()), now=NOW)

    assert not WaitlistOffer.objects.filter(status=Offer.OFFERED).exists()
    assert SlotHold.objects.count() == 0
    assert (status_of(first), status_of(second)) == (Entry.ACTIVE, Entry.ACTIVE)
    assert SLOT in offers_free_slots(motive)
    assert public_can_hold(motive)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("purge_audit_trail")
def test_the_expiry_task_cascades_when_the_hold_time_is_over(freed, clock, sent):
    _appointment, first, second = freed
    offer = live_offer()

    clock.shift(FIFTEEN)
    call_command(
        "db_worker", batch=True, no_startup_delay=True, queue_name="*", verbosity=0
    )

    offer.refresh_from_db()
    assert offer.status == Offer.EXPIRED
    assert offer.decided_at == NOW + FIFTEEN
    assert status_of(first) == Entry.ACTIVE
    following = live_offer()
    assert following.entry == second
    assert following.expires_at == NOW + 2 * FIFTEEN
    assert SlotHold.objects.get().holder == following.holder
    assert len(sent) == 2


def test_the_expiry_does_nothing_before_its_time_and_is_safe_twice(freed):
    offer = live_offer()

    early = offers.expire_offer(offer_id=offer.pk, now=NOW + timedelta(minutes=14))
    assert early.status == Offer.OFFERED
    assert expiry_tasks().count() == 2  # planned again for its end

    offers.expire_offer(offer_id=offer.pk, now=NOW + FIFTEEN)
    snapshot = list(WaitlistOffer.objects.values_list("pk", "status", "decided_at"))
    again = offers.expire_offer(offer_id=offer.pk, now=NOW + FIFTEEN + FIFTEEN)

    assert again.status == Offer.EXPIRED
    assert (
        list(WaitlistOffer.objects.values_list("pk", "status", "decided_at"))
        == snapshot
    )
    assert offers.expire_offer(offer_id=10**9, now=NOW) is None


def test_a_patient_is_never_offered_the_same_slot_twice(freed, motive, bruno, chloe):
    _appointment, first, _second = freed
    offers.decline_offer(token=token_of(live_offer()), now=NOW)  # Bruno
    chloe_offer = live_offer()
    offers.accept_offer(token=token_of(chloe_offer), now=NOW)
    booked = Appointment.objects.get(patient=chloe, status=Appointment.Status.BOOKED)

    # Chloé gives the time up again: Bruno waits still, but had it already.
    cancel(booked)

    assert status_of(first) == Entry.ACTIVE
    assert not WaitlistOffer.objects.filter(status=Offer.OFFERED).exists()
    assert (
        WaitlistOffer.objects.filter(entry__patient=bruno, starts_at=SLOT).count() == 1
    )
    assert SlotHold.objects.count() == 0


def test_a_patient_who_left_the_waiting_list_is_not_put_back(freed, bruno):
    _appointment, first, _second = freed
    offer = live_offer()

    leave_waiting_list(user=bruno.account, entry_id=first.pk)
    offers.decline_offer(token=token_of(offer), now=NOW)

    assert status_of(first) == Entry.CANCELLED


# -- accepting -------------------------------------------------------------------------


def test_accept_books_the_slot_for_the_waiting_patient(freed, bruno):
    _appointment, first, second = freed
    offer = live_offer()

    accepted = offers.accept_offer(
        token=token_of(offer), now=NOW + timedelta(minutes=3)
    )

    booked = accepted.appointment
    assert accepted.status == Offer.ACCEPTED
    assert accepted.decided_at == NOW + timedelta(minutes=3)
    assert (booked.patient, booked.starts_at, booked.status) == (
        bruno,
        SLOT,
        Appointment.Status.BOOKED,
    )
    assert booked.booked_by == bruno.account
    assert booked.booked_by_kind == Appointment.Actor.PATIENT
    assert accepted.released_appointment is None
    assert status_of(first) == Entry.FULFILLED
    assert status_of(second) == Entry.ACTIVE
    assert SlotHold.objects.count() == 0


def test_accepting_releases_the_later_appointment_and_offers_it_on(
    clock, agenda, motive, anne, bruno, chloe, sent, cancelled_notices
):
    # A 48-hour cut-off: Bruno could no longer cancel his later visit himself.
    strict = MotiveFactory(agenda=agenda, name="Suivi", cancellation_cutoff_hours=48)
    appointment = book(motive, anne, SLOT)
    later = book(strict, bruno, SLOT + timedelta(hours=3))
    with pytest.raises(CancellationTooLate):
        cancel(later)
    first = wait(bruno, strict)
    second = wait(chloe, strict)
    cancel(appointment)
    offer = live_offer()
    assert offer.entry == first  # a later appointment does not stand in the way

    accepted = offers.accept_offer(token=token_of(offer), now=NOW)

    later.refresh_from_db()
    assert accepted.released_appointment == later
    assert later.status == Appointment.Status.CANCELLED
    assert later.cancelled_by_kind == Appointment.Actor.PATIENT
    assert later.cancellation_reason == offers.RELEASE_REASON
    assert later.pk in cancelled_notices  # its pending reminders are cancelled
    assert (accepted.appointment.starts_at, accepted.appointment.motive) == (
        SLOT,
        strict,
    )
    # The released time goes on to the next patient waiting.
    following = live_offer()
    assert (following.entry, following.starts_at) == (second, later.starts_at)
    assert following.freed_appointment == later
    assert [o.entry.patient for o, _now in sent] == [bruno, chloe]
    assert status_of(first) == Entry.FULFILLED
    assert not public_can_hold(strict, later.starts_at)


def test_only_the_next_later_appointment_of_the_same_motive_is_released(
    clock, agenda, motive, anne, bruno, sent
):
    other = MotiveFactory(agenda=agenda, name="Bilan")
    appointment = book(motive, anne, SLOT)
    next_one = book(motive, bruno, paris(2026, 3, 10, 10, 0))
    after_that = book(motive, bruno, paris(2026, 3, 17, 10, 0))
    other_motive = book(other, bruno, paris(2026, 3, 9, 10, 0))
    wait(bruno, motive)
    cancel(appointment)

    offers.accept_offer(token=token_of(live_offer()), now=NOW)

    statuses = {
        a.pk: a.status
        for a in Appointment.objects.filter(
            pk__in=[next_one.pk, after_that.pk, other_motive.pk]
        )
    }
    assert statuses == {
        next_one.pk: Appointment.Status.CANCELLED,
        after_that.pk: Appointment.Status.BOOKED,
        other_motive.pk: Appointment.Status.BOOKED,
    }


def test_a_relative_is_booked_by_the_account_that_manages_them(
    clock, motive, anne, bruno, sent
):
    child = RelativeFactory(managed_by=bruno)
    appointment = book(motive, anne, SLOT)
    join_waiting_list(
        user=bruno.account,
        patient_id=child.pk,
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        earliest_on=date(2026, 3, 2),
        latest_on=date(2026, 3, 31),
    )
    cancel(appointment)

    booked = offers.accept_offer(token=token_of(live_offer()), now=NOW).appointment

    assert (booked.patient, booked.booked_by) == (child, bruno.account)


def test_accepting_twice_shows_the_same_result(freed):
    offer = live_offer()
    first = offers.accept_offer(token=token_of(offer), now=NOW)

    again = offers.accept_offer(token=token_of(offer), now=NOW + timedelta(minutes=1))
    # Even once the link has expired, the booked offer still reads as booked.
    late = offers.accept_offer(token=token_of(offer), now=NOW + timedelta(days=1))

    assert again.pk == late.pk == first.pk
    assert again.appointment_id == late.appointment_id == first.appointment_id
    assert Appointment.objects.filter(status=Appointment.Status.BOOKED).count() == 1


def test_accept_and_decline_exclude_each_other(freed):
    _appointment, first, second = freed
    bruno_offer = live_offer()
    offers.decline_offer(token=token_of(bruno_offer), now=NOW)
    chloe_offer = live_offer()
    offers.accept_offer(token=token_of(chloe_offer), now=NOW)

    with pytest.raises(OfferAlreadyDecided):
        offers.accept_offer(token=token_of(bruno_offer), now=NOW)
    with pytest.raises(OfferAlreadyDecided):
        offers.decline_offer(token=token_of(chloe_offer), now=NOW)

    assert status_of(first) == Entry.ACTIVE
    assert status_of(second) == Entry.FULFILLED


def test_accepting_too_late_expires_the_offer_and_cascades(freed):
    _appointment, first, second = freed
    offer = live_offer()

    with pytest.raises(OfferExpired):
        offers.accept_offer(token=token_of(offer), now=NOW + FIFTEEN)

    offer.refresh_from_db()
    assert offer.status == Offer.EXPIRED
    assert status_of(first) == Entry.ACTIVE
    assert live_offer().entry == second
    assert not Appointment.objects.filter(status=Appointment.Status.BOOKED).exists()
    with pytest.raises(OfferExpired):
        offers.accept_offer(token=token_of(offer), now=NOW + FIFTEEN)


def test_a_slot_taken_meanwhile_withdraws_the_offer(freed, motive):
    _appointment, first, second = freed
    offer = live_offer()
    # Staff put someone on top of it (overbooking ignores holds).
    Appointment.objects.create(
        agenda=motive.agenda,
        motive=motive,
        patient=PatientFactory(),
        starts_at=SLOT,
        ends_at=SLOT + motive.duration,
        booked_by_kind=Appointment.Actor.STAFF,
        is_overbooked=True,
    )

    with pytest.raises(SlotUnavailable):
        offers.accept_offer(token=token_of(offer), now=NOW)

    offer.refresh_from_db()
    assert offer.status == Offer.WITHDRAWN
    assert offer.appointment is None
    assert status_of(first) == Entry.ACTIVE
    assert status_of(second) == Entry.ACTIVE  # the slot is taken: nothing to offer
    assert SlotHold.objects.count() == 0


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-token",
        "A" * 34 + "." + "B" * 43,
    ],
)
def test_a_bad_token_is_a_clear_error(freed, token):
    with pytest.raises(OfferNotFound) as caught:
        offers.accept_offer(token=token, now=NOW)
    with pytest.raises(OfferNotFound):
        offers.decline_offer(token=token, now=NOW)
    with pytest.raises(OfferNotFound):
        offers.get_offer(token=token, now=NOW)

    assert caught.value.code == "offer_not_found"
    assert caught.value.render()
    assert live_offer().status == Offer.OFFERED


def test_a_reminder_token_or_an_unknown_offer_is_not_an_offer(freed):
    offer = live_offer()
    confirm = links.make_action_token(
        appointment_ref=str(offer.ref),
        version=0,
        action=links.ACTION_CONFIRM,
        expires_at=offer.expires_at,
    )
    unknown = links.make_action_token(
        appointment_ref=str(uuid4()),
        version=0,
        action=links.ACTION_OFFER,
        expires_at=offer.expires_at,
    )

    for token in (confirm, unknown):
        with pytest.raises(OfferNotFound):
            offers.accept_offer(token=token, now=NOW)

    assert live_offer().pk == offer.pk


def test_the_offer_link_names_the_offer_and_ends_with_it(freed):
    offer = live_offer()

    path = offers.offer_url_path(offer)

    token = path.removeprefix("/offers/").removesuffix("/")
    content = links.read_action_token(token, now=NOW)
    assert path == f"/offers/{token}/"
    assert (content.appointment_ref, content.version, content.action) == (
        str(offer.ref),
        0,
        "offer",
    )
    assert content.expires_at == offer.expires_at


def test_staff_see_until_when_an_offer_runs(freed):
    _appointment, first, second = freed

    expiries = offers.get_live_offer_expiries(entry_ids=[first.pk, second.pk], now=NOW)

    assert expiries == {first.pk: NOW + FIFTEEN}
    assert offers.get_live_offer_expiries(entry_ids=[first.pk], now=NOW + FIFTEEN) == {}


# -- races -----------------------------------------------------------------------------


def _open_agenda():
    agenda = AgendaFactory(time_zone="Europe/Paris")
    for weekday in range(7):
        OpeningRuleFactory(
            agenda=agenda, weekday=weekday, opens_time=time(8), closes_time=time(18)
        )
    return agenda


@pytest.mark.django_db(transaction=True)
def test_concurrent_accepts_book_once_and_answer_alike(monkeypatch):
    monkeypatch.setattr(outbox, "offer_made", lambda *, offer, now: None)
    with time_machine.travel(NOW, tick=True):
        motive = MotiveFactory(agenda=_open_agenda())
        anne, bruno = PatientFactory(), PatientFactory()
        appointment = book(motive, anne, SLOT)
        wait(bruno, motive)
        cancel(appointment)
        token = token_of(live_offer())
        barrier = threading.Barrier(3)
        outcomes = [None] * 3

        def accept(index):
            try:
                barrier.wait()
                outcomes[index] = offers.accept_offer(
                    token=token, now=NOW + timedelta(seconds=1)
                ).appointment_id
            except Exception as exc:  # noqa: BLE001 - every outcome is asserted
                outcomes[index] = exc
            finally:
                connections.close_all()

        threads = [threading.Thread(target=accept, args=(i,)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    booked = Appointment.objects.get(patient=bruno, status=Appointment.Status.BOOKED)
    assert outcomes == [booked.pk] * 3
