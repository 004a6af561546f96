"""Every due reminder is delivered exactly once, however often its worker is killed.

Real worker processes (``manage.py db_worker``) send a batch of reminders to
a real SMTP server on loopback; one after another they are killed with
SIGKILL while sending (at least 20 times), at random instants: before a
claim, between the claim and the SMTP conversation, in the middle of it,
after the relay's "250" and before the row says "sent". Then two workers
finish the batch. At the end every reminder is "sent" and reached the
mailbox exactly once: a reminder left "sending" by a dead worker is taken
over when its lease lapses (the sweep), and a copy the relay had already
accepted is recognised by its Message-ID and dropped (as the production
relay's duplicate filter does, README).
"""

import random
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from carnet.accounts.tests.factories import PatientFactory, UserFactory
from carnet.booking.models import Appointment
from carnet.notifications import delivery, outbox
from carnet.notifications.models import Message
from carnet.scheduling.tests.factories import AgendaFactory, MotiveFactory
from tests.e2e import smtp as smtp_server
from tests.workers import worker_process

pytestmark = pytest.mark.django_db(transaction=True)

REMINDERS = 150
KILLS = 20
FAST_RECOVERY = {
    # Seconds, so that the test does not wait minutes for a lease to lapse.
    "CARNET_MESSAGE_LEASE_SECONDS": "3",
    "CARNET_OUTBOX_STUCK_SECONDS": "2",
    "CARNET_OUTBOX_SWEEP_SECONDS": "1",
}


def _batch_of_due_reminders(count: int) -> list[Message]:
    agenda = AgendaFactory(time_zone="Europe/Paris")
    motive = MotiveFactory(agenda=agenda)
    now = timezone.now()
    start = (now + timedelta(days=2)).replace(second=0, microsecond=0)
    messages = []
    for index in range(count):
        user = UserFactory(email=f"patient{index}@example.test", language="en")
        patient = PatientFactory(account=user)
        appointment = Appointment.objects.create(
            agenda=agenda,
            motive=motive,
            patient=patient,
            starts_at=start + timedelta(minutes=20 * index),
            ends_at=start + timedelta(minutes=20 * index + 20),
            booked_by=user,
        )
        messages += outbox._write(
            [
                {
                    "patient_id": patient.pk,
                    "appointment_id": appointment.pk,
                    "practice_id": agenda.practice_id,
                    "key": outbox.appointment_key(appointment, 0, "reminder:email:48h"),
                    "kind": Message.Kind.REMINDER,
                    "channel": Message.Channel.EMAIL,
                    "due_at": now,
                    "context": {"version": 0},
                }
            ],
            now=now,
        )
    return messages


def _wait(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_every_due_reminder_is_delivered_exactly_once_despite_sigkill(settings):
    controller, mailbox = smtp_server.start(dedupe=True, delay=0.005)
    settings.EMAIL_HOST = controller.hostname
    settings.EMAIL_PORT = controller.port
    randomness = random.Random(20261123)
    try:
        batch = _batch_of_due_reminders(REMINDERS)
        kills = 0
        while kills < KILLS:
            worker = worker_process(**FAST_RECOVERY)
            try:
                seen = mailbox.received
                # Let it send a few (1 to 4) then kill it somewhere in the next.
                _wait(
                    lambda seen=seen, worker=worker: (
                        mailbox.received >= seen + randomness.randint(1, 4)
                        or worker.poll() is not None
                    ),
                    timeout=60,
                    what="the worker to send",
                )
                time.sleep(randomness.uniform(0, 0.02))
            finally:
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=10)
            assert worker.returncode == -signal.SIGKILL, worker.stderr.read()
            kills += 1
        assert mailbox.count() < REMINDERS, "the batch ended before 20 kills"

        finishers = [worker_process(**FAST_RECOVERY) for _ in range(2)]
        try:
            _wait(
                lambda: (
                    Message.objects.filter(status=Message.Status.SENT).count()
                    == REMINDERS
                ),
                timeout=180,
                what="every reminder to be sent",
            )
        finally:
            for worker in finishers:
                worker.send_signal(signal.SIGTERM)
            for worker in finishers:
                worker.wait(timeout=30)
    finally:
        controller.stop()

    expected = {delivery.message_id_for(message.key) for message in batch}
    delivered = mailbox.by_message_id()
    assert set(delivered) == expected  # none missing, none foreign
    assert set(delivered.values()) == {1}  # none twice
    # A kill can leave at most one copy the relay had accepted unrecorded.
    assert sum(mailbox.duplicates.values()) <= kills
    print(  # noqa: T201 - the figures, with -s
        f"{kills} kills, {REMINDERS} reminders delivered once each, "
        f"{sum(mailbox.duplicates.values())} duplicate copies dropped by the relay, "
        f"{mailbox.received} SMTP transactions"
    )
