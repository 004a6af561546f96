from datetime import date

import pytest
import time_machine
from django.db import IntegrityError, transaction

from carnet.accounts.errors import MfaRequired, NotStaffOfPractice, RelativeNotFound
from carnet.accounts.tests.factories import PatientFactory, RelativeFactory
from carnet.audit.models import AuditEvent
from carnet.booking.errors import (
    BookingBlockedByNoShows,
    MotiveClosedToNewPatients,
    WaitingListDatesInvalid,
    WaitingListDuplicate,
    WaitingListEntryNotFound,
    WaitingListOutsideHorizon,
)
from carnet.booking.models import Appointment, NoShowPolicy, Strike, WaitingListEntry
from carnet.booking.tests.conftest import paris
from carnet.booking.waitlist import (
    join_waiting_list,
    leave_waiting_list,
    list_waiting_entries_for_user,
    list_waiting_list,
)
from carnet.core.errors import NotFound
from carnet.scheduling.errors import MotiveNotFound
from carnet.scheduling.tests.factories import MotiveFactory

pytestmark = pytest.mark.django_db
Status = WaitingListEntry.Status


def join(patient, motive, earliest_on, latest_on, *, user=None, patient_id=None):
    return join_waiting_list(
        user=user or patient.account,
        patient_id=patient_id,
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        earliest_on=earliest_on,
        latest_on=latest_on,
    )


def test_a_patient_joins_the_waiting_list(frozen_now, motive, patient):
    entry = join(patient, motive, date(2026, 3, 2), date(2026, 3, 20))

    entry.refresh_from_db()
    assert entry.patient == patient
    assert entry.agenda == motive.agenda
    assert entry.motive == motive
    assert (entry.earliest_on, entry.latest_on) == (date(2026, 3, 2), date(2026, 3, 20))
    assert entry.status == Status.ACTIVE
    assert entry.created_by == patient.account
    assert entry.is_live


def test_for_a_relative(frozen_now, motive, patient):
    child = RelativeFactory(managed_by=patient)

    entry = join(
        patient, motive, date(2026, 3, 3), date(2026, 3, 3), patient_id=child.pk
    )

    assert entry.patient == child
    with pytest.raises(RelativeNotFound):
        join(
            patient,
            motive,
            date(2026, 3, 3),
            date(2026, 3, 4),
            patient_id=PatientFactory().pk,
        )


@pytest.mark.parametrize(
    ("earliest_on", "latest_on"),
    [
        (date(2026, 3, 10), date(2026, 3, 9)),  # reversed
        (date(2026, 3, 1), date(2026, 3, 9)),  # starts yesterday
        (date(2026, 2, 20), date(2026, 3, 1)),  # over already
        ("2026-03-03", date(2026, 3, 9)),
    ],
)
def test_the_dates_must_be_ordered_and_to_come(
    frozen_now, motive, patient, earliest_on, latest_on
):
    with pytest.raises(WaitingListDatesInvalid):
        join(patient, motive, earliest_on, latest_on)

    assert WaitingListEntry.objects.count() == 0


def test_the_range_stays_within_the_motives_horizon(frozen_now, motive, patient):
    # 90 days from Monday 2 March 2026, 07:00 in Paris: Sunday 31 May.
    join(patient, motive, date(2026, 5, 1), date(2026, 5, 31))

    with pytest.raises(WaitingListOutsideHorizon) as caught:
        join(PatientFactory(), motive, date(2026, 5, 1), date(2026, 6, 1))

    assert caught.value.params == {"days": 90}
    assert WaitingListEntry.objects.count() == 1


def test_one_live_entry_per_patient_and_motive(frozen_now, agenda, motive, patient):
    first = join(patient, motive, date(2026, 3, 2), date(2026, 3, 20))

    with pytest.raises(WaitingListDuplicate):
        join(patient, motive, date(2026, 3, 5), date(2026, 3, 9))
    other_motive = MotiveFactory(agenda=agenda, name="Bilan")
    join(patient, other_motive, date(2026, 3, 5), date(2026, 3, 9))

    leave_waiting_list(user=patient.account, entry_id=first.pk)
    again = join(patient, motive, date(2026, 3, 5), date(2026, 3, 9))
    assert again.pk != first.pk
    assert WaitingListEntry.objects.filter(status=Status.ACTIVE).count() == 2


