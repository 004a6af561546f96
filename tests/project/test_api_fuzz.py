"""Schemathesis against our own OpenAPI: no input, however odd, makes the API fail with a 5xx."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from carnet.accounts.services import (
    mint_api_token,
)


@pytest.fixture
def keep_connection_open():
    """As Django's test client does: keep the test's transaction across requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_no_request_gets_a_server_error(
    keep_connection_open, agenda, motive, patient, frozen_now
):
    from config.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    _row, token = mint_api_token(user=patient.account)
    headers = {"Authorization": f"Bearer {token}", "Host": "localhost"}
    assert len(operations) == 9

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(data=st.data())
    def every_operation(data):
        for operation in operations:
            case = data.draw(operation.as_strategy())
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

    every_operation()
