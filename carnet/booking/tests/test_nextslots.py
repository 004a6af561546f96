"""The next-availability index: kept fresh by every write, truthful when read."""

import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carnet.accounts.tests.factories import PatientFactory
from carnet.booking.models import Appointment, NextAvailability
from carnet.booking.nextslots import (
    N_SLOTS,
    TTL,
    list_stale_agenda_ids,
    next_slots,
    refresh_agenda,
    refresh_all,
)
from carnet.booking.selectors import list_free_slots
from carnet.booking.services import (
    book_appointment,
    cancel_appointment,
    hold_slot,
    release_hold,
    reschedule_appointment,
)
from carnet.core.errors import DomainError
from carnet.directory.models import SearchEntry
from carnet.directory.services import reindex_agendas
from carnet.scheduling.models import VisitMotive
from carnet.scheduling.tests.factories import (
    AbsenceFactory,
    AgendaFactory,
    MotiveFactory,
    OpeningRuleFactory,
)

PARIS = ZoneInfo("Europe/Paris")
pytestmark = pytest.mark.django_db


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


def book(motive, patient, starts_at, **kwargs):
    return book_appointment(
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        patient=patient,
        starts_at=starts_at,
        booked_by=patient.account,
        **kwargs,
    )


def stored(motive) -> list[datetime]:
    return NextAvailability.objects.get(motive=motive).slot_instants()


def entry(agenda) -> SearchEntry:
    return SearchEntry.objects.get(agenda=agenda)


@pytest.fixture
def indexed(agenda, motive):
    """The fixture agenda with its search entry and index rows."""
    reindex_agendas(agenda_ids=[agenda.pk])
    refresh_agenda(agenda_id=agenda.pk)
    return agenda


# Monday 2 March 2026, just after 07:00 in Paris (the clock ticks); 60 minutes
# notice: 08:20 is the first slot.
FIRST = [paris(2026, 3, 2, 8, 20) + i * timedelta(minutes=20) for i in range(10)]


def test_refresh_stores_the_first_slots_and_the_directory_summary(
    frozen_now, indexed, motive
):
    row = NextAvailability.objects.get(motive=motive)
    assert row.slot_instants() == FIRST[:N_SLOTS]
    assert row.first_slot_at == FIRST[0]
    assert row.exhausted is False
    assert entry(indexed).next_slot_at == FIRST[0]
    assert entry(indexed).next_new_slot_at == FIRST[0]
    assert entry(indexed).next_video_slot_at is None


def test_booking_refreshes_the_index_in_its_transaction(
    frozen_now, indexed, motive, patient
):
    book(motive, patient, FIRST[0])

    assert stored(motive) == FIRST[1 : N_SLOTS + 1]
    assert entry(indexed).next_slot_at == FIRST[1]


def test_cancelling_refreshes_the_index(frozen_now, indexed, motive, patient):
    appointment = book(motive, patient, FIRST[0])
    assert stored(motive)[0] == FIRST[1]

    cancel_appointment(
        user=patient.account,
        appointment_id=appointment.pk,
        actor=Appointment.Actor.STAFF,
    )
    assert stored(motive) == FIRST[:N_SLOTS]
    assert entry(indexed).next_slot_at == FIRST[0]


def test_rescheduling_refreshes_the_index(frozen_now, indexed, motive, patient):
    appointment = book(motive, patient, paris(2026, 3, 4, 9, 0))
    assert stored(motive) == FIRST[:N_SLOTS]

    reschedule_appointment(
        user=patient.account, appointment_id=appointment.pk, starts_at=FIRST[2]
    )
    assert stored(motive) == [*FIRST[:2], *FIRST[3 : N_SLOTS + 1]]


def test_holding_and_releasing_refresh_the_index(frozen_now, indexed, motive):
    hold = hold_slot(
        agenda_id=indexed.pk, motive_id=motive.pk, starts_at=FIRST[0], holder="h-1"
    )
    assert stored(motive) == FIRST[1 : N_SLOTS + 1]
    assert entry(indexed).next_slot_at == FIRST[1]

    release_hold(hold_id=hold.pk, holder="h-1")
    assert stored(motive) == FIRST[:N_SLOTS]
    assert entry(indexed).next_slot_at == FIRST[0]