def test_the_database_keeps_one_live_entry_per_patient_and_motive(
    frozen_now, motive, patient
):
    entry = join(patient, motive, date(2026, 3, 2), date(2026, 3, 20))

    with pytest.raises(IntegrityError), transaction.atomic():
        WaitingListEntry.objects.create(
            patient=patient,
            agenda=motive.agenda,
            motive=motive,
            earliest_on=date(2026, 3, 3),
            latest_on=date(2026, 3, 4),
            status=Status.OFFERED,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        WaitingListEntry.objects.filter(pk=entry.pk).update(
            earliest_on=date(2026, 3, 21)
        )


def test_an_inactive_motive_has_no_waiting_list(frozen_now, agenda, patient):
    retired = MotiveFactory(agenda=agenda, is_active=False)

    with pytest.raises(MotiveNotFound):
        join(patient, retired, date(2026, 3, 2), date(2026, 3, 20))


def test_a_motive_closed_to_new_patients_is_for_known_patients(
    frozen_now, agenda, patient
):
    follow_up = MotiveFactory(agenda=agenda, open_to_new_patients=False)

    with pytest.raises(MotiveClosedToNewPatients):
        join(patient, follow_up, date(2026, 3, 2), date(2026, 3, 20))

    Appointment.objects.create(
        agenda=agenda,
        motive=follow_up,
        patient=patient,
        starts_at=paris(2026, 2, 2, 9, 0),
        ends_at=paris(2026, 2, 2, 9, 20),
        status=Appointment.Status.FULFILLED,
    )
    assert join(patient, follow_up, date(2026, 3, 2), date(2026, 3, 20)).is_live


def test_a_patient_blocked_by_no_shows_cannot_join(frozen_now, motive, patient):
    NoShowPolicy.objects.create(practice=motive.agenda.practice, strikes_to_block=1)
    missed = Appointment.objects.create(
        agenda=motive.agenda,
        motive=motive,
        patient=patient,
        starts_at=paris(2026, 2, 2, 9, 0),
        ends_at=paris(2026, 2, 2, 9, 20),
        status=Appointment.Status.NO_SHOW,
    )
    Strike.objects.create(
        patient=patient,
        practice=motive.agenda.practice,
        appointment=missed,
        expires_at=paris(2027, 2, 2, 9, 0),
    )

    with pytest.raises(BookingBlockedByNoShows):
        join(patient, motive, date(2026, 3, 2), date(2026, 3, 20))

    assert WaitingListEntry.objects.count() == 0


def test_leaving_is_for_the_patient_and_idempotent(frozen_now, motive, patient):
    entry = join(patient, motive, date(2026, 3, 2), date(2026, 3, 20))

    with pytest.raises(WaitingListEntryNotFound):
        leave_waiting_list(user=PatientFactory().account, entry_id=entry.pk)
    assert WaitingListEntry.objects.get(pk=entry.pk).status == Status.ACTIVE

    left = leave_waiting_list(user=patient.account, entry_id=entry.pk)
    cancelled_at = left.cancelled_at
    again = leave_waiting_list(user=patient.account, entry_id=entry.pk)

    assert left.status == Status.CANCELLED
    assert cancelled_at is not None
    assert again.cancelled_at == cancelled_at
    with pytest.raises(WaitingListEntryNotFound):
        leave_waiting_list(user=patient.account, entry_id=999999)


def test_the_patient_lists_their_own_and_their_relatives_requests(
    frozen_now, agenda, motive, patient
):
    child = RelativeFactory(managed_by=patient)
    own = join(patient, motive, date(2026, 3, 2), date(2026, 3, 20))
    childs = join(
        patient, motive, date(2026, 3, 2), date(2026, 3, 9), patient_id=child.pk
    )
    join(PatientFactory(), motive, date(2026, 3, 2), date(2026, 3, 9))
    leave_waiting_list(user=patient.account, entry_id=own.pk)

    entries = list(list_waiting_entries_for_user(user=patient.account))

    assert entries == [childs, own]
    assert [e.status for e in entries] == [Status.ACTIVE, Status.CANCELLED]


def test_staff_see_the_agendas_live_requests_and_each_read_is_audited(
    frozen_now, secretary, agenda, motive, patient
):
    other = PatientFactory()
    first = join(patient, motive, date(2026, 3, 2), date(2026, 3, 20))
    second = join(other, motive, date(2026, 3, 4), date(2026, 3, 9))
    gone = join(
        PatientFactory(),
        MotiveFactory(agenda=agenda),
        date(2026, 3, 2),
        date(2026, 3, 3),
    )
    leave_waiting_list(user=gone.patient.account, entry_id=gone.pk)
    join(PatientFactory(), MotiveFactory(), date(2026, 3, 2), date(2026, 3, 3))

    entries = list_waiting_list(actor=secretary, agenda_id=agenda.pk)

    assert entries == [first, second]
    reads = AuditEvent.objects.order_by("pk")
    assert sorted(e.patient_ref for e in reads) == sorted(
        [f"patient:{patient.pk}", f"patient:{other.pk}"]
    )
    assert {(e.actor_id, e.action, e.purpose, e.resource) for e in reads} == {
        (secretary.pk, "read", "booking", f"agenda:{agenda.pk}:waiting-list")
    }


def test_requests_whose_range_has_passed_are_not_listed(
    frozen_now, secretary, agenda, motive, patient
):
    join(patient, motive, date(2026, 3, 2), date(2026, 3, 2))
    with time_machine.travel(paris(2026, 3, 3, 8, 0), tick=False):
        assert list_waiting_list(actor=secretary, agenda_id=agenda.pk) == []
    assert AuditEvent.objects.count() == 0


def test_another_practice_cannot_read_the_waiting_list(
    frozen_now, outsider, without_mfa, agenda, motive, patient
):
    join(patient, motive, date(2026, 3, 2), date(2026, 3, 20))

    with pytest.raises(NotStaffOfPractice):
        list_waiting_list(actor=outsider, agenda_id=agenda.pk)
    with pytest.raises(MfaRequired):
        list_waiting_list(actor=without_mfa, agenda_id=agenda.pk)
    with pytest.raises(NotFound):
        list_waiting_list(actor=outsider, agenda_id=agenda.pk + 1000)
    with pytest.raises(NotStaffOfPractice):
        list_waiting_list(actor=patient.account, agenda_id=agenda.pk)

    assert AuditEvent.objects.count() == 0
