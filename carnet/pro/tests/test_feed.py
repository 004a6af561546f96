"""The agenda's iCalendar feed: a secret URL, minimal content, every fetch audited."""

import io
import json
import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from carnet.accounts.models import StaffMembership
from carnet.audit.models import AuditEvent
from carnet.audit.selectors import verify_chain
from carnet.booking.ics import appointment_uid
from carnet.booking.models import Appointment
from carnet.core.logging import JsonFormatter, scrub
from carnet.pro.tests.conftest import paris
from carnet.scheduling.feeds import create_feed, revoke_feed
from carnet.scheduling.models import AgendaFeed
from carnet.scheduling.tests.factories import AgendaFactory, MotiveFactory
from conftest import NOW

pytestmark = pytest.mark.django_db
REASON = "canary-reason Douleur thoracique"


def feed_url(raw: str) -> str:
    return f"/pro/feeds/{raw}.ics"


@pytest.fixture
def admin(staff):
    return staff(StaffMembership.Role.PRACTICE_ADMIN)


@pytest.fixture
def make_feed(agenda, admin, staff):
    """make_feed(show_patient_names=, on=agenda, name=): (feed, raw token), as a practice would."""

    def make(*, show_patient_names: bool = False, on=None, name: str = "Téléphone"):
        on = on or agenda
        user = admin
        if on.practice_id != agenda.practice_id:
            user = staff(StaffMembership.Role.PRACTICE_ADMIN, at=on.practice)
        return create_feed(
            actor=user,
            agenda_id=on.pk,
            show_patient_names=show_patient_names,
            name=name,
        )

    return make


@pytest.fixture
def booked(frozen_now, agenda, anne, bruno, visit):
    """Anne (with a reason) and Bruno booked, one cancelled visit, and visits out of range."""
    motive = MotiveFactory(agenda=agenda, name="Consultation")
    return {
        "anne": visit(
            agenda, anne, paris(2026, 3, 3, 9, 0), motive=motive, reason=REASON
        ),
        "bruno": visit(agenda, bruno, paris(2026, 3, 4, 14, 0), motive=motive),
        "cancelled": visit(
            agenda,
            bruno,
            paris(2026, 3, 5, 11, 0),
            motive=motive,
            status=Appointment.Status.CANCELLED,
        ),
        "seen": visit(
            agenda,
            anne,
            NOW - timedelta(days=29),
            motive=motive,
            status=Appointment.Status.FULFILLED,
        ),
        "too_old": visit(agenda, anne, NOW - timedelta(days=31), motive=motive),
        "far": visit(agenda, anne, NOW + timedelta(days=89), motive=motive),
        "too_far": visit(agenda, anne, NOW + timedelta(days=91), motive=motive),
    }


def events_of(response) -> dict[str, object]:
    """The VEVENTs of a feed response, by UID."""
    calendar = Calendar.from_ical(response.content)
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def test_the_feed_needs_no_login_and_answers_text_calendar(booked, make_feed):
    _feed, raw = make_feed()

    response = Client().get(feed_url(raw))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in response
    assert response.content.startswith(b"BEGIN:VCALENDAR")
    assert b"METHOD:PUBLISH" in response.content
    assert b"X-PUBLISHED-TTL:PT15M" in response.content


def test_unknown_malformed_and_revoked_tokens_get_the_same_404(
    booked, make_feed, admin
):
    feed, raw = make_feed()
    revoke_feed(actor=admin, feed_id=feed.pk)
    _other, live = make_feed()
    unknown = "cal_" + "A" * 43

    answers = [
        Client().get(feed_url(token))
        for token in (raw, unknown, "not-a-token", live[:-1], "cal_" + "x" * 200)
    ]

    assert {a.status_code for a in answers} == {404}
    assert len({a.content for a in answers}) == 1
    assert len({a["Content-Type"] for a in answers}) == 1
    for answer in answers:
        assert answer["Cache-Control"] == "no-store"
        assert b"cal_" not in answer.content
    assert AuditEvent.objects.count() == 0
    feed.refresh_from_db()
    assert feed.last_used_at is None


def test_the_feed_holds_the_active_visits_from_30_days_ago_to_90_days_ahead(
    booked, make_feed
):
    _feed, raw = make_feed()

    events = events_of(Client().get(feed_url(raw)))

    shown = ["seen", "anne", "bruno", "far"]
    assert set(events) == {appointment_uid(booked[k]) for k in shown}
    for key in shown:
        event = events[appointment_uid(booked[key])]
        assert str(event["summary"]) == "Consultation"
        assert str(event["status"]) == "CONFIRMED"
        assert event["dtstart"].dt == booked[key].starts_at
        assert event["dtend"].dt == booked[key].ends_at


