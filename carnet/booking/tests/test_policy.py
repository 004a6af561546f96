from datetime import timedelta

import pytest
import time_machine
from django.utils import translation

from carnet.accounts.errors import MfaRequired, NotStaffOfPractice
from carnet.accounts.models import StaffMembership
from carnet.accounts.tests.factories import PatientFactory, RelativeFactory
from carnet.audit.models import AuditEvent
from carnet.booking.errors import (
    BookingBlockedByNoShows,
    ExcuseAlreadyDecided,
    ExcuseAlreadySent,
    ExcuseInvalid,
    ExcuseNotPending,
    NoShowPolicyInvalid,
    StrikeNotCounted,
    StrikeNotFound,
)
from carnet.booking.models import Appointment, NoShowPolicy, Strike
from carnet.booking.policy import (
    count_strikes,
    decide_excuse,
    get_no_show_policy,
    is_blocked,
    list_strikes_for_practice,
    list_strikes_for_user,
    send_excuse,
    update_no_show_policy,
)
from carnet.booking.staff import mark_status, staff_book
from carnet.booking.tests.conftest import member, paris
from carnet.scheduling.tests.factories import MotiveFactory, OpeningRuleFactory

pytestmark = pytest.mark.django_db


def missed(actor, motive, patient, day: int) -> Strike:
    """A visit on `day` February 2026 at 09:00 that staff mark as a no-show."""
    appointment = Appointment.objects.create(
        agenda=motive.agenda,
        motive=motive,
        patient=patient,
        starts_at=paris(2026, 2, day, 9, 0),
        ends_at=paris(2026, 2, day, 9, 20),
    )
    mark_status(actor=actor, appointment_id=appointment.pk, status="noshow")
    return Strike.objects.get(appointment=appointment)


@pytest.fixture
def three_strikes(frozen_now, secretary, motive, patient):
    return [missed(secretary, motive, patient, day) for day in (10, 17, 24)]


def test_a_no_show_marked_by_staff_is_a_strike(frozen_now, secretary, motive, patient):
    strike = missed(secretary, motive, patient, 10)

    assert strike.patient == patient
    assert strike.practice == motive.agenda.practice
    assert strike.expires_at == paris(2026, 2, 10, 9, 0) + timedelta(days=365)
    assert strike.excused_at is None
    assert strike.counts_at(frozen_now)
    assert (
        count_strikes(
            patient=patient, practice_id=motive.agenda.practice_id, now=frozen_now
        )
        == 1
    )


def test_the_default_policy_blocks_after_three_strikes_a_year():
    policy = NoShowPolicy()

    assert (policy.enabled, policy.strikes_to_block, policy.strike_expiry_days) == (
        True,
        3,
        365,
    )


def test_a_practice_that_does_not_count_no_shows_records_no_strike(
    frozen_now, secretary, motive, patient
):
    NoShowPolicy.objects.create(practice=motive.agenda.practice, enabled=False)
    appointment = Appointment.objects.create(
        agenda=motive.agenda,
        motive=motive,
        patient=patient,
        starts_at=paris(2026, 2, 10, 9, 0),
        ends_at=paris(2026, 2, 10, 9, 20),
    )

    mark_status(actor=secretary, appointment_id=appointment.pk, status="noshow")

    assert Strike.objects.count() == 0


def test_the_threshold_blocks_online_booking_at_that_practice(
    three_strikes, motive, patient, book
):
    practice = motive.agenda.practice
    practice.phone = "+33142868200"
    practice.save()

    with pytest.raises(BookingBlockedByNoShows) as caught:
        book(motive, patient, paris(2026, 3, 3, 9, 0))

    assert Appointment.objects.filter(status="booked").count() == 0
    error = caught.value
    assert error.kind == "forbidden"
    assert error.details == {"phone": "01 42 86 82 00", "strikes": 3}
    with translation.override("en"):
        assert error.render() == (
            f"Online booking at {practice.name} is closed to you for now, because "
            "several appointments were missed without an excuse. To book, please "
            "call the practice on 01 42 86 82 00. You can also send an excuse for "
            "a missed appointment from your account."
        )


