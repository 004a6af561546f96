"""Who gets which message: switches, preferences, duplicates, running late."""

from datetime import timedelta

import pytest

from carnet.accounts.models import StaffMembership
from carnet.accounts.tests.factories import UserFactory
from carnet.booking.staff import declare_running_late, staff_cancel, staff_move
from carnet.notifications.models import Message
from carnet.notifications.tests.test_outbox import (
    THURSDAY_NEXT_WEEK,
    book,
    paris,
    parts,
)
from carnet.scheduling.tests.factories import (
    AgendaFactory,
    MotiveFactory,
    OpeningRuleFactory,
)
from tests.workers import drain

pytestmark = pytest.mark.django_db


def planned(kind=None):
    rows = Message.objects.exclude(status=Message.Status.CANCELLED)
    if kind:
        rows = rows.filter(kind=kind)
    return sorted((m.kind, m.channel) for m in rows)


def test_a_motive_without_reminders_gets_its_confirmation_only(
    clock, motive, reachable, sms
):
    motive.reminders_enabled = False
    motive.save()
    book(motive, reachable)
    assert planned() == [("confirmation", "email"), ("confirmation", "sms")]


def test_a_practice_that_sends_no_e_mail_reminders_still_confirms_by_e_mail(
    clock, motive, reachable, sms
):
    practice = motive.agenda.practice
    practice.email_reminders_enabled = False
    practice.save()
    book(motive, reachable)
    assert ("reminder", "email") not in planned()
    assert ("confirmation", "email") in planned()
    assert ("reminder", "sms") in planned()


def test_the_patient_chooses_the_reminder_times(clock, motive, reachable):
    preferences = reachable.account.notification_preferences
    preferences.reminder_offsets = [2]
    preferences.save()
    book(motive, reachable)
    [reminder] = Message.objects.filter(kind="reminder", channel="email")
    assert reminder.due_at == THURSDAY_NEXT_WEEK - timedelta(hours=2)


def test_changing_preferences_replans_the_upcoming_reminders(clock, motive, reachable):
    from carnet.accounts.services import update_notification_preferences

    book(motive, reachable)
    assert len(planned("reminder")) == 3
    update_notification_preferences(
        user=reachable.account,
        email_reminders=True,
        sms_reminders=False,
        reminder_offsets=[24],
    )
    assert planned("reminder") == [("reminder", "email")]


def test_a_relative_is_reminded_through_their_guardian(clock, motive, reachable, smtp):
    from carnet.accounts.tests.factories import RelativeFactory

    child = RelativeFactory(managed_by=reachable)
    book_appointment_for(motive, child, booked_by=reachable.account)
    drain()
    assert [m["To"] for m in smtp.messages] == ["camille@example.test"]


def book_appointment_for(motive, patient, *, booked_by):
    from carnet.booking.services import book_appointment

    return book_appointment(
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        patient=patient,
        starts_at=THURSDAY_NEXT_WEEK,
        booked_by=booked_by,
    )


def test_the_next_reminder_asks_about_a_duplicate_booking(
    clock, motive, reachable, smtp
):
    elsewhere = AgendaFactory(time_zone="Europe/Paris")
    for weekday in range(7):
        OpeningRuleFactory(agenda=elsewhere, weekday=weekday)
    other_motive = MotiveFactory(agenda=elsewhere, name="consultation ")
    book(motive, reachable)
    book(other_motive, reachable, starts_at=paris(2026, 3, 13, 11, 0))
    drain()
    reminder = Message.objects.filter(
        kind="reminder", channel="email", appointment__motive=motive
    ).earliest("due_at")
    clock.move_to(reminder.due_at + timedelta(minutes=1))
    drain()
    [sent] = [m for m in smtp.messages if "Rappel" in m["Subject"]][:1]
    text = parts(sent)["text/plain"]
    assert elsewhere.practitioner.display_name in text
    assert "11:00" in text


@pytest.fixture
def secretary(motive, enroll_totp):
    user = UserFactory()
    StaffMembership.objects.create(
        user=user,
        practice=motive.agenda.practice,
        role=StaffMembership.Role.SECRETARY,
    )
    enroll_totp(user)
    return user


def test_running_late_tells_the_day_s_remaining_patients_once(
    clock, motive, reachable, secretary, smtp
):
    appointment = book(motive, reachable)
    drain()
    clock.move_to(paris(2026, 3, 12, 8, 30))
    late = declare_running_late(actor=secretary, agenda_id=motive.agenda_id, minutes=25)
    assert list(late.appointments.all()) == [appointment]
    drain()
    notices = [m for m in smtp.messages if "25" in m["Subject"]]
    assert len(notices) == 1
    assert "10:00" in parts(notices[0])["text/plain"]
    drain()
    assert len([m for m in smtp.messages if "25" in m["Subject"]]) == 1


def test_a_staff_move_sends_a_moved_notice_with_the_new_calendar(
    clock, motive, reachable, secretary, smtp
):
    appointment = book(motive, reachable)
    drain()
    staff_move(
        actor=secretary,
        appointment_id=appointment.pk,
        starts_at=paris(2026, 3, 12, 14, 0),
        notify_patient=True,
    )
    drain()
    assert planned("confirmation") == [("confirmation", "email")]  # the first one
    moved = smtp.messages[-1]
    body = parts(moved)
    assert "14:00" in body["text/plain"]
    assert "SEQUENCE:1" in body["text/calendar"]
    assert "METHOD:REQUEST" in body["text/calendar"]


def test_a_staff_move_agreed_on_the_phone_confirms_the_new_time_without_a_notice(
    clock, motive, reachable, secretary, smtp
):
    appointment = book(motive, reachable)
    drain()
    staff_move(
        actor=secretary,
        appointment_id=appointment.pk,
        starts_at=paris(2026, 3, 12, 14, 0),
        notify_patient=False,
    )
    drain()
    # The new time's confirmation (with its calendar) still reaches the patient.
    assert "14:00" in parts(smtp.messages[-1])["text/plain"]
    assert not Message.objects.filter(kind="moved").exists()


def test_a_staff_cancellation_without_notice_sends_nothing(
    clock, motive, reachable, secretary, smtp
):
    appointment = book(motive, reachable)
    drain()
    staff_cancel(
        actor=secretary,
        appointment_id=appointment.pk,
        reason="Doublon",
        notify_patient=False,
    )
    drain()
    assert len(smtp.messages) == 1
    assert not Message.objects.filter(status=Message.Status.SCHEDULED).exists()


def test_plan_reminders_plans_existing_appointments_once_without_confirmation(
    clock, motive, reachable
):
    from django.core.management import call_command

    from carnet.booking.models import Appointment

    Appointment.objects.create(
        agenda=motive.agenda,
        motive=motive,
        patient=reachable,
        starts_at=THURSDAY_NEXT_WEEK,
        ends_at=THURSDAY_NEXT_WEEK + motive.duration,
    )
    call_command("plan_reminders", stdout=None)
    first = planned()
    call_command("plan_reminders", stdout=None)
    assert planned() == first
    assert {kind for kind, _ in first} == {"reminder"}
    assert len(first) == 3  # 7 days, 48 h, 24 h by e-mail (no SMS configured)
