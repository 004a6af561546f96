from datetime import timedelta

import pytest
import time_machine
from django.utils import translation

from carnet.accounts.errors import MfaRequired, NotStaffOfPractice
from carnet.accounts.tests.factories import PatientFactory
from carnet.audit.models import AuditEvent
from carnet.booking.errors import (
    AppointmentNotFound,
    AppointmentNotToday,
    NoShowTooEarly,
    NoShowUndoTooLate,
    RunningLateInvalid,
    StatusInvalid,
    StatusTransitionNotAllowed,
)
from carnet.booking.models import Appointment, RunningLate, Strike
from carnet.booking.staff import TRANSITIONS, declare_running_late, mark_status
from carnet.booking.tests.conftest import paris
from carnet.core.errors import NotFound

pytestmark = pytest.mark.django_db
S = Appointment.Status
STATUSES = [S.BOOKED, S.ARRIVED, S.IN_CONSULTATION, S.FULFILLED, S.NO_SHOW, S.CANCELLED]


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def nine(frozen_now, motive, patient, book):
    """Today's 09:00 appointment (Monday 2 March, Paris)."""
    return book(motive, patient, paris(2026, 3, 2, 9, 0))


def mark(actor, appointment, status):
    return mark_status(actor=actor, appointment_id=appointment.pk, status=status)


def test_the_day_of_a_visit_from_arrival_to_seen(nine, secretary, practitioner):
    with at(paris(2026, 3, 2, 8, 55)):
        mark(secretary, nine, S.ARRIVED)
    with at(paris(2026, 3, 2, 9, 5)):
        mark(practitioner, nine, S.IN_CONSULTATION)
    with at(paris(2026, 3, 2, 9, 21)):
        seen = mark(practitioner, nine, S.FULFILLED)

    seen.refresh_from_db()
    assert seen.status == S.FULFILLED
    assert seen.arrived_at == paris(2026, 3, 2, 8, 55)
    assert seen.consultation_started_at == paris(2026, 3, 2, 9, 5)
    assert seen.fulfilled_at == paris(2026, 3, 2, 9, 21)
    assert seen.no_show_at is None
    events = AuditEvent.objects.order_by("pk")
    assert [(e.actor_id, e.action, e.purpose) for e in events] == [
        (secretary.pk, "update", "care"),
        (practitioner.pk, "update", "care"),
        (practitioner.pk, "update", "care"),
    ]
    assert {e.resource for e in events} == {f"appointment:{nine.pk}:status"}


def _put(appointment, status, now):
    fields = {"status": status}
    if status == S.NO_SHOW:
        fields["no_show_at"] = now
    Appointment.objects.filter(pk=appointment.pk).update(**fields)


@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_transitions_table(nine, secretary, current, target):
    now = paris(2026, 3, 2, 9, 30)
    with at(now):
        _put(nine, current, now)
        if target == S.CANCELLED:
            with pytest.raises(StatusInvalid):
                mark(secretary, nine, target)
            outcome = current
        elif target == current:
            mark(secretary, nine, target)
            outcome = current
        elif (current, target) in TRANSITIONS:
            mark(secretary, nine, target)
            outcome = target
        else:
            with pytest.raises(StatusTransitionNotAllowed):
                mark(secretary, nine, target)
            outcome = current

    nine.refresh_from_db()
    assert nine.status == outcome
    changed = outcome != current
    assert AuditEvent.objects.count() == (1 if changed else 0)


def test_the_allowed_transitions_are_exactly_these():
    assert set(TRANSITIONS) == {
        ("booked", "arrived"),
        ("arrived", "in_consultation"),
        ("in_consultation", "fulfilled"),
        ("booked", "noshow"),
        ("noshow", "booked"),
    }


def test_a_refused_transition_names_both_statuses(nine, secretary):
    with pytest.raises(StatusTransitionNotAllowed) as caught:
        mark(secretary, nine, S.FULFILLED)

    with translation.override("en"):
        assert caught.value.render() == (
            "An appointment that is “booked” cannot be marked “seen”."
        )
    with translation.override("fr"):
        assert "réservé" in caught.value.render()


def test_an_unknown_status_is_invalid(nine, secretary):
    with pytest.raises(StatusInvalid):
        mark(secretary, nine, "teleported")


def test_no_show_only_once_the_start_has_passed(nine, secretary):
    with at(paris(2026, 3, 2, 8, 59)), pytest.raises(NoShowTooEarly):
        mark(secretary, nine, S.NO_SHOW)
    assert Strike.objects.count() == 0

    with at(paris(2026, 3, 2, 9, 0)):
        marked = mark(secretary, nine, S.NO_SHOW)

    assert marked.status == S.NO_SHOW
    assert marked.no_show_at == paris(2026, 3, 2, 9, 0)