def test_without_a_phone_the_blocked_patient_is_told_to_contact_the_practice(
    three_strikes, motive, patient, book
):
    with pytest.raises(BookingBlockedByNoShows) as caught:
        book(motive, patient, paris(2026, 3, 3, 9, 0))

    with translation.override("en"):
        assert "please contact the practice directly" in caught.value.render()


def test_an_api_client_is_blocked_too(three_strikes, motive, patient, book):
    with pytest.raises(BookingBlockedByNoShows):
        book(motive, patient, paris(2026, 3, 3, 9, 0), actor=Appointment.Actor.API)


def test_two_strikes_do_not_block(frozen_now, secretary, motive, patient, book):
    missed(secretary, motive, patient, 10)
    missed(secretary, motive, patient, 17)

    assert book(motive, patient, paris(2026, 3, 3, 9, 0)).status == "booked"


def test_staff_booking_is_never_blocked(three_strikes, secretary, motive, patient):
    appointment = staff_book(
        actor=secretary,
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        patient=patient,
        starts_at=paris(2026, 3, 3, 9, 0),
    )

    assert appointment.status == "booked"


def test_blocking_is_per_practice(three_strikes, patient, book):
    elsewhere = MotiveFactory()
    OpeningRuleFactory(agenda=elsewhere.agenda, weekday=1)  # Tuesdays

    assert book(elsewhere, patient, paris(2026, 3, 3, 9, 0)).status == "booked"
    assert not is_blocked(
        patient=patient,
        practice_id=elsewhere.agenda.practice_id,
        now=paris(2026, 3, 2, 8, 0),
    )


def test_strikes_are_counted_per_patient(frozen_now, secretary, motive, patient, book):
    child = RelativeFactory(managed_by=patient)
    for day in (10, 17, 24):
        missed(secretary, motive, child, day)

    with pytest.raises(BookingBlockedByNoShows):
        book(motive, child, paris(2026, 3, 3, 9, 0))
    assert book(motive, patient, paris(2026, 3, 3, 9, 0)).status == "booked"


def test_expired_strikes_no_longer_count(three_strikes, motive, patient, book):
    practice_id = motive.agenda.practice_id
    assert is_blocked(patient=patient, practice_id=practice_id, now=paris(2026, 3, 2))

    first_expiry = three_strikes[0].expires_at
    assert is_blocked(
        patient=patient, practice_id=practice_id, now=first_expiry - timedelta(1)
    )
    assert not is_blocked(patient=patient, practice_id=practice_id, now=first_expiry)


def test_the_expiry_follows_the_practice_policy(frozen_now, secretary, motive, patient):
    NoShowPolicy.objects.create(
        practice=motive.agenda.practice, strike_expiry_days=30, strikes_to_block=1
    )

    strike = missed(secretary, motive, patient, 10)

    assert strike.expires_at == paris(2026, 3, 12, 9, 0)
    assert is_blocked(
        patient=patient,
        practice_id=motive.agenda.practice_id,
        now=paris(2026, 3, 12, 8, 59),
    )
    assert not is_blocked(
        patient=patient,
        practice_id=motive.agenda.practice_id,
        now=paris(2026, 3, 12, 9, 0),
    )


def test_disabling_the_policy_unblocks(three_strikes, motive, patient, book):
    NoShowPolicy.objects.create(practice=motive.agenda.practice, enabled=False)

    assert book(motive, patient, paris(2026, 3, 3, 9, 0)).status == "booked"


# -- what the patient sees, and excuses ------------------------------------------


