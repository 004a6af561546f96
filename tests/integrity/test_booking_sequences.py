"""Adversarial sequences of book / cancel / reschedule never leave two overlapping appointments."""

import itertools
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carnet.accounts.tests.factories import PatientFactory
from carnet.booking.models import Appointment
from carnet.booking.services import (
    book_appointment,
    cancel_appointment,
    reschedule_appointment,
)
from carnet.core.errors import DomainError
from carnet.scheduling.tests.factories import (
    AgendaFactory,
    MotiveFactory,
    OpeningRuleFactory,
)

NOW = datetime(2026, 3, 27, 6, 0, tzinfo=UTC)  # two days before the spring DST change
BASE = datetime(2026, 3, 28, 0, 0, tzinfo=UTC)

operation = st.one_of(
    st.tuples(st.just("book"), st.integers(0, 2), st.integers(0, 3 * 24 * 12)),
    st.tuples(st.just("cancel"), st.integers(0, 30), st.just(0)),
    st.tuples(st.just("move"), st.integers(0, 30), st.integers(0, 3 * 24 * 12)),
)


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=5, max_size=40))
def test_no_sequence_of_operations_creates_an_overlap(operations):
    with time_machine.travel(NOW, tick=False):
        agenda = AgendaFactory(time_zone="Europe/Paris")
        for weekday in range(7):
            OpeningRuleFactory(
                agenda=agenda, weekday=weekday, opens_time=time(1), closes_time=time(23)
            )
        motives = [
            MotiveFactory(
                agenda=agenda,
                duration_minutes=d,
                min_notice_minutes=0,
                cancellation_cutoff_hours=0,
            )
            for d in (15, 20, 45)
        ]
        patient = PatientFactory()
        booked: list[int] = []
        for kind, index, five_minutes in operations:
            start = BASE + timedelta(minutes=5 * five_minutes)
            try:
                if kind == "book":
                    motive = motives[index]
                    booked.append(
                        book_appointment(
                            agenda_id=agenda.pk,
                            motive_id=motive.pk,
                            patient=patient,
                            starts_at=start,
                            booked_by=patient.account,
                        ).pk
                    )
                elif booked and kind == "cancel":
                    cancel_appointment(
                        user=patient.account, appointment_id=booked[index % len(booked)]
                    )
                elif booked:
                    reschedule_appointment(
                        user=patient.account,
                        appointment_id=booked[index % len(booked)],
                        starts_at=start,
                    )
            except DomainError:
                pass

        active = sorted(
            Appointment.objects.active()
            .filter(agenda=agenda)
            .values_list("starts_at", "ends_at")
        )
        for (_s1, e1), (s2, _e2) in itertools.pairwise(active):
            assert e1 <= s2
        for s, e in active:
            assert e - s in {m.duration for m in motives}
