"""Fixtures of the webhook tests: SMS switched on against the fake Vonage, a patient
with a phone, an appointment and the SMS sent about it (rows made directly: the
sending side is tested elsewhere).
"""

from datetime import datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from carnet.accounts.tests.factories import PatientFactory
from carnet.booking.models import Appointment
from carnet.notifications.models import Message
from carnet.vault.services import blind_index
from tests import sms_provider as fake_vonage

sms_provider = fake_vonage.sms_provider  # the fixture, found by name

PARIS = ZoneInfo("Europe/Paris")
PHONE = "+33612345678"
INBOUND_URL = "/hooks/sms/inbound/"
RECEIPT_URL = "/hooks/sms/receipt/"
_keys = count(1)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def sms_on(sms):
    """SMS configured with the fake's account; replies possible (conftest's `sms`)."""
    return sms


def with_phone(patient, phone: str = PHONE):
    patient.phone = phone
    patient.phone_index = blind_index(kind="phone", value=phone)
    patient.save()
    return patient


@pytest.fixture
def anne(db):
    """A patient whose phone is on file (sealed, with its blind index)."""
    return with_phone(PatientFactory(first_name="Anne", last_name="Lefebvre"))


def visit(motive, patient, starts_at: datetime, **fields) -> Appointment:
    """An appointment made directly (no outbox rows of its own)."""
    return Appointment.objects.create(
        agenda=motive.agenda,
        motive=motive,
        patient=patient,
        starts_at=starts_at,
        ends_at=starts_at + motive.duration,
        **fields,
    )


def sms_sent(
    appointment: Appointment,
    *,
    sent_at: datetime,
    kind: str = Message.Kind.REMINDER,
    status: str = Message.Status.SENT,
    channel: str = Message.Channel.SMS,
) -> Message:
    """A message of the outbox about `appointment`, sent at `sent_at` (or only due then)."""
    done = status in Message.DONE or status == Message.Status.FAILED
    return Message.objects.create(
        key=f"appointment:{appointment.vault_row}:0:{kind}:{channel}:{next(_keys)}",
        kind=kind,
        channel=channel,
        patient=appointment.patient,
        appointment=appointment,
        practice=appointment.agenda.practice,
        due_at=sent_at - timedelta(seconds=5),
        next_attempt_at=sent_at - timedelta(seconds=5),
        status=status,
        attempts=1,
        sent_at=sent_at if done else None,
        lease_until=sent_at + timedelta(minutes=15)
        if status == Message.Status.SENDING
        else None,
    )