def test_the_patient_sees_their_own_and_their_relatives_strikes(
    frozen_now, secretary, motive, patient
):
    child = RelativeFactory(managed_by=patient)
    own = missed(secretary, motive, patient, 10)
    childs = missed(secretary, motive, child, 17)
    missed(secretary, motive, PatientFactory(), 24)

    strikes = list(list_strikes_for_user(user=patient.account))

    assert strikes == [childs, own]
    assert strikes[0].expires_at == paris(2027, 2, 17, 9, 0)
    assert strikes[0].practice == motive.agenda.practice


def test_an_accepted_excuse_removes_the_strike_from_the_count(
    three_strikes, practitioner, motive, patient, book
):
    strike = three_strikes[0]

    sent = send_excuse(
        user=patient.account, strike_id=strike.pk, text="  Hospitalisé ce jour-là  "
    )
    assert sent.excuse_pending
    assert sent.excuse_sent_at is not None
    stored = Strike.objects.get(pk=strike.pk)
    assert stored.excuse_text == "Hospitalisé ce jour-là"
    assert b"Hospitalis" not in bytes(stored.excuse_text_sealed)

    decided = decide_excuse(actor=practitioner, strike_id=strike.pk, accept=True)

    assert decided.excused_at is not None
    assert decided.excuse_decided_by == practitioner
    assert not decided.excuse_pending
    assert (
        count_strikes(
            patient=patient,
            practice_id=motive.agenda.practice_id,
            now=paris(2026, 3, 2, 8, 0),
        )
        == 2
    )
    assert book(motive, patient, paris(2026, 3, 3, 9, 0)).status == "booked"
    event = AuditEvent.objects.filter(resource=f"strike:{strike.pk}").get()
    assert (event.actor_id, event.action) == (practitioner.pk, "update")


def test_a_refused_excuse_keeps_the_strike(three_strikes, practitioner, patient):
    strike = three_strikes[0]
    send_excuse(user=patient.account, strike_id=strike.pk, text="Oublié")

    decided = decide_excuse(actor=practitioner, strike_id=strike.pk, accept=False)

    assert decided.excused_at is None
    assert decided.excuse_decided_at is not None
    assert decided.counts_at(paris(2026, 3, 2))
    with pytest.raises(ExcuseAlreadyDecided):
        decide_excuse(actor=practitioner, strike_id=strike.pk, accept=True)


def test_staff_may_forgive_without_an_excuse_but_not_refuse_one_never_sent(
    three_strikes, practitioner
):
    with pytest.raises(ExcuseNotPending):
        decide_excuse(actor=practitioner, strike_id=three_strikes[0].pk, accept=False)

    forgiven = decide_excuse(
        actor=practitioner, strike_id=three_strikes[0].pk, accept=True
    )

    assert forgiven.excused_at is not None


@pytest.mark.parametrize("text", ["", "   ", "x" * 1001])
def test_an_excuse_must_say_something_short_enough(three_strikes, patient, text):
    with pytest.raises(ExcuseInvalid):
        send_excuse(user=patient.account, strike_id=three_strikes[0].pk, text=text)

    assert Strike.objects.get(pk=three_strikes[0].pk).excuse_sent_at is None


def test_one_excuse_per_strike(three_strikes, patient):
    send_excuse(user=patient.account, strike_id=three_strikes[0].pk, text="Malade")

    with pytest.raises(ExcuseAlreadySent):
        send_excuse(user=patient.account, strike_id=three_strikes[0].pk, text="Bis")

    assert Strike.objects.get(pk=three_strikes[0].pk).excuse_text == "Malade"


def test_no_excuse_for_an_expired_strike(three_strikes, patient):
    with (
        time_machine.travel(three_strikes[0].expires_at, tick=False),
        pytest.raises(StrikeNotCounted),
    ):
        send_excuse(user=patient.account, strike_id=three_strikes[0].pk, text="Tard")


def test_nobody_else_sends_an_excuse(three_strikes, secretary):
    with pytest.raises(StrikeNotFound):
        send_excuse(
            user=PatientFactory().account, strike_id=three_strikes[0].pk, text="x"
        )
    with pytest.raises(StrikeNotFound):
        send_excuse(user=secretary, strike_id=three_strikes[0].pk, text="x")


