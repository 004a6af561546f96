"""A whole booking through the API leaves no personal data in the logs (DESIGN invariant 5)."""

import json

import pytest
from django.test import Client

from carnet.accounts.services import (
    mint_api_token,
)
from carnet.accounts.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"
QUERY = "cancer du sein"
REASON = "canary-reason-XYZ"


def test_a_whole_booking_leaves_no_personal_data_in_the_logs(
    frozen_now, agenda, motive, log_lines
):
    patient = PatientFactory(
        account__first_name="Zéphyrine",
        account__last_name="Canarinette",
        account__email="zephyrine.canarinette@example.test",
    )
    _row, token = mint_api_token(user=patient.account)
    anonymous = Client(REMOTE_ADDR=IP)
    api = Client(REMOTE_ADDR=IP, headers={"authorization": f"Bearer {token}"})
    forged = Client(
        REMOTE_ADDR=IP, headers={"authorization": "Bearer crt_forgedForgedForged"}
    )
    before = len(log_lines())

    found = anonymous.get("/api/v1/practitioners", {"q": QUERY})
    refused_search = anonymous.get(
        "/api/v1/practitioners", {"q": QUERY, "near": "paris"}
    )
    slots = anonymous.get(
        f"/api/v1/agendas/{agenda.pk}/availability",
        {"motive": motive.pk, "from": "2026-03-02", "days": 1},
    )
    body = {
        "agenda": agenda.pk,
        "motive": motive.pk,
        "start": slots.json()["slots"][0],
        "reason": REASON,
    }
    booked = api.post("/api/v1/appointments", body, content_type="application/json")
    taken = api.post("/api/v1/appointments", body, content_type="application/json")
    invalid = api.post(
        "/api/v1/appointments",
        {**body, "start": "2026-03-02T09:00:00"},
        content_type="application/json",
    )
    unknown = api.post(
        "/api/v1/appointments/999999/cancel",
        {"reason": REASON},
        content_type="application/json",
    )
    unauthenticated = forged.post(
        "/api/v1/appointments", body, content_type="application/json"
    )
    mine = api.get("/api/v1/me/appointments")
    failed_login = anonymous.post(
        "/accounts/login/",
        {"login": patient.account.email, "password": "wrong " + REASON},
    )

    responses = [
        found,
        refused_search,
        slots,
        booked,
        taken,
        invalid,
        unknown,
        unauthenticated,
        mine,
        failed_login,
    ]
    assert [r.status_code for r in responses] == [
        200,
        422,
        200,
        201,
        409,
        422,
        404,
        401,
        200,
        200,
    ]
    lines = log_lines()[before:]
    # Django logs every 4xx answer as a warning: the capture really captured.
    records = [json.loads(line) for line in lines]
    refusals = [r for r in records if r["logger"] == "django.request"]
    assert sorted(r["status_code"] for r in refusals) == [401, 404, 409, 422, 422]
    assert all(r["level"] == "WARNING" for r in refusals)
    request_ids = {r["X-Request-ID"] for r in responses}
    assert all(r["request_id"] in request_ids for r in records), records
    assert {r["message"] for r in refusals} >= {
        "Conflict: /api/v1/appointments",
        "Unauthorized: /api/v1/appointments",
    }
    text = "\n".join(lines)
    secrets = [
        "cancer",
        "sein",
        REASON,
        "canary",
        IP,
        token,
        token.removeprefix("crt_"),
        "crt_forgedForgedForged",
        "Zéphyrine",
        "Canarinette",
        "zephyrine",
        "canarinette",
        patient.account.email,
    ]
    assert [s for s in secrets if s.lower() in text.lower()] == []


def test_an_unexpected_api_error_is_logged_without_the_request_body(
    frozen_now, agenda, motive, log_lines, monkeypatch
):
    def crash(**kwargs):
        # The worst case: an exception that quotes what the client sent.
        raise ValueError(f"could not book {kwargs['reason']} for {kwargs['patient']}")

    monkeypatch.setattr("carnet.api.v1.booking.book_appointment", crash)
    patient = PatientFactory(
        account__first_name="Zéphyrine", account__last_name="Canarinette"
    )
    _row, token = mint_api_token(user=patient.account)
    api = Client(REMOTE_ADDR=IP, headers={"authorization": f"Bearer {token}"})

    response = api.post(
        "/api/v1/appointments",
        {
            "agenda": agenda.pk,
            "motive": motive.pk,
            "start": "2026-03-02T09:00:00+01:00",
            "reason": REASON,
        },
        content_type="application/json",
    )

    assert response.status_code == 500
    records = [json.loads(line) for line in log_lines()]
    (error,) = [r for r in records if r["message"] == "unhandled API error"]
    assert error["level"] == "ERROR"
    assert error["request_id"] == response["X-Request-ID"]
    assert error["path"] == "/api/v1/appointments"
    assert error["exception"]["type"] == "builtins.ValueError"
    assert "message" not in error["exception"]
    text = "\n".join(log_lines())
    assert REASON not in text
    assert "Canarinette" not in text
    assert IP not in text
