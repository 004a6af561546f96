"""Structured JSON logs (carnet.core.logging) and their wiring (config LOGGING)."""

import importlib
import io
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path
from hypothesis import given
from hypothesis import strategies as st

from carnet.core import request_context
from carnet.core.logging import JsonFormatter, ScrubFilter, scrub


def boom(request: HttpRequest) -> HttpResponse:
    raise ValueError("canary-reason-XYZ from the request body")


urlpatterns = [path("boom/", boom)]


@pytest.fixture
def log_lines():
    """The JSON lines the configured root handler writes while the test runs."""
    (handler,) = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h.formatter, JsonFormatter)
    ]
    buffer = io.StringIO()
    previous = handler.setStream(buffer)  # type: ignore[attr-defined]

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    yield lines
    handler.setStream(previous)  # type: ignore[attr-defined]


def line_for(record: logging.LogRecord) -> dict:
    """What the configured handler writes for `record` (filter, then formatter)."""
    ScrubFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def make_record(msg, *args, name="carnet.test", level=logging.INFO, **extra):
    record = logging.LogRecord(name, level, __file__, 1, msg, args or None, None)
    record.__dict__.update(extra)
    return record


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '"GET /api/v1/practitioners?q=cancer+du+sein HTTP/1.1" 200 5120',
            '"GET /api/v1/practitioners?[redacted] HTTP/1.1" 200 5120',
        ),
        (
            "see https://carnet.example/search/?q=sein&near=48.8,2.3 now",
            "see https://carnet.example/search/?[redacted] now",
        ),
        ("from 203.0.113.7 on", "from [ip] on"),
        ("peer 203.0.113.7:51234", "peer [ip]:51234"),
        ("v6 2001:db8::7 and ::1.", "v6 [ip] and [ip]."),
        ("mapped ::ffff:203.0.113.7", "mapped [ip]"),
        ("[2001:db8:0:0:1:0:0:1]:8000", "[[ip]]:8000"),
        ("link fe80::1%eth0 up", "link [ip] up"),
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer [redacted]"),
        ("token crt_Ab3_x-Y9zZ", "token crt_[redacted]"),
        ("/pro/feeds/cal_Ab3_x-Y9zZ.ics", "/pro/feeds/[redacted]"),
        ("join inv_Qm9_x-Y9zZ now", "join inv_[redacted] now"),
        ("POST /a/AAAAb-c_9.Zz_y-8/ 403", "POST /a/[redacted]/ 403"),
        ("GET /offers/AAAAb-c_9.Zz_y-8/", "GET /offers/[redacted]/"),
        (
            "Cookie: __Host-sessionid=abc123; lang=fr",
            "Cookie: __Host-sessionid=[redacted]; lang=fr",
        ),
        ("password=hunter2", "password=[redacted]"),
        ("mail zoé.dupont+rdv@exemple.fr!", "mail [email]!"),
        ("call +33 6 12 34 56 78", "call [number]"),
        ("call 06 12 34 56 78 or 0612345678", "call [number] or [number]"),
        ("call 06.12.34.56.78", "call [number]"),
        ("Tel. +41 44 668 18 00", "Tel. [number]"),
        ("NIR 1 85 05 78 006 084 36", "NIR [number]"),
        ("AHV 756.1234.5678.97", "AHV [number]"),
        ("KVNR A123456789", "KVNR [id]"),
        ("CF RSSMRA85T10A562S", "CF [id]"),
    ],
)
def test_scrub_removes_personal_data(text, expected):
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Not Found: /api/v1/agendas/12/availability",
        "slot 2026-03-02 09:00:00+01:00 taken",
        "start 2026-03-02T09:00:00+01:00",
        "at 12:30:45, took 1234 ms, 20 minutes, HTTP/1.1 200 5120",
        "request 1f0e2d3c4b5a69788796a5b4c3d2e1f0",
        "Why? Because.",
        "version 5.2.19",
        "appointment 123456 cancelled",
    ],
)
def test_scrub_keeps_what_is_not_personal(text):
    assert scrub(text) == text


@given(st.text())
def test_scrubbing_twice_changes_nothing(text):
    once = scrub(text)
    assert scrub(once) == once


@pytest.mark.parametrize(
    "text",
    [
        "/" * 100_000 + "x",
        "a" * 100_000 + "@",
        "1 " * 50_000,
        "1:" * 50_000,
        "1." * 50_000,
        "a/b?" * 25_000,
    ],
)
def test_scrub_takes_linear_time_on_hostile_input(text):
    started = time.perf_counter()
    scrub(text)
    assert time.perf_counter() - started < 1.0


def test_a_line_is_one_json_object_with_time_level_logger_and_message():
    record = make_record("line one\nline %s", "two", name="carnet.booking")
    record.created = 1772431200.5  # 2026-03-02 06:00:00.5 UTC

    line = JsonFormatter().format(record)

    assert "\n" not in line
    assert json.loads(line) == {
        "time": "2026-03-02T06:00:00.500Z",
        "level": "INFO",
        "logger": "carnet.booking",
        "message": "line one\nline two",
        "request_id": None,
    }