def test_only_practitioners_and_admins_of_the_practice_decide(
    three_strikes, secretary, outsider, without_mfa, agenda
):
    strike = three_strikes[0]
    for actor in (secretary, outsider):
        with pytest.raises(StrikeNotFound):
            decide_excuse(actor=actor, strike_id=strike.pk, accept=True)
    with pytest.raises(MfaRequired):
        decide_excuse(actor=without_mfa, strike_id=strike.pk, accept=True)
    with pytest.raises(StrikeNotFound):
        decide_excuse(actor=without_mfa, strike_id=999999, accept=True)

    strike.refresh_from_db()
    assert strike.excuse_decided_at is None
    assert not AuditEvent.objects.filter(resource__startswith="strike:").exists()


def test_staff_list_the_practices_strikes_and_each_read_is_audited(
    frozen_now, secretary, motive, patient
):
    other = PatientFactory()
    missed(secretary, motive, patient, 10)
    pending = missed(secretary, motive, other, 17)
    send_excuse(user=other.account, strike_id=pending.pk, text="Panne")

    everything = list_strikes_for_practice(
        actor=secretary, practice_id=motive.agenda.practice_id
    )
    only_pending = list_strikes_for_practice(
        actor=secretary, practice_id=motive.agenda.practice_id, pending_only=True
    )

    assert [s.patient for s in everything] == [other, patient]
    assert only_pending == [pending]
    reads = AuditEvent.objects.filter(action="read").order_by("pk")
    assert [e.patient_ref for e in reads] == [
        f"patient:{pk}" for pk in (*sorted([patient.pk, other.pk]), other.pk)
    ]
    assert {e.resource for e in reads} == {
        f"practice:{motive.agenda.practice_id}:no-shows"
    }


def test_another_practice_cannot_list_the_strikes(
    three_strikes, outsider, without_mfa, agenda
):
    with pytest.raises(NotStaffOfPractice):
        list_strikes_for_practice(actor=outsider, practice_id=agenda.practice_id)
    with pytest.raises(MfaRequired):
        list_strikes_for_practice(actor=without_mfa, practice_id=agenda.practice_id)

    assert not AuditEvent.objects.filter(action="read").exists()


# -- setting the policy ---------------------------------------------------------------


def test_the_practice_admin_sets_the_policy(db, agenda, enroll_totp):
    admin = member(agenda.practice, StaffMembership.Role.PRACTICE_ADMIN)
    enroll_totp(admin)

    update_no_show_policy(
        actor=admin,
        practice_id=agenda.practice_id,
        enabled=True,
        strikes_to_block=2,
        strike_expiry_days=180,
    )
    policy = get_no_show_policy(practice_id=agenda.practice_id)

    assert (policy.pk is not None, policy.strikes_to_block) == (True, 2)
    assert policy.strike_expiry_days == 180


@pytest.mark.parametrize(
    ("strikes", "days"), [(0, 365), (51, 365), (3, 0), (3, 3651), ("3", 365)]
)
def test_the_policy_values_stay_in_range(practitioner, agenda, strikes, days):
    with pytest.raises(NoShowPolicyInvalid):
        update_no_show_policy(
            actor=practitioner,
            practice_id=agenda.practice_id,
            enabled=True,
            strikes_to_block=strikes,
            strike_expiry_days=days,
        )

    assert NoShowPolicy.objects.count() == 0


def test_a_secretary_or_another_practice_cannot_set_the_policy(
    secretary, outsider, agenda
):
    for actor in (secretary, outsider):
        with pytest.raises(NotStaffOfPractice):
            update_no_show_policy(
                actor=actor,
                practice_id=agenda.practice_id,
                enabled=False,
                strikes_to_block=3,
                strike_expiry_days=365,
            )

    assert NoShowPolicy.objects.count() == 0
