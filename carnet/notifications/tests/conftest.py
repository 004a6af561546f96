"""A loopback SMTP server, the loopback Vonage, and a patient who can be reached.

The agenda and its motive are the root conftest's (Paris, open every day
08:00–18:00; a 20-minute visit with a 24-hour cut-off).
"""

from datetime import UTC, datetime

import pytest
import time_machine

from carnet.accounts.models import NotificationPreferences
from carnet.accounts.tests.factories import PatientFactory, UserFactory
from tests import sms_provider as fake_vonage
from tests.e2e import smtp as smtp_server

sms_provider = fake_vonage.sms_provider

# Monday 2 March 2026, 08:00 in Paris.
MONDAY = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
PHONE = "+33612345678"


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback with a duplicate-Message-ID filter; Django sends to it."""
    controller, mailbox = smtp_server.start(dedupe=True)
    smtp_server.send_here(settings, controller)
    yield mailbox
    controller.stop()


@pytest.fixture
def sms(settings, sms_provider):
    """The loopback Vonage, configured as Carnet's SMS provider (a number that takes replies)."""
    settings.CARNET_VONAGE_BASE_URL = sms_provider.base_url
    settings.CARNET_VONAGE_API_KEY = sms_provider.api_key
    settings.CARNET_VONAGE_API_SECRET = sms_provider.api_secret
    settings.CARNET_VONAGE_SIGNATURE_SECRET = sms_provider.signature_secret
    settings.CARNET_VONAGE_SENDER = "33700000000"
    return sms_provider


@pytest.fixture
def clock():
    """A clock that stays where it is put (`clock.move_to(instant)`)."""
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def reachable(db):
    """A patient with an e-mail address and a phone, who asked for SMS reminders."""
    user = UserFactory(email="camille@example.test", language="fr")
    patient = PatientFactory(account=user, phone=PHONE)
    NotificationPreferences.objects.create(
        user=user,
        email_reminders=True,
        sms_reminders=True,
        reminder_offsets=[168, 48, 24],
    )
    return patient