def test_next_slots_shows_the_first_bookable_slots(frozen_now, indexed, motive):
    shown = next_slots(agenda_ids=[indexed.pk])

    assert shown[indexed.pk].motive == motive
    assert shown[indexed.pk].slots == FIRST[:4]
    assert next_slots(agenda_ids=[indexed.pk], limit=2)[indexed.pk].slots == FIRST[:2]


def test_slots_past_the_notice_are_dropped_and_the_row_refilled(agenda, motive):
    computed = FIRST[0] - timedelta(minutes=65)
    refresh_agenda(agenda_id=agenda.pk, now=computed)
    assert stored(motive) == FIRST[:N_SLOTS]

    with time_machine.travel(FIRST[0] - timedelta(minutes=55), tick=False):
        # 08:20 is now 55 minutes ahead, less than the 60-minute notice.
        shown = next_slots(agenda_ids=[agenda.pk])
        assert shown[agenda.pk].slots == FIRST[1:5]
        row = NextAvailability.objects.get(motive=motive)
        assert row.computed_at == computed

    later = FIRST[4] - timedelta(minutes=59)
    NextAvailability.objects.update(computed_at=later - timedelta(minutes=1))
    with time_machine.travel(later, tick=False):
        # Only three stored slots left: the row is recomputed before it is shown.
        shown = next_slots(agenda_ids=[agenda.pk])
        assert shown[agenda.pk].slots == FIRST[5:9]
        assert NextAvailability.objects.get(motive=motive).computed_at == later


def test_a_motive_closed_to_new_patients_is_never_shown_to_them(frozen_now, agenda):
    follow_up = MotiveFactory(agenda=agenda, open_to_new_patients=False)
    refresh_agenda(agenda_id=agenda.pk)

    assert next_slots(agenda_ids=[agenda.pk])[agenda.pk].motive is None
    known = next_slots(agenda_ids=[agenda.pk], new_patient=False)[agenda.pk]
    assert known.motive == follow_up
    assert known.slots == FIRST[:4]


def test_the_motive_with_the_earliest_slot_wins(frozen_now, agenda):
    late = MotiveFactory(agenda=agenda, min_notice_minutes=24 * 60)
    early = MotiveFactory(agenda=agenda, name="Urgence", min_notice_minutes=60)
    video = MotiveFactory(
        agenda=agenda,
        name="Vidéo",
        channel=VisitMotive.Channel.VIDEO,
        min_notice_minutes=3 * 60,
    )

    shown = next_slots(agenda_ids=[agenda.pk])[agenda.pk]
    assert shown.motive == early
    video_only = next_slots(agenda_ids=[agenda.pk], channel="video")[agenda.pk]
    assert video_only.motive == video
    assert video_only.slots[0] == paris(2026, 3, 2, 10, 20)
    assert late.pk in set(
        NextAvailability.objects.filter(agenda=agenda).values_list(
            "motive_id", flat=True
        )
    )


def test_the_directory_summary_tells_new_patient_and_video_slots(frozen_now, agenda):
    MotiveFactory(agenda=agenda, open_to_new_patients=False)
    MotiveFactory(agenda=agenda, min_notice_minutes=24 * 60)
    MotiveFactory(
        agenda=agenda, channel=VisitMotive.Channel.VIDEO, min_notice_minutes=48 * 60
    )
    reindex_agendas(agenda_ids=[agenda.pk])

    refresh_agenda(agenda_id=agenda.pk)

    summary = entry(agenda)
    assert summary.next_slot_at == FIRST[0]
    assert summary.next_new_slot_at == paris(2026, 3, 3, 8, 0)
    assert summary.next_video_slot_at == paris(2026, 3, 4, 8, 0)


def test_nothing_bookable_says_so(frozen_now):
    closed = AgendaFactory()  # no opening rule at all
    MotiveFactory(agenda=closed)
    full = AgendaFactory()
    OpeningRuleFactory(
        agenda=full, weekday=0, opens_time=time(10), closes_time=time(10, 20)
    )
    tight = MotiveFactory(agenda=full, horizon_days=1)
    book(tight, PatientFactory(), paris(2026, 3, 2, 10, 0))
    inactive = AgendaFactory(is_active=False)
    MotiveFactory(agenda=inactive)

    shown = next_slots(agenda_ids=[closed.pk, full.pk, inactive.pk, 999_999])

    for agenda_id in (closed.pk, full.pk, inactive.pk, 999_999):
        assert shown[agenda_id].motive is None
        assert shown[agenda_id].slots == []
    assert NextAvailability.objects.get(motive=tight).exhausted is True


