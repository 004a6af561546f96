"""The outbox end to end: a real SMTP server and the loopback Vonage on the other side.

Booking → confirmation; the clock moved forward → each reminder once;
reschedule → the old time's reminders gone; cancel → a METHOD:CANCEL;
temporary refusals retried with backoff, permanent ones failed and kept for
staff; a worker that dies after the relay accepted a message does not make
the patient receive it twice.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from carnet.booking.services import (
    book_appointment,
    cancel_appointment,
    reschedule_appointment,
)
from carnet.notifications import delivery
from carnet.notifications.models import Message
from carnet.notifications.tests.conftest import PHONE
from tests.workers import drain

PARIS = ZoneInfo("Europe/Paris")
Status = Message.Status


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


THURSDAY_NEXT_WEEK = paris(2026, 3, 12, 10, 0)
REASON = "Douleur thoracique depuis hier"


def book(motive, patient, starts_at=THURSDAY_NEXT_WEEK):
    return book_appointment(
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        patient=patient,
        starts_at=starts_at,
        booked_by=patient.account,
        reason=REASON,
    )


def parts(message) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_content()
        for part in message.walk()
        if not part.is_multipart()
    }


def kinds(mailbox) -> list[str]:
    return [m["Subject"].split(":")[0] for m in mailbox.messages]


@pytest.mark.django_db
def test_booking_sends_one_confirmation_by_email_and_sms(
    clock, motive, reachable, smtp, sms
):
    appointment = book(motive, reachable)

    assert drain() >= 2
    assert len(smtp.messages) == 1
    confirmation = smtp.messages[0]
    assert confirmation["To"] == "camille@example.test"
    body = parts(confirmation)
    assert "10:00" in body["text/plain"]
    assert "METHOD:REQUEST" in body["text/calendar"]
    assert "SEQUENCE:0" in body["text/calendar"]
    for text in [confirmation["Subject"], *body.values()]:
        assert "thoracique" not in text
        assert motive.name not in text
    email_row = Message.objects.get(kind="confirmation", channel="email")
    assert confirmation["Message-ID"] == delivery.message_id_for(email_row.key)
    assert email_row.status == Status.SENT
    assert email_row.key.startswith(f"appointment:{appointment.vault_row}:0:")

    [text] = sms.messages
    assert text.to == PHONE.lstrip("+")
    assert (
        text.client_ref == Message.objects.get(kind="confirmation", channel="sms").key
    )
    assert "10:00" in text.handset_text
    assert "thoracique" not in text.handset_text

    assert drain() == 0  # nothing else is due yet
    assert len(smtp.messages) == 1


@pytest.mark.django_db
def test_moving_the_clock_sends_each_reminder_once(clock, motive, reachable, smtp, sms):
    book(motive, reachable)
    drain()
    planned = Message.objects.filter(kind="reminder").order_by("due_at")
    assert [(m.channel, m.key.rsplit(":", 1)[1]) for m in planned] == [
        ("email", "168h"),
        ("sms", "168h"),
        ("email", "48h"),
        ("sms", "48h"),
        ("email", "24h"),
        ("sms", "24h"),
    ]
    # Each reminder keeps the appointment's wall-clock time (10:00 Paris).
    assert {m.due_at.astimezone(PARIS).time().hour for m in planned} == {10}

    for due in sorted({m.due_at for m in planned}):
        clock.move_to(due + timedelta(minutes=1))
        drain()
        drain()  # a second worker pass finds nothing more to send
    clock.move_to(THURSDAY_NEXT_WEEK + timedelta(hours=2))
    drain()

    reminders = smtp.matching(lambda m: "Rappel" in m["Subject"])
    assert len(reminders) == 3
    assert len(smtp.by_message_id()) == len(smtp.messages) == 4
    assert len(sms.messages) == 4
    assert len({m.client_ref for m in sms.messages}) == 4
    assert set(Message.objects.values_list("status", flat=True)) == {Status.SENT}
    body = parts(reminders[0])["text/plain"]
    assert "/a/" in body  # "I'll be there" and "Cancel" links


@pytest.mark.django_db
def test_a_reschedule_replaces_the_old_reminders(clock, motive, reachable, smtp, sms):
    appointment = book(motive, reachable)
    drain()
    old = set(Message.objects.filter(kind="reminder").values_list("pk", flat=True))

    clock.move_to(paris(2026, 3, 3, 9, 0))
    reschedule_appointment(
        user=reachable.account,
        appointment_id=appointment.pk,
        starts_at=paris(2026, 3, 20, 15, 0),
    )

    assert set(Message.objects.filter(pk__in=old).values_list("status", flat=True)) == {
        Status.CANCELLED
    }
    new = Message.objects.filter(kind="reminder").exclude(pk__in=old)
    assert new.count() == 6
    assert all(":1:reminder:" in m.key for m in new)
    drain()
    confirmation = smtp.messages[-1]
    assert "METHOD:REQUEST" in parts(confirmation)["text/calendar"]
    assert "SEQUENCE:1" in parts(confirmation)["text/calendar"]
    assert "15:00" in parts(confirmation)["text/plain"]

    for due in sorted(new.values_list("due_at", flat=True)):
        clock.move_to(due + timedelta(minutes=1))
        drain()
    sent = Message.objects.filter(status=Status.SENT, kind="reminder")
    assert set(sent.values_list("pk", flat=True)) == set(
        new.values_list("pk", flat=True)
    )
    assert not smtp.matching(
        lambda m: "12 mars" in m["Subject"] and "Rappel" in m["Subject"]
    )


@pytest.mark.django_db
def test_a_reminder_left_behind_by_a_move_is_not_sent(
    clock, motive, reachable, smtp, monkeypatch
):
    """A worker that claimed an old reminder just before the move commits does not send it."""
    appointment = book(motive, reachable)
    drain()
    reminder = Message.objects.filter(kind="reminder", channel="email").earliest(
        "due_at"
    )
    clock.move_to(reminder.due_at + timedelta(minutes=1))
    claim = delivery.claim

    def claim_then_move(**kwargs):
        claimed = claim(**kwargs)
        reschedule_appointment(
            user=reachable.account,
            appointment_id=appointment.pk,
            starts_at=paris(2026, 3, 12, 16, 0),
        )
        return claimed

    monkeypatch.setattr(delivery, "claim", claim_then_move)
    assert delivery.deliver(message_id=reminder.pk, now=clock_now()) == "not-owed"
    reminder.refresh_from_db()
    assert reminder.status == Status.CANCELLED
    assert reminder.error_code == "moved"
    assert len(smtp.messages) == 1  # the confirmation only


@pytest.mark.django_db
def test_a_cancellation_withdraws_the_calendar_entry_and_the_reminders(
    clock, motive, reachable, smtp, sms
):
    appointment = book(motive, reachable)
    drain()
    cancel_appointment(user=reachable.account, appointment_id=appointment.pk)

    assert not Message.objects.filter(kind="reminder", status=Status.SCHEDULED).exists()
    drain()
    cancelled = smtp.messages[-1]
    calendar = parts(cancelled)["text/calendar"]
    assert "METHOD:CANCEL" in calendar
    assert "STATUS:CANCELLED" in calendar
    assert "SEQUENCE:1" in calendar
    uid = next(line for line in calendar.splitlines() if line.startswith("UID:"))
    assert uid in parts(smtp.messages[0])["text/calendar"]
    assert len(sms.messages) == 2

    clock.move_to(THURSDAY_NEXT_WEEK)
    drain()
    assert len(smtp.messages) == 2


@pytest.mark.django_db
def test_a_temporary_refusal_is_retried_with_backoff(clock, motive, reachable, smtp):
    book(motive, reachable)
    smtp.refuse_next("451 4.3.0 Mail server busy, try later")
    drain()
    row = Message.objects.get(kind="confirmation", channel="email")
    assert row.status == Status.SCHEDULED
    assert row.attempts == 1
    assert row.error_code == "smtp:451"
    assert row.next_attempt_at == clock_now() + timedelta(minutes=1)
    assert not smtp.messages

    clock.shift(timedelta(seconds=59))
    drain()
    assert not smtp.messages
    clock.shift(timedelta(seconds=2))
    drain()
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert row.attempts == 2
    assert len(smtp.messages) == 1


@pytest.mark.django_db
def test_a_permanent_refusal_fails_the_message_for_staff_to_see(
    clock, motive, reachable, smtp
):
    book(motive, reachable)
    smtp.refuse_next("550 5.1.1 No such user here")
    drain()
    row = Message.objects.get(kind="confirmation", channel="email")
    assert row.status == Status.FAILED
    assert row.error_code == "smtp:550"
    assert row.failed_at is not None
    assert "example.test" not in row.error_code  # never the server's words


@pytest.mark.django_db
def test_too_many_temporary_refusals_fail_the_message(
    clock, motive, reachable, smtp, settings
):
    settings.CARNET_MESSAGE_MAX_ATTEMPTS = 3
    book(motive, reachable)
    smtp.refuse_next("421 4.7.0 Try again later", count=3)
    for _ in range(4):
        drain()
        clock.shift(timedelta(hours=1))
    row = Message.objects.get(kind="confirmation", channel="email")
    assert row.status == Status.FAILED
    assert row.attempts == 3
    assert not smtp.messages


@pytest.mark.django_db
def test_two_workers_never_both_claim_a_message(clock, motive, reachable, smtp):
    book(motive, reachable)
    row = Message.objects.get(kind="confirmation", channel="email")
    now = clock_now()
    assert delivery.claim(message_id=row.pk, now=now) is not None
    assert delivery.claim(message_id=row.pk, now=now) is None
    # Until its lease lapses: then another worker may take it over.
    later = now + delivery.lease() + timedelta(seconds=1)
    assert delivery.claim(message_id=row.pk, now=later) is not None


class Killed(BaseException):
    """The worker process dies (SIGKILL) at this point."""


@pytest.mark.django_db
def test_a_worker_killed_after_the_relay_accepted_does_not_deliver_twice(
    clock, motive, reachable, smtp, monkeypatch
):
    book(motive, reachable)
    row = Message.objects.get(kind="confirmation", channel="email")

    def die(*args, **kwargs):
        raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(delivery, "_finish", die)
        with pytest.raises(Killed):
            delivery.deliver(message_id=row.pk, now=clock_now())
    row.refresh_from_db()
    assert row.status == Status.SENDING  # the relay has it; we never recorded it
    assert len(smtp.messages) == 1

    clock.shift(delivery.lease() + timedelta(seconds=1))
    assert delivery.sweep(now=clock_now()) == 1  # taken over and sent again…
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert row.attempts == 2
    assert len(smtp.messages) == 1  # …and the relay dropped the second copy
    assert smtp.duplicates[delivery.message_id_for(row.key)] == 1


@pytest.mark.django_db
def test_a_message_whose_task_was_lost_is_swept_up(clock, motive, reachable, smtp):
    from django_tasks_db.models import DBTaskResult

    book(motive, reachable)
    DBTaskResult.objects.filter(task_path__endswith="deliver_message").delete()
    assert delivery.sweep(now=clock_now()) == 0  # not stuck yet: its task may be queued
    clock.shift(delivery.stuck_after() + timedelta(seconds=1))
    drain()  # the sweep's own task is due by now
    assert len(smtp.messages) == 1
    assert (
        Message.objects.get(kind="confirmation", channel="email").status == Status.SENT
    )


@pytest.mark.django_db(transaction=True)
def test_nothing_is_planned_when_the_booking_rolls_back(clock, motive, reachable):
    class Oops(Exception):
        pass

    def book_then_fail():
        with transaction.atomic():
            book(motive, reachable)
            assert Message.objects.exists()
            raise Oops

    with pytest.raises(Oops):
        book_then_fail()
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_an_sms_lost_on_the_way_back_waits_for_its_lease(
    clock, motive, reachable, smtp, sms
):
    sms.drop_next(after_accept=True)
    book(motive, reachable)
    drain()
    row = Message.objects.get(kind="confirmation", channel="sms")
    assert row.status == Status.SENDING
    assert row.error_code.startswith("vonage:")
    assert len(sms.messages) == 1
    drain()
    assert len(sms.messages) == 1  # no resend while the receipt may still come


@pytest.mark.django_db
def test_a_patient_without_sms_gets_e_mail_only(clock, motive, reachable, smtp, sms):
    prefs = reachable.account.notification_preferences
    prefs.sms_reminders = False
    prefs.save()
    book(motive, reachable)
    assert set(Message.objects.values_list("channel", flat=True)) == {"email"}


@pytest.mark.django_db
def test_no_sms_without_a_provider(clock, motive, reachable, smtp, settings):
    settings.CARNET_VONAGE_API_KEY = ""
    book(motive, reachable)
    assert set(Message.objects.values_list("channel", flat=True)) == {"email"}


def clock_now() -> datetime:
    from django.utils import timezone

    return timezone.now()


@pytest.mark.django_db
def test_a_worker_keeps_one_smtp_connection_and_reopens_it_when_closed(
    clock, motive, reachable, smtp, monkeypatch
):
    """Message after message on one connection; a connection the relay dropped is reopened."""
    import smtplib

    opened = []
    real_open = smtplib.SMTP.connect

    def counting_connect(self, *args, **kwargs):
        opened.append(args)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "connect", counting_connect)
    book(motive, reachable)
    book(motive, reachable, starts_at=paris(2026, 3, 13, 10, 0))
    drain()
    assert len(smtp.messages) == 2
    assert len(opened) == 1
    # The relay closes the idle connection: the next message reopens it.
    delivery._smtp.connection.connection.close()
    book(motive, reachable, starts_at=paris(2026, 3, 16, 10, 0))
    drain()
    assert len(smtp.messages) == 3
    assert len(opened) == 2
    assert set(
        Message.objects.filter(channel="email", kind="confirmation").values_list(
            "status", flat=True
        )
    ) == {Status.SENT}
