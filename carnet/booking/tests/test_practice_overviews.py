"""Selectors behind the no-show and waiting list pages: standings per practice, lists per agenda."""

from datetime import date, timedelta

import pytest

from carnet.accounts import roles
from carnet.accounts.errors import MfaRequired, NotAllowedForRole, NotStaffOfPractice
from carnet.accounts.models import StaffMembership
from carnet.accounts.roles import Permission
from carnet.accounts.tests.factories import PatientFactory, RelativeFactory
from carnet.audit.models import AuditEvent
from carnet.booking.models import Appointment, NoShowPolicy, Strike
from carnet.booking.policy import (
    decide_excuse,
    get_practice_no_shows,
    list_no_show_standings_for_user,
    send_excuse,
)
from carnet.booking.staff import mark_status
from carnet.booking.tests.conftest import member, paris
from carnet.booking.waitlist import join_waiting_list, list_waiting_lists_for_practice
from carnet.core.errors import NotFound
from carnet.scheduling.tests.factories import AgendaFactory, MotiveFactory

pytestmark = pytest.mark.django_db


def missed(actor, motive, patient, day: int) -> Strike:
    appointment = Appointment.objects.create(
        agenda=motive.agenda,
        motive=motive,
        patient=patient,
        starts_at=paris(2026, 2, day, 9, 0),
        ends_at=paris(2026, 2, day, 9, 20),
    )
    mark_status(actor=actor, appointment_id=appointment.pk, status="noshow")
    return Strike.objects.get(appointment=appointment)


def test_standings_group_strikes_per_patient_and_practice_blocked_first(
    frozen_now, secretary, motive, patient, enroll_totp
):
    child = RelativeFactory(managed_by=patient)
    other_agenda = AgendaFactory()
    other_motive = MotiveFactory(agenda=other_agenda)
    other_staff = member(other_agenda.practice)
    enroll_totp(other_staff)
    NoShowPolicy.objects.create(
        practice=other_agenda.practice, strikes_to_block=1, strike_expiry_days=30
    )
    missed(secretary, motive, patient, 10)
    missed(secretary, motive, child, 11)
    missed(other_staff, other_motive, patient, 12)
    forgiven = missed(secretary, motive, patient, 13)
    decide_excuse(
        actor=member_practitioner(motive, enroll_totp),
        strike_id=forgiven.pk,
        accept=True,
    )

    standings = list_no_show_standings_for_user(user=patient.account, now=frozen_now)

    summary = [
        (s.patient, s.practice, len(s.strikes), s.counted, s.blocked) for s in standings
    ]
    assert summary == [
        (patient, other_agenda.practice, 1, 1, True),
        (patient, motive.agenda.practice, 2, 1, False),
        (child, motive.agenda.practice, 1, 1, False),
    ]


def member_practitioner(motive, enroll_totp):
    user = member(motive.agenda.practice, StaffMembership.Role.PRACTITIONER)
    enroll_totp(user)
    return user


def test_expired_strikes_stop_blocking(frozen_now, secretary, motive, patient):
    NoShowPolicy.objects.create(
        practice=motive.agenda.practice, strikes_to_block=1, strike_expiry_days=30
    )
    strike = missed(secretary, motive, patient, 10)

    before = list_no_show_standings_for_user(
        user=patient.account, now=strike.expires_at - timedelta(seconds=1)
    )
    after = list_no_show_standings_for_user(user=patient.account, now=strike.expires_at)

    assert (before[0].counted, before[0].blocked) == (1, True)
    assert (after[0].counted, after[0].blocked) == (0, False)


def test_the_practice_overview_lists_counting_strikes_and_pending_excuses(
    frozen_now, secretary, practitioner, motive, patient
):
    other = PatientFactory()
    strikes = [missed(secretary, motive, patient, day) for day in (3, 10, 17)]
    send_excuse(user=patient.account, strike_id=strikes[0].pk, text="Grève des trains")
    lone = missed(secretary, motive, other, 20)
    decide_excuse(actor=practitioner, strike_id=lone.pk, accept=True)

    overview = get_practice_no_shows(
        actor=practitioner, practice_id=motive.agenda.practice_id, now=frozen_now
    )

    assert overview.policy.strikes_to_block == 3
    assert [(s.patient, s.counted, s.blocked) for s in overview.standings] == [
        (patient, 3, True)
    ]
    assert overview.pending == [strikes[0]]
    reads = AuditEvent.objects.filter(
        action="read", resource=f"practice:{motive.agenda.practice_id}:no-shows"
    )
    assert reads.count() == 2


def test_the_practice_overview_is_for_deciding_roles_of_the_practice(
    frozen_now, secretary, outsider, without_mfa, motive
):
    practice_id = motive.agenda.practice_id

    with pytest.raises(NotStaffOfPractice):
        get_practice_no_shows(actor=secretary, practice_id=practice_id, now=frozen_now)
    with pytest.raises(NotStaffOfPractice):
        get_practice_no_shows(actor=outsider, practice_id=practice_id, now=frozen_now)
    with pytest.raises(MfaRequired):
        get_practice_no_shows(
            actor=without_mfa, practice_id=practice_id, now=frozen_now
        )
    assert not AuditEvent.objects.filter(action="read").exists()


def wait(patient, motive):
    return join_waiting_list(
        user=patient.account,
        patient_id=None,
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        earliest_on=date(2026, 3, 9),
        latest_on=date(2026, 3, 20),
    )


def test_waiting_lists_come_per_agenda_oldest_first(
    frozen_now, secretary, agenda, motive
):
    second = AgendaFactory(practice=agenda.practice, location=agenda.location)
    first_patient, second_patient, third_patient = (PatientFactory() for _ in range(3))
    a = wait(first_patient, motive)
    b = wait(second_patient, motive)
    c = wait(third_patient, MotiveFactory(agenda=second))

    every = list_waiting_lists_for_practice(
        actor=secretary, practice_id=agenda.practice_id
    )
    only = list_waiting_lists_for_practice(
        actor=secretary, practice_id=agenda.practice_id, agenda_id=second.pk
    )

    assert {item.agenda: item.entries for item in every} == {
        agenda: [a, b],
        second: [c],
    }
    assert [(item.agenda, item.entries) for item in only] == [(second, [c])]


def test_waiting_lists_refuse_strangers_other_roles_and_foreign_agendas(
    frozen_now, secretary, outsider, agenda, motive, monkeypatch
):
    wait(PatientFactory(), motive)
    foreign = AgendaFactory()

    with pytest.raises(NotStaffOfPractice):
        list_waiting_lists_for_practice(actor=outsider, practice_id=agenda.practice_id)
    with pytest.raises(NotFound):
        list_waiting_lists_for_practice(
            actor=secretary, practice_id=agenda.practice_id, agenda_id=foreign.pk
        )
    monkeypatch.setitem(
        roles.ROLE_PERMISSIONS,
        StaffMembership.Role.SECRETARY,
        roles.ROLE_PERMISSIONS[StaffMembership.Role.SECRETARY]
        - {Permission.VIEW_WAITING_LIST},
    )
    with pytest.raises(NotAllowedForRole):
        list_waiting_lists_for_practice(actor=secretary, practice_id=agenda.practice_id)
    assert not AuditEvent.objects.filter(action="read").exists()