def test_an_exhausted_horizon_opens_as_time_passes(db):
    agenda = AgendaFactory()
    OpeningRuleFactory(agenda=agenda, weekday=0, opens_time=time(8))  # Monday
    OpeningRuleFactory(agenda=agenda, weekday=2, closes_time=time(9))  # Wednesday
    motive = MotiveFactory(agenda=agenda, horizon_days=1, min_notice_minutes=0)
    with time_machine.travel(paris(2026, 3, 3, 7, 50), tick=False) as traveller:
        # Tuesday: nothing today, and Wednesday's hours lie past the 24-hour horizon.
        assert next_slots(agenda_ids=[agenda.pk])[agenda.pk].motive is None
        row = NextAvailability.objects.get(motive=motive)
        assert row.exhausted is True
        # Wednesday 08:00 enters the horizon on Tuesday at 08:00.
        assert row.stale_at == paris(2026, 3, 3, 8, 0)

        traveller.move_to(paris(2026, 3, 3, 7, 59))
        assert next_slots(agenda_ids=[agenda.pk])[agenda.pk].motive is None
        assert (
            NextAvailability.objects.get(motive=motive).computed_at == row.computed_at
        )

        traveller.move_to(paris(2026, 3, 3, 8, 0))
        shown = next_slots(agenda_ids=[agenda.pk])[agenda.pk]
        assert shown.motive == motive
        assert shown.slots == [paris(2026, 3, 4, 8, 0)]


def test_an_expired_hold_gives_its_slot_back(frozen_now, indexed, motive):
    hold_slot(
        agenda_id=indexed.pk, motive_id=motive.pk, starts_at=FIRST[0], holder="h-1"
    )
    assert next_slots(agenda_ids=[indexed.pk])[indexed.pk].slots[0] == FIRST[1]

    with time_machine.travel(frozen_now + timedelta(minutes=11), tick=False):
        assert next_slots(agenda_ids=[indexed.pk])[indexed.pk].slots[0] == FIRST[0]
        assert entry(indexed).next_slot_at == FIRST[0]


def test_only_stale_rows_are_recomputed(frozen_now, agenda, motive):
    other = MotiveFactory(agenda=AgendaFactory())
    for weekday in range(7):
        OpeningRuleFactory(agenda=other.agenda, weekday=weekday)
    refresh_all()
    old = frozen_now - TTL - timedelta(minutes=1)
    NextAvailability.objects.filter(motive=other).update(computed_at=old)
    fresh = NextAvailability.objects.get(motive=motive).computed_at

    assert list_stale_agenda_ids() == [other.agenda_id]
    next_slots(agenda_ids=[agenda.pk, other.agenda_id])

    assert NextAvailability.objects.get(motive=motive).computed_at == fresh
    assert NextAvailability.objects.get(motive=other).computed_at > old
    assert list_stale_agenda_ids() == []


def test_rows_of_removed_motives_go_and_new_motives_come(frozen_now, indexed, motive):
    newer = MotiveFactory(agenda=indexed, name="Bilan")
    assert list_stale_agenda_ids() == [indexed.pk]
    VisitMotive.objects.filter(pk=motive.pk).update(is_active=False)

    assert refresh_all(stale_only=True) == 1
    assert list(
        NextAvailability.objects.filter(agenda=indexed).values_list(
            "motive_id", flat=True
        )
    ) == [newer.pk]


def test_an_absence_is_seen_once_the_agenda_is_refreshed(frozen_now, indexed, motive):
    AbsenceFactory(
        agenda=indexed, starts_at=paris(2026, 3, 2, 0, 0), ends_at=paris(2026, 3, 3)
    )
    refresh_agenda(agenda_id=indexed.pk)
    assert stored(motive)[0] == paris(2026, 3, 3, 8, 0)