def test_the_content_is_minimal_no_reason_no_phone_no_email_no_name(
    booked, make_feed, anne
):
    _feed, raw = make_feed()

    text = Client().get(feed_url(raw)).content.decode()

    for secret in (
        "canary",
        "Douleur",
        "+33612345678",
        "06 12 34 56 78",
        "612345678",
        "anne.lefebvre@example.test",
        "Lefebvre",
        "Anne",
        "Garnier",
    ):
        assert secret not in text
    assert "DESCRIPTION" not in text
    assert "ATTENDEE" not in text
    assert "LOCATION" not in text


def test_names_only_when_the_feed_shows_them(booked, make_feed):
    _feed, raw = make_feed(show_patient_names=True)

    response = Client().get(feed_url(raw))
    events = events_of(response)

    summaries = {uid: str(e["summary"]) for uid, e in events.items()}
    assert summaries[appointment_uid(booked["anne"])] == "Consultation — Anne Lefebvre"
    assert summaries[appointment_uid(booked["bruno"])] == "Consultation — Bruno Garnier"
    text = response.content.decode()
    assert "canary" not in text
    assert "anne.lefebvre@example.test" not in text
    assert "612345678" not in text.replace(" ", "")


def test_times_are_written_in_the_agenda_zone_with_its_vtimezone_on_a_dst_day(
    frozen_now, anne, visit, make_feed
):
    # Paris springs forward on 29 March 2026 at 02:00 (UTC+1 → UTC+2); the
    # feed's agenda is in New York, which did so on 8 March.
    agenda = AgendaFactory(time_zone="America/New_York")
    york = ZoneInfo("America/New_York")
    paris_day = visit(agenda, anne, paris(2026, 3, 29, 10, 0))  # 04:00 in New York
    york_day = visit(agenda, anne, datetime(2026, 3, 8, 10, 0, tzinfo=york))
    _feed, raw = make_feed(on=agenda)

    response = Client().get(feed_url(raw))
    text = response.content.decode()
    events = events_of(response)

    assert "DTSTART;TZID=America/New_York:20260308T100000" in text
    assert "DTEND;TZID=America/New_York:20260308T102000" in text
    assert "DTSTART;TZID=America/New_York:20260329T040000" in text
    assert "BEGIN:VTIMEZONE" in text
    assert "TZID:America/New_York" in text
    assert "Europe/Paris" not in text
    start = events[appointment_uid(york_day)]["dtstart"].dt
    assert start == datetime(2026, 3, 8, 14, 0, tzinfo=UTC)
    assert start.utcoffset() == timedelta(hours=-4)
    assert events[appointment_uid(paris_day)]["dtstart"].dt == datetime(
        2026, 3, 29, 8, 0, tzinfo=UTC
    )


def test_a_paris_agenda_on_its_dst_day(frozen_now, agenda, anne, visit, make_feed):
    before = visit(agenda, anne, paris(2026, 3, 29, 1, 30))
    after = visit(agenda, anne, paris(2026, 3, 29, 10, 0))
    _feed, raw = make_feed()

    response = Client().get(feed_url(raw))
    text = response.content.decode()

    assert "DTSTART;TZID=Europe/Paris:20260329T013000" in text
    assert "DTSTART;TZID=Europe/Paris:20260329T100000" in text
    events = events_of(response)
    assert events[appointment_uid(before)]["dtstart"].dt == datetime(
        2026, 3, 29, 0, 30, tzinfo=UTC
    )
    assert events[appointment_uid(after)]["dtstart"].dt == datetime(
        2026, 3, 29, 8, 0, tzinfo=UTC
    )


def test_a_fetch_without_names_is_one_audit_event(booked, make_feed):
    feed, raw = make_feed(name="iPhone Dr Martin")

    Client().get(feed_url(raw))

    (event,) = AuditEvent.objects.all()
    assert (
        event.actor_kind,
        event.actor_label,
        event.action,
        event.resource,
        event.purpose,
        event.patient_ref,
    ) == ("api", "iPhone Dr Martin", "read", f"feed:{feed.pk}", "care", "")
    assert event.actor_id is None