def test_arrival_is_not_marked_on_an_earlier_day(
    frozen_now, secretary, motive, patient, book
):
    tomorrow = book(motive, patient, paris(2026, 3, 3, 9, 0))

    with pytest.raises(AppointmentNotToday):
        mark(secretary, tomorrow, S.ARRIVED)

    with at(paris(2026, 3, 3, 8, 30)):
        assert mark(secretary, tomorrow, S.ARRIVED).status == S.ARRIVED


def test_a_wrong_no_show_is_undone_the_same_day_and_its_strike_forgotten(
    nine, secretary
):
    with at(paris(2026, 3, 2, 9, 15)):
        mark(secretary, nine, S.NO_SHOW)
    assert Strike.objects.filter(appointment=nine).count() == 1

    with at(paris(2026, 3, 2, 23, 30)):
        undone = mark(secretary, nine, S.BOOKED)

    undone.refresh_from_db()
    assert undone.status == S.BOOKED
    assert undone.no_show_at is None
    assert Strike.objects.count() == 0


def test_a_no_show_cannot_be_undone_the_next_day(nine, secretary):
    with at(paris(2026, 3, 2, 9, 15)):
        mark(secretary, nine, S.NO_SHOW)

    with at(paris(2026, 3, 3, 0, 5)), pytest.raises(NoShowUndoTooLate):
        mark(secretary, nine, S.BOOKED)

    nine.refresh_from_db()
    assert nine.status == S.NO_SHOW
    assert Strike.objects.count() == 1


def test_mark_status_for_another_practice_is_not_found(nine, outsider, without_mfa):
    with pytest.raises(AppointmentNotFound):
        mark(outsider, nine, S.ARRIVED)
    with pytest.raises(MfaRequired):
        mark(without_mfa, nine, S.ARRIVED)

    nine.refresh_from_db()
    assert nine.status == S.BOOKED
    assert AuditEvent.objects.count() == 0


# -- running late -------------------------------------------------------------------


def test_running_late_concerns_the_days_remaining_booked_appointments(
    frozen_now, secretary, motive, patient, book
):
    early = book(motive, patient, paris(2026, 3, 2, 9, 0))
    arrived = book(motive, PatientFactory(), paris(2026, 3, 2, 10, 0))
    later = book(motive, PatientFactory(), paris(2026, 3, 2, 11, 0))
    last = book(motive, PatientFactory(), paris(2026, 3, 2, 17, 40))
    book(motive, PatientFactory(), paris(2026, 3, 3, 9, 0))  # tomorrow
    with at(paris(2026, 3, 2, 9, 50)):
        mark(secretary, arrived, S.ARRIVED)
        late = declare_running_late(
            actor=secretary, agenda_id=motive.agenda_id, minutes=25
        )

    late.refresh_from_db()
    assert late.day.isoformat() == "2026-03-02"
    assert late.minutes == 25
    assert late.actor == secretary
    assert late.created_at == paris(2026, 3, 2, 9, 50)
    # The outbox wrote the patients' notices in the same transaction.
    assert late.notified_at == paris(2026, 3, 2, 9, 50)
    assert list(late.appointments.order_by("starts_at")) == [later, last]
    assert early not in late.appointments.all()
    events = AuditEvent.objects.filter(resource__contains="running-late")
    assert sorted(e.patient_ref for e in events) == sorted(
        f"patient:{a.patient_id}" for a in (later, last)
    )
    assert {(e.action, e.resource) for e in events} == {
        ("read", f"agenda:{motive.agenda_id}:running-late:2026-03-02")
    }


@pytest.mark.parametrize("minutes", [0, -5, 241, "10", 2.5, True])
def test_running_late_needs_a_sensible_delay(frozen_now, secretary, agenda, minutes):
    with pytest.raises(RunningLateInvalid):
        declare_running_late(actor=secretary, agenda_id=agenda.pk, minutes=minutes)

    assert RunningLate.objects.count() == 0


def test_running_late_for_another_practice_is_refused(
    frozen_now, outsider, without_mfa, agenda
):
    with pytest.raises(NotStaffOfPractice):
        declare_running_late(actor=outsider, agenda_id=agenda.pk, minutes=10)
    with pytest.raises(MfaRequired):
        declare_running_late(actor=without_mfa, agenda_id=agenda.pk, minutes=10)
    with pytest.raises(NotFound):
        declare_running_late(actor=outsider, agenda_id=agenda.pk + 1000, minutes=10)

    assert RunningLate.objects.count() == 0


def test_running_late_at_the_end_of_the_day_concerns_the_last_visit(
    frozen_now, secretary, motive, patient, book
):
    evening = book(motive, patient, paris(2026, 3, 2, 17, 40))

    with at(paris(2026, 3, 2, 17, 30) + timedelta(minutes=1)):
        late = declare_running_late(
            actor=secretary, agenda_id=motive.agenda_id, minutes=5
        )

    assert list(late.appointments.all()) == [evening]