def test_the_command_refreshes_everything_or_the_stale(frozen_now, agenda, motive):
    call_command("refresh_next_availability", stdout=_Sink(), stderr=_Sink())
    assert NextAvailability.objects.filter(motive=motive).exists()
    NextAvailability.objects.update(computed_at=frozen_now - 2 * TTL)

    out = _Sink()
    call_command("refresh_next_availability", "--stale", stdout=out, stderr=_Sink())
    assert "Refreshed 1 agendas" in out.text
    assert list_stale_agenda_ids() == []


class _Sink:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass


# --- Truth under random sequences -------------------------------------------------

SEQ_NOW = datetime(2026, 3, 27, 7, 0, tzinfo=UTC)  # Friday 08:00, before the DST change

# (kind, index, local day from today, slot number in the 09:00-10:20 window)
slot = st.tuples(st.integers(0, 3), st.integers(0, 3))
operation = st.one_of(
    st.tuples(st.just("book"), st.integers(0, 2), slot),
    st.tuples(st.just("book"), st.integers(0, 1), slot),
    st.tuples(st.just("cancel"), st.integers(0, 30), slot),
    st.tuples(st.just("move"), st.integers(0, 30), slot),
    st.tuples(st.just("hold"), st.integers(0, 2), slot),
    st.tuples(st.just("release"), st.integers(0, 2), slot),
    st.tuples(st.just("wait"), st.integers(1, 24 * 60), slot),
)


def _start(day: int, number: int, motive) -> datetime:
    local_day = SEQ_NOW.astimezone(PARIS).date() + timedelta(days=day)
    opens = datetime.combine(local_day, time(9), tzinfo=PARIS)
    return (opens + number * motive.duration).astimezone(UTC)


def _fresh(motives, now):
    """What a fresh computation offers a new patient: the earliest motive's slots."""
    best = (None, [])
    for motive in motives:
        if not motive.open_to_new_patients:
            continue
        today = now.astimezone(motive.agenda.zone).date()
        slots = list_free_slots(
            motive=motive, first_day=today, days=motive.horizon_days + 2, now=now
        )
        if slots and (not best[1] or slots[0] < best[1][0]):
            best = (motive, slots)
    return best


def _accepted_by_a_new_patient(motive, slot) -> bool:
    newcomer = PatientFactory()
    try:
        with transaction.atomic():
            book(motive, newcomer, slot)
            transaction.set_rollback(True)
    except DomainError:
        return False
    return True


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=3, max_size=30))
def test_next_slots_are_bookable_and_equal_a_fresh_computation(operations):
    with time_machine.travel(SEQ_NOW, tick=False) as traveller:
        agenda = AgendaFactory(time_zone="Europe/Paris")
        for weekday in range(7):
            OpeningRuleFactory(
                agenda=agenda,
                weekday=weekday,
                opens_time=time(9),
                closes_time=time(10, 20),
            )
        motives = [
            MotiveFactory(
                agenda=agenda,
                duration_minutes=20,
                min_notice_minutes=30,
                horizon_days=2,
                cancellation_cutoff_hours=0,
            ),
            MotiveFactory(
                agenda=agenda,
                duration_minutes=30,
                min_notice_minutes=0,
                horizon_days=3,
                cancellation_cutoff_hours=0,
                channel=VisitMotive.Channel.VIDEO,
            ),
            MotiveFactory(
                agenda=agenda,
                duration_minutes=40,
                min_notice_minutes=0,
                horizon_days=4,
                open_to_new_patients=False,
                cancellation_cutoff_hours=0,
            ),
        ]
        patient = PatientFactory()
        # A past visit: the practitioner knows this patient (follow-ups allowed).
        Appointment.objects.create(
            agenda=agenda,
            motive=motives[0],
            patient=patient,
            starts_at=SEQ_NOW - timedelta(days=30),
            ends_at=SEQ_NOW - timedelta(days=30) + motives[0].duration,
            status=Appointment.Status.FULFILLED,
        )
        holders = [f"{uuid.uuid4()}" for _ in range(3)]
        holds = {}
        booked: list[int] = []
        for kind, index, (day, number) in operations:
            try:
                if kind == "book":
                    motive = motives[index]
                    start = _start(day, number, motive)
                    booked.append(
                        book_appointment(
                            agenda_id=agenda.pk,
                            motive_id=motive.pk,
                            patient=patient,
                            starts_at=start,
                            booked_by=patient.account,
                            actor=Appointment.Actor.STAFF,
                        ).pk
                    )
                elif kind == "cancel" and booked:
                    cancel_appointment(
                        user=patient.account,
                        appointment_id=booked[index % len(booked)],
                    )
                elif kind == "move" and booked:
                    appointment = Appointment.objects.get(
                        pk=booked[index % len(booked)]
                    )
                    reschedule_appointment(
                        user=patient.account,
                        appointment_id=appointment.pk,
                        starts_at=_start(day, number, appointment.motive),
                    )
                elif kind == "hold":
                    holds[index] = hold_slot(
                        agenda_id=agenda.pk,
                        motive_id=motives[index].pk,
                        starts_at=_start(day, number, motives[index]),
                        holder=holders[index],
                    )
                elif kind == "release" and index in holds:
                    release_hold(hold_id=holds.pop(index).pk, holder=holders[index])
                elif kind == "wait":
                    traveller.shift(timedelta(minutes=index))
            except DomainError:
                pass

            now = timezone.now()
            for limit in (4, N_SLOTS):
                shown = next_slots(agenda_ids=[agenda.pk], limit=limit)[agenda.pk]
                motive, fresh = _fresh(motives, now)
                assert shown.motive == motive
                assert shown.slots == fresh[:limit]
            known = next_slots(agenda_ids=[agenda.pk], new_patient=False, limit=8)
            assert known[agenda.pk].motive in (*motives, None)
            for slot in shown.slots[:3]:
                assert _accepted_by_a_new_patient(shown.motive, slot), slot