def test_a_fetch_with_names_is_also_one_read_per_patient_named(
    booked, make_feed, anne, bruno
):
    feed, raw = make_feed(show_patient_names=True, name="")

    Client().get(feed_url(raw))
    Client().get(feed_url(raw))

    events = list(AuditEvent.objects.order_by("pk"))
    assert len(events) == 6
    assert [e.patient_ref for e in events[:3]] == [
        "",
        f"patient:{min(anne.pk, bruno.pk)}",
        f"patient:{max(anne.pk, bruno.pk)}",
    ]
    assert {e.resource for e in events} == {f"feed:{feed.pk}"}
    assert {e.actor_label for e in events} == {f"{feed.prefix}…"}
    assert {(e.actor_kind, e.action, e.purpose) for e in events} == {
        ("api", "read", "care")
    }
    assert verify_chain().ok


def test_last_used_at_is_written_at_most_once_a_minute(booked, make_feed):
    feed, raw = make_feed()
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    def fetch_at(moment: datetime) -> datetime | None:
        with time_machine.travel(moment, tick=False):
            assert Client().get(feed_url(raw)).status_code == 200
        feed.refresh_from_db()
        return feed.last_used_at

    assert fetch_at(start) == start
    assert fetch_at(start + timedelta(seconds=30)) == start
    assert fetch_at(start + timedelta(seconds=59)) == start
    assert fetch_at(start + timedelta(seconds=61)) == start + timedelta(seconds=61)


def test_a_fresh_fetch_does_not_write_the_feed_row(booked, make_feed):
    _feed, raw = make_feed()
    Client().get(feed_url(raw))

    with CaptureQueriesContext(connection) as queries:
        Client().get(feed_url(raw))

    table = AgendaFeed._meta.db_table
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith("UPDATE") and table in q["sql"]
    ]
    assert writes == []


def test_revoking_stops_the_feed_at_once(booked, make_feed, admin):
    feed, raw = make_feed()
    assert Client().get(feed_url(raw)).status_code == 200

    revoke_feed(actor=admin, feed_id=feed.pk)

    assert Client().get(feed_url(raw)).status_code == 404


def test_only_get(booked, make_feed):
    _feed, raw = make_feed()

    assert Client().post(feed_url(raw)).status_code == 405
    assert AuditEvent.objects.count() == 0


@pytest.fixture
def log_output():
    """What the configured JSON handler writes while the test runs."""
    (handler,) = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h.formatter, JsonFormatter)
    ]
    buffer = io.StringIO()
    previous = handler.setStream(buffer)  # type: ignore[attr-defined]
    yield buffer
    handler.setStream(previous)  # type: ignore[attr-defined]


def test_no_feed_token_reaches_the_logs(booked, make_feed, admin, log_output):
    revoked, revoked_raw = make_feed()
    revoke_feed(actor=admin, feed_id=revoked.pk)
    _feed, raw = make_feed()
    client = Client(raise_request_exception=False)

    client.get(feed_url(raw))
    client.get(feed_url(revoked_raw))  # a 404: Django logs "Not Found: <path>"
    client.post(feed_url(raw))  # a 405: logged too
    logging.getLogger("django.server").info('"GET %s HTTP/1.1" 200 1234', feed_url(raw))
    logging.getLogger("uvicorn.access").info(
        '%s - "GET %s HTTP/1.1" 200', "203.0.113.7:5000", feed_url(raw)
    )

    written = log_output.getvalue()
    lines = [json.loads(line) for line in written.splitlines()]
    assert any("Not Found" in line["message"] for line in lines)
    assert any(line.get("path") == "/pro/feeds/[redacted]" for line in lines)
    for token in (raw, revoked_raw, raw[12:], revoked_raw[12:]):
        assert token not in written


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '"GET /pro/feeds/cal_Ab3_x-Y9zZ.ics HTTP/1.1" 200 512',
            '"GET /pro/feeds/[redacted] HTTP/1.1" 200 512',
        ),
        ("Not Found: /pro/feeds/%63al_Ab3.ics", "Not Found: /pro/feeds/[redacted]"),
        ("subscribed to cal_Ab3_x-Y9zZ", "subscribed to cal_[redacted]"),
        ("/pro/feeds/cal_Ab3.ics?x=1", "/pro/feeds/[redacted]?[redacted]"),
    ],
)
def test_the_scrubber_removes_feed_tokens(text, expected):
    assert scrub(text) == expected
    assert scrub(expected) == expected


@pytest.mark.parametrize("text", ["local_time 09:20", "calendar feed 12 revoked"])
def test_the_scrubber_keeps_ordinary_words(text):
    assert scrub(text) == text