def test_a_line_carries_the_current_request_id():
    token = request_context._request_id.set("req-1234567890")
    try:
        line = line_for(make_record("hello"))
    finally:
        request_context._request_id.reset(token)

    assert line["request_id"] == "req-1234567890"


def test_only_whitelisted_extra_fields_are_written_and_they_are_scrubbed():
    line = line_for(
        make_record(
            "done",
            status_code=409,
            path="/api/v1/practitioners?q=cancer",
            patient_name="Zéphyrine",
            body={"reason": "canary"},
        )
    )

    assert line["status_code"] == 409
    assert line["path"] == "/api/v1/practitioners?[redacted]"
    assert "patient_name" not in line
    assert "body" not in line
    assert "Zéphyrine" not in json.dumps(line, ensure_ascii=False)


def test_an_exception_is_written_as_its_type_and_frames_never_its_message():
    def fail():
        try:
            int("canary-cause")
        except ValueError as exc:
            raise RuntimeError("canary-reason-XYZ") from exc

    try:
        fail()
    except RuntimeError as exc:
        record = make_record("failed on %s: %s", "canary-arg", exc, level=logging.ERROR)
        record.exc_info = (type(exc), exc, exc.__traceback__)
    line = line_for(record)

    text = json.dumps(line)
    assert "canary-reason" not in text
    assert "canary-cause" not in text
    assert line["message"] == "failed on canary-arg: <RuntimeError>"
    assert line["exception"]["type"] == "builtins.RuntimeError"
    assert "message" not in line["exception"]
    assert line["exception"]["cause"]["type"] == "builtins.ValueError"
    assert any(frame.endswith(" in fail") for frame in line["exception"]["frames"])


def test_the_filter_leaves_no_argument_for_another_handler_to_merge():
    record = make_record("search %s from %s", "/s?q=sein", "203.0.113.7")

    ScrubFilter().filter(record)

    assert record.getMessage() == "search /s?[redacted] from [ip]"
    assert record.args is None


def test_the_root_logger_has_one_json_handler_that_every_logger_reaches():
    (handler,) = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h.formatter, JsonFormatter)
    ]

    assert any(isinstance(f, ScrubFilter) for f in handler.filters)
    for name in ("django", "django.request", "django.server", "carnet", "carnet.api"):
        logger = logging.getLogger(name)
        assert logger.handlers == [], name
        assert logger.propagate, name
        assert logger.getEffectiveLevel() == logging.getLevelName(
            settings.LOGGING["root"]["level"]
        ), name
    assert logging.getLogger("django.db.backends").getEffectiveLevel() == (
        logging.WARNING
    )


def test_the_level_comes_from_carnet_log_level(monkeypatch):
    from config.settings.integrations import logging as logging_settings

    configured = logging_settings.LOGGING["root"]["level"]
    monkeypatch.setenv("CARNET_LOG_LEVEL", "warning")
    try:
        reloaded = importlib.reload(logging_settings)
        assert reloaded.LOGGING["root"]["level"] == "WARNING"
        assert reloaded.LOGGING["loggers"]["carnet"]["level"] == "WARNING"
    finally:
        monkeypatch.undo()
        importlib.reload(logging_settings)
    assert logging_settings.LOGGING["root"]["level"] == configured


@override_settings(ROOT_URLCONF=__name__)
def test_an_unhandled_error_is_logged_without_its_message(db, log_lines):
    response = Client(raise_request_exception=False).get("/boom/?q=cancer+du+sein")

    assert response.status_code == 500
    (line,) = [line for line in log_lines() if line["logger"] == "django.request"]
    assert line["level"] == "ERROR"
    assert line["message"] == "Internal Server Error: /boom/"
    assert line["status_code"] == 500
    assert line["request_id"] == response["X-Request-ID"]
    assert line["exception"]["type"] == "builtins.ValueError"
    assert "canary" not in json.dumps(log_lines())
    assert "cancer" not in json.dumps(log_lines())


def test_runserver_request_lines_are_json_without_the_query(db, log_lines):
    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler, ipv6=False)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(
                f"http://127.0.0.1:{port}/nowhere/?q=cancer+du+sein", timeout=10
            )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    request_id = caught.value.headers["X-Request-ID"]
    lines = log_lines()
    server_lines = [line for line in lines if line["logger"] == "django.server"]
    request_lines = [line for line in lines if line["logger"] == "django.request"]
    assert len(server_lines) == 1
    assert re.fullmatch(
        r'"GET /nowhere/\?\[redacted\] HTTP/1.1" 404 \d+', server_lines[0]["message"]
    )
    assert server_lines[0]["status_code"] == 404
    assert [line["message"] for line in request_lines] == ["Not Found: /nowhere/"]
    assert request_lines[0]["request_id"] == request_id
    assert "cancer" not in json.dumps(lines)
    assert "127.0.0.1" not in json.dumps(lines)


def test_a_configuration_error_keeps_its_message_which_names_code_not_data():
    try:
        raise ImproperlyConfigured("'humanize' is not a registered tag library")
    except ImproperlyConfigured as exc:
        record = make_record("failed", level=logging.ERROR)
        record.exc_info = (type(exc), exc, exc.__traceback__)

    line = line_for(record)

    assert line["exception"]["message"] == "'humanize' is not a registered tag library"