@pytest.fixture
def admin_client_mfa(enroll_totp, totp_secret):
    from django.test import Client

    from carnet.accounts.models import User
    from conftest import login_with_totp

    enroll_totp(User.objects.create_superuser("root@example.test", "a-long-pw-123"))
    client = Client()
    login_with_totp(
        client, email="root@example.test", password="a-long-pw-123", secret=totp_secret
    )
    return client


def test_admin_changes_to_absences_and_motives_refresh_the_index(
    frozen_now, indexed, motive, admin_client_mfa
):
    from carnet.scheduling.models import Absence

    response = admin_client_mfa.post(
        "/admin/scheduling/absence/add/",
        {
            "agenda": indexed.pk,
            "starts_at_0": "2026-03-01",
            "starts_at_1": "23:00:00",
            "ends_at_0": "2026-03-02",
            "ends_at_1": "23:00:00",
            "label": "Congés",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert stored(motive)[0] == paris(2026, 3, 3, 8, 0)
    assert entry(indexed).next_slot_at == paris(2026, 3, 3, 8, 0)

    absence = Absence.objects.get(agenda=indexed)
    response = admin_client_mfa.post(
        f"/admin/scheduling/absence/{absence.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert stored(motive) == FIRST[:N_SLOTS]

    response = admin_client_mfa.post(
        f"/admin/scheduling/visitmotive/{motive.pk}/change/",
        {
            "agenda": indexed.pk,
            "name": motive.name,
            "duration_minutes": 20,
            "channel": "in_person",
            "min_notice_minutes": 60,
            "horizon_days": 90,
            "cancellation_cutoff_hours": 24,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    # No longer open to new patients (the box was left unticked).
    assert next_slots(agenda_ids=[indexed.pk])[indexed.pk].motive is None
    assert entry(indexed).accepts_new_patients is False
    assert entry(indexed).next_new_slot_at is None
    assert entry(indexed).next_slot_at == FIRST[0]


def test_editing_an_appointment_in_the_admin_refreshes_the_index(
    frozen_now, indexed, motive, patient, rf
):
    from django.contrib import admin as django_admin

    appointment = book(motive, patient, FIRST[0])
    model_admin = django_admin.site._registry[Appointment]
    appointment.status = Appointment.Status.CANCELLED
    with transaction.atomic():
        model_admin.save_model(rf.post("/"), appointment, form=None, change=True)

    assert stored(motive) == FIRST[:N_SLOTS]
    assert entry(indexed).next_slot_at == FIRST[0]
