"""Random lives of an appointment: whatever happens, each message once, and only while true.

Hypothesis draws sequences of steps — time passing (the worker running after
each), the patient moving the appointment, the patient cancelling it — and
after every step checks:

* every message that was due has been dealt with (sent, or dropped because it
  was no longer true): nothing is left behind;
* a reminder or confirmation was sent only while its time was the
  appointment's current time, and before that time came;
* nothing but the cancellation notice is sent once the appointment is
  cancelled;
* no e-mail reached the SMTP server twice.
"""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carnet.accounts.models import NotificationPreferences
from carnet.accounts.tests.factories import PatientFactory, UserFactory
from carnet.booking.services import cancel_appointment, reschedule_appointment
from carnet.core.errors import DomainError
from carnet.notifications.models import Message
from carnet.notifications.tests.test_outbox import book, paris
from carnet.scheduling.tests.factories import (
    AgendaFactory,
    MotiveFactory,
    OpeningRuleFactory,
)
from tests.workers import drain

Status = Message.Status

steps = st.lists(
    st.one_of(
        st.tuples(st.just("wait"), st.integers(min_value=1, max_value=60)),
        st.tuples(
            st.just("move"),
            st.integers(min_value=1, max_value=20),
            st.integers(min_value=8, max_value=16),
        ),
        st.tuples(st.just("cancel")),
    ),
    min_size=1,
    max_size=8,
)


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=steps, offsets=st.sets(st.sampled_from([168, 48, 24, 2]), min_size=1))
def test_each_message_once_and_only_while_true(clock, smtp, steps, offsets):
    clock.move_to(paris(2026, 3, 2, 8, 0))
    agenda = AgendaFactory(time_zone="Europe/Paris")
    for weekday in range(7):
        OpeningRuleFactory(agenda=agenda, weekday=weekday)
    motive = MotiveFactory(agenda=agenda)
    user = UserFactory()
    patient = PatientFactory(account=user)
    NotificationPreferences.objects.create(
        user=user, email_reminders=True, reminder_offsets=sorted(offsets)
    )
    appointment = book(motive, patient, starts_at=paris(2026, 3, 9, 10, 0))
    # (version, start, from, until): when each version of the time was current.
    versions = [[0, appointment.starts_at, clock_now(), None]]
    cancelled_at = None
    drain()

    for step in steps:
        if step[0] == "wait":
            clock.shift(timedelta(hours=step[1]))
        elif step[0] == "move":
            target = paris(2026, 3, 2 + step[1], step[2], 0)
            try:
                reschedule_appointment(
                    user=user, appointment_id=appointment.pk, starts_at=target
                )
            except DomainError:
                pass
            else:
                appointment.refresh_from_db()
                if appointment.starts_at != versions[-1][1]:
                    versions[-1][3] = clock_now()
                    versions.append(
                        [versions[-1][0] + 1, appointment.starts_at, clock_now(), None]
                    )
        else:
            try:
                cancel_appointment(user=user, appointment_id=appointment.pk)
            except DomainError:
                pass
            else:
                cancelled_at = clock_now()
                versions[-1][3] = cancelled_at
        drain()
        _check(appointment, versions, cancelled_at, smtp)


def _check(appointment, versions, cancelled_at, smtp):
    now = clock_now()
    rows = Message.objects.filter(appointment=appointment)
    # Nothing due is left behind.
    assert not rows.filter(status__in=Message.PENDING, next_attempt_at__lte=now)
    by_version = {v[0]: v for v in versions}
    for row in rows.filter(status=Status.SENT):
        if row.kind == Message.Kind.CANCELLED:
            assert cancelled_at is not None
            continue
        _, start, since, until = by_version[row.context["version"]]
        # Sent while its time was current, and before that time came.
        assert since <= row.sent_at
        assert until is None or row.sent_at <= until
        assert row.sent_at < start
        if row.kind == Message.Kind.REMINDER:
            assert row.due_at <= row.sent_at
    if cancelled_at is not None:
        assert not rows.filter(status__in=Message.PENDING).exists()
    counts = smtp.by_message_id()
    assert all(count == 1 for count in counts.values())
    assert not smtp.duplicates


def clock_now():
    from django.utils import timezone

    return timezone.now()
