"""Fixtures shared by every suite: database vendor checks and a bookable agenda."""

import os
from datetime import UTC, datetime, time

import pytest
import time_machine

from carnet.accounts.tests.factories import PatientFactory
from carnet.scheduling.tests.factories import (
    AgendaFactory,
    MotiveFactory,
    OpeningRuleFactory,
)

pytest_plugins = ["carnet.audit.tests.fixtures"]

# A Monday, 07:00 in Paris (CET, UTC+1): a fixed "now" for booking rules.
NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove this process's SQLite test database file (and its WAL files)."""
    from pathlib import Path

    from django.conf import settings

    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if name and str(name).endswith(".sqlite3"):
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Skip tests marked `postgres` when the suite runs on SQLite."""
    from django.conf import settings

    vendor_is_pg = "postgresql" in settings.DATABASES["default"]["ENGINE"]
    if os.environ.get("CARNET_REQUIRE_POSTGRES") and not vendor_is_pg:
        raise pytest.UsageError(
            "CARNET_REQUIRE_POSTGRES is set but the database is not PostgreSQL"
        )
    if vendor_is_pg:
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (runs in the PostgreSQL pass of make test)"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def frozen_now():
    """Freeze the clock at NOW (ticking), so booking rules are deterministic."""
    with time_machine.travel(NOW, tick=True):
        yield NOW


@pytest.fixture
def agenda(db):
    """A Paris agenda open every day 08:00–18:00 wall-clock."""
    agenda = AgendaFactory(time_zone="Europe/Paris")
    for weekday in range(7):
        OpeningRuleFactory(
            agenda=agenda, weekday=weekday, opens_time=time(8), closes_time=time(18)
        )
    return agenda


@pytest.fixture
def motive(agenda):
    """A 20-minute in-person visit, 60 min notice, 90 days horizon, 24 h cut-off."""
    return MotiveFactory(agenda=agenda)


@pytest.fixture
def patient(db):
    """A patient with an account (the account is `patient.account`)."""
    return PatientFactory()


def current_totp(secret: str) -> str:
    """The TOTP code an authenticator app would show now for `secret`."""
    import time as _time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(_time.time()) // 30))


def login_with_totp(client, *, email: str, password: str, secret: str | None = None):
    """Log in through the real allauth pages: password, then (if `secret`) the TOTP step.

    Marks the e-mail as verified first (sign-up verification is tested elsewhere).
    Returns the last response.
    """
    from allauth.account.models import EmailAddress

    from carnet.accounts.models import User

    user = User.objects.get(email=email)
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    response = client.post("/accounts/login/", {"login": email, "password": password})
    if secret:
        response = client.post(
            "/accounts/2fa/authenticate/", {"code": current_totp(secret)}
        )
    return response


@pytest.fixture
def totp_secret() -> str:
    """A fixed base32 TOTP secret for test staff."""
    return "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def enroll_totp(totp_secret):
    """Give a user a TOTP authenticator (as the setup page would)."""
    from allauth.mfa.totp.internal.auth import TOTP

    def enroll(user):
        return TOTP.activate(user, totp_secret)

    return enroll


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache: each test starts from zero."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
