import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from carnet.accounts.models import NotificationPreferences, Patient, User
from carnet.accounts.services import (
    add_relative,
    create_own_patient,
)
from carnet.accounts.tests.factories import PatientFactory, RelativeFactory
from carnet.audit.models import AuditEvent
from carnet.audit.services import record_event
from carnet.booking.models import Appointment
from carnet.booking.services import book_appointment
from carnet.vault.errors import KeyDestroyed

PARIS = ZoneInfo("Europe/Paris")
pytestmark = pytest.mark.django_db


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def book(motive, patient, starts_at, *, user=None, reason=""):
    return book_appointment(
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        patient=patient,
        starts_at=starts_at,
        booked_by=user or patient.account,
        reason=reason,
    )


def client_for(user: User | None) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def holder(db):
    """An account holder with a full profile (password "secret-password")."""
    return create_own_patient(
        user=User.objects.create_user("anne@example.test", "secret-password"),
        first_name="Anne",
        last_name="Martin",
        birth_date=date(1990, 5, 17),
        phone="+33612345678",
    )


@pytest.fixture
def me(holder):
    return client_for(holder.account)


def text(response) -> str:
    return response.content.decode()


# -- every page, its owner, strangers ----------------------------------------------

SIMPLE_PAGES = [
    ("web:me", "My appointments"),
    ("web:me-profile", "My profile"),
    ("web:me-relatives", "My relatives"),
    ("web:me-access-log", "Who accessed my data"),
    ("web:me-export", "Download my data"),
    ("web:me-delete", "crypto-shredding"),
    ("web:me-notifications", "Remind me by e-mail"),
    ("web:me-security", "Two-factor authentication"),
]


@pytest.mark.parametrize(("name", "expected"), SIMPLE_PAGES)
def test_each_page_renders_for_its_owner(me, name, expected):
    response = me.get(reverse(name))

    assert response.status_code == 200
    assert expected in text(response)


def test_the_appointment_pages_render_for_their_owner(frozen_now, me, holder, motive):
    appointment = book(motive, holder, paris(2026, 3, 5, 10, 0), reason="migraine")

    for name in ("web:me-appointment", "web:me-cancel", "web:me-reschedule"):
        response = me.get(reverse(name, args=[appointment.pk]))
        assert response.status_code == 200, name
        assert appointment.agenda.practitioner.display_name in text(response)


def test_a_relative_page_renders_for_its_holder(me, holder):
    relative = add_relative(
        holder=holder, first_name="Léa", last_name="Martin", relationship="child"
    )

    response = me.get(reverse("web:me-relative", args=[relative.pk]))

    assert response.status_code == 200
    assert "Léa" in text(response)


@pytest.mark.parametrize(("name", "expected"), SIMPLE_PAGES)
def test_pages_need_a_login(db, name, expected):
    response = client_for(None).get(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_pages_work_before_the_profile_exists(db):
    user = User.objects.create_user("new@example.test", "secret-password")
    client = client_for(user)

    for name, _expected in SIMPLE_PAGES:
        assert client.get(reverse(name)).status_code == 200, name
    assert "Complete your own profile first" in text(
        client.get(reverse("web:me-relatives"))
    )


def test_another_users_appointment_is_not_found_and_unchanged(frozen_now, me, motive):
    stranger = PatientFactory(first_name="Secret", last_name="Person")
    theirs = book(motive, stranger, paris(2026, 3, 5, 10, 0), reason="private")

    for name in ("web:me-appointment", "web:me-cancel", "web:me-reschedule"):
        response = me.get(reverse(name, args=[theirs.pk]))
        assert response.status_code == 404, name
        assert "Secret" not in text(response)
    me.post(reverse("web:me-cancel", args=[theirs.pk]), {"reason": "other"})
    me.post(
        reverse("web:me-reschedule", args=[theirs.pk]),
        {"start": paris(2026, 3, 6, 10, 0).isoformat()},
    )

    theirs.refresh_from_db()
    assert theirs.status == Appointment.Status.BOOKED
    assert theirs.starts_at == paris(2026, 3, 5, 10, 0)


def test_another_users_relative_is_not_found_and_kept(me):
    relative = RelativeFactory(first_name="Secret")

    assert me.get(reverse("web:me-relative", args=[relative.pk])).status_code == 404
    response = me.post(
        reverse("web:me-relative", args=[relative.pk]), {"action": "remove"}
    )

    assert response.status_code == 404
    assert Patient.objects.get(pk=relative.pk).managed_by_id == relative.managed_by_id


def test_changes_need_a_post(me):
    assert me.post(reverse("web:me")).status_code == 405
    assert me.post(reverse("web:me-access-log")).status_code == 405
    assert me.post(reverse("web:me-security")).status_code == 405


# -- appointments ------------------------------------------------------------------


def test_the_dashboard_lists_upcoming_and_past_visits_in_the_agendas_zone(
    me, holder, motive
):
    relative = add_relative(
        holder=holder, first_name="Léa", last_name="Martin", relationship="child"
    )
    with time_machine.travel(datetime(2026, 3, 2, 6, 0, tzinfo=UTC)):
        past = book(motive, holder, paris(2026, 3, 3, 9, 0))
    with time_machine.travel(datetime(2026, 3, 10, 6, 0, tzinfo=UTC), tick=True):
        upcoming = book(
            motive, relative, paris(2026, 3, 12, 14, 20), user=holder.account
        )

        response = me.get(reverse("web:me"))

    page = text(response)
    assert page.index("Upcoming") < page.index("14:20") < page.index("Past and")
    assert page.index("Past and") < page.index("09:00")
    assert "For Léa" in page
    assert reverse("web:me-appointment", args=[upcoming.pk]) in page
    assert reverse("web:me-appointment", args=[past.pk]) in page


def test_the_detail_shows_the_cut_off_and_the_actions(frozen_now, me, holder, motive):
    appointment = book(motive, holder, paris(2026, 3, 5, 10, 0), reason="migraine")

    page = text(me.get(reverse("web:me-appointment", args=[appointment.pk])))

    assert "up to 24 hours before it" in page
    assert "Wednesday 4 March 2026, 10:00" in page
    assert "migraine" in page
    assert reverse("web:me-cancel", args=[appointment.pk]) in page
    assert reverse("web:me-reschedule", args=[appointment.pk]) in page


def test_dates_follow_the_accounts_language(frozen_now, holder, motive):
    book(motive, holder, paris(2026, 3, 5, 10, 0))
    User.objects.filter(pk=holder.account_id).update(language="de")
    client = Client()
    client.force_login(holder.account)

    page = text(client.get(reverse("web:me")))

    assert "Donnerstag, 5. März 2026, 10:00" in page


def test_cancelling_before_the_cut_off_cancels_with_the_reason(
    frozen_now, me, holder, motive
):
    appointment = book(motive, holder, paris(2026, 3, 5, 10, 0))

    response = me.post(
        reverse("web:me-cancel", args=[appointment.pk]),
        {"reason": "unavailable", "details": "  train   strike "},
        follow=True,
    )

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert appointment.cancelled_by_kind == Appointment.Actor.PATIENT
    assert appointment.cancellation_reason == "unavailable: train strike"
    assert "Your appointment is cancelled." in text(response)


def test_cancelling_after_the_cut_off_is_refused_and_changes_nothing(
    frozen_now, me, holder, motive
):
    appointment = book(motive, holder, paris(2026, 3, 2, 15, 0))

    response = me.post(
        reverse("web:me-cancel", args=[appointment.pk]), {"reason": "unavailable"}
    )

    assert response.status_code == 200
    assert "can no longer be cancelled or moved online" in text(response)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_a_cancellation_without_a_reason_changes_nothing(
    frozen_now, me, holder, motive
):
    appointment = book(motive, holder, paris(2026, 3, 5, 10, 0))

    response = me.post(reverse("web:me-cancel", args=[appointment.pk]), {})

    assert "This field is required." in text(response)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_the_reschedule_page_shows_the_free_times_of_the_week(
    frozen_now, me, holder, motive
):
    appointment = book(motive, holder, paris(2026, 3, 5, 10, 0))

    page = text(
        me.get(
            reverse("web:me-reschedule", args=[appointment.pk]), {"week": "2026-03-09"}
        )
    )

    assert paris(2026, 3, 9, 8, 0).isoformat() in page
    assert "week=2026-03-02" in page  # previous week
    assert "week=2026-03-16" in page  # next week


def test_rescheduling_to_a_free_time_moves_the_appointment(
    frozen_now, me, holder, motive
):
    appointment = book(motive, holder, paris(2026, 3, 5, 10, 0))

    response = me.post(
        reverse("web:me-reschedule", args=[appointment.pk]),
        {"start": paris(2026, 3, 6, 11, 0).isoformat()},
        follow=True,
    )

    appointment.refresh_from_db()
    assert appointment.starts_at == paris(2026, 3, 6, 11, 0)
    assert "Your appointment has been moved." in text(response)


def test_rescheduling_to_a_taken_time_offers_alternatives_and_changes_nothing(
    frozen_now, me, holder, motive
):
    appointment = book(motive, holder, paris(2026, 3, 5, 10, 0))
    book(motive, PatientFactory(), paris(2026, 3, 6, 11, 0))

    response = me.post(
        reverse("web:me-reschedule", args=[appointment.pk]),
        {"start": paris(2026, 3, 6, 11, 0).isoformat()},
    )

    page = text(response)
    assert "This time has just been taken" in page
    assert "The nearest free times" in page
    assert f'value="{paris(2026, 3, 6, 10, 40).isoformat()}"' in page
    appointment.refresh_from_db()
    assert appointment.starts_at == paris(2026, 3, 5, 10, 0)


def test_rescheduling_to_an_unreadable_time_changes_nothing(
    frozen_now, me, holder, motive
):
    appointment = book(motive, holder, paris(2026, 3, 5, 10, 0))

    for start in ("tomorrow", "2026-03-06T11:00:00", ""):
        response = me.post(
            reverse("web:me-reschedule", args=[appointment.pk]), {"start": start}
        )
        assert "Choose one of the free times shown." in text(response)

    appointment.refresh_from_db()
    assert appointment.starts_at == paris(2026, 3, 5, 10, 0)


# -- profile and relatives ---------------------------------------------------------


def test_the_profile_page_creates_the_profile(db):
    user = User.objects.create_user("new@example.test", "secret-password")
    client = client_for(user)

    response = client.post(
        reverse("web:me-profile"),
        {
            "first_name": "Jean",
            "last_name": "Dupont",
            "birth_date": "1985-02-03",
            "phone": "06 12 34 56 78",
            "country": "FR",
            "email": "jean@example.test",
        },
        follow=True,
    )

    assert "Your profile is saved." in text(response)
    patient = Patient.objects.get(account=user)
    assert patient.birth_date == date(1985, 2, 3)
    assert patient.phone == "+33612345678"
    assert patient.email == "jean@example.test"


def test_the_profile_page_updates_the_profile(me, holder):
    page = text(me.get(reverse("web:me-profile")))
    assert 'value="1990-05-17"' in page

    me.post(
        reverse("web:me-profile"),
        {
            "first_name": "Anne",
            "last_name": "Durand",
            "birth_date": "1990-05-17",
            "phone": "",
            "country": "FR",
            "email": "",
        },
    )

    stored = Patient.objects.get(pk=holder.pk)
    assert stored.last_name == "Durand"
    assert (stored.phone, stored.email, stored.phone_index) == ("", "", "")


def test_a_bad_phone_number_is_refused_and_changes_nothing(me, holder):
    response = me.post(
        reverse("web:me-profile"),
        {
            "first_name": "Other",
            "last_name": "Name",
            "birth_date": "",
            "phone": "0612 abc",
            "country": "FR",
            "email": "",
        },
    )

    assert "This phone number is not valid." in text(response)
    stored = Patient.objects.get(pk=holder.pk)
    assert (stored.first_name, stored.phone) == ("Anne", "+33612345678")
    assert stored.birth_date == date(1990, 5, 17)


def test_relatives_are_added_edited_and_removed(me, holder):
    response = me.post(
        reverse("web:me-relatives"),
        {
            "first_name": "Léa",
            "last_name": "Martin",
            "relationship": "child",
            "birth_date": "2016-04-01",
        },
        follow=True,
    )
    assert "Léa has been added to your relatives." in text(response)
    relative = Patient.objects.get(managed_by=holder)
    assert relative.birth_date == date(2016, 4, 1)

    me.post(
        reverse("web:me-relative", args=[relative.pk]),
        {
            "action": "save",
            "first_name": "Léa",
            "last_name": "Dupont",
            "relationship": "child",
            "birth_date": "2016-04-02",
        },
    )
    relative.refresh_from_db()
    assert relative.last_name == "Dupont"
    assert Patient.objects.get(pk=relative.pk).birth_date == date(2016, 4, 2)

    response = me.post(
        reverse("web:me-relative", args=[relative.pk]),
        {"action": "remove"},
        follow=True,
    )
    assert "Léa has been removed from your relatives." in text(response)
    assert not Patient.objects.filter(pk=relative.pk).exists()


def test_a_bad_relative_is_not_added(me, holder):
    response = me.post(
        reverse("web:me-relatives"),
        {"first_name": "", "last_name": "Martin", "relationship": "self"},
    )

    assert "This field is required." in text(response)
    assert not Patient.objects.filter(managed_by=holder).exists()


def test_a_relative_with_an_upcoming_visit_is_not_removed(
    frozen_now, me, holder, motive
):
    relative = add_relative(
        holder=holder, first_name="Léa", last_name="Martin", relationship="child"
    )
    book(motive, relative, paris(2026, 3, 5, 10, 0), user=holder.account)

    response = me.post(
        reverse("web:me-relative", args=[relative.pk]), {"action": "remove"}
    )

    assert "Léa still has upcoming appointments." in text(response)
    assert Patient.objects.get(pk=relative.pk).managed_by_id == holder.pk


# -- privacy -----------------------------------------------------------------------


def test_the_access_log_shows_who_read_what_and_flags_break_glass(me, holder):
    with time_machine.travel(datetime(2026, 3, 2, 8, 30, tzinfo=UTC)):
        record_event(
            actor_id=999,
            actor_kind="staff",
            actor_label="Dr Claire Bernard",
            action="break_glass",
            resource="practice:1:patient-file",
            patient_ref=f"patient:{holder.pk}",
            purpose="break_glass",
            reason="unconscious at the desk",
        )
    record_event(
        actor_id=1,
        actor_kind="staff",
        actor_label="Someone else",
        action="read",
        resource="x",
        patient_ref="patient:999999",
        purpose="care",
    )

    page = text(me.get(reverse("web:me-access-log")))

    assert "Dr Claire Bernard" in page
    assert "Monday 2 March 2026, 09:30" in page  # Paris time
    assert "Emergency access" in page
    assert "unconscious" not in page
    assert "Someone else" not in page


def test_the_export_downloads_everything_and_is_recorded(
    frozen_now, me, holder, motive
):
    book(motive, holder, paris(2026, 3, 5, 10, 0), reason="migraine")

    response = me.post(reverse("web:me-export"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="carnet-export-2026-03-02.json"'
    )
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    (own,) = data["patients"]
    assert own["birth_date"] == "1990-05-17"
    assert [a["reason"] for a in own["appointments"]] == ["migraine"]
    (event,) = AuditEvent.objects.filter(action="export")
    assert event.patient_ref == f"patient:{holder.pk}"
    assert event.actor_id == holder.account_id


def test_the_export_page_itself_exports_nothing(me):
    me.get(reverse("web:me-export"))

    assert not AuditEvent.objects.exists()


def test_deleting_the_account_with_a_wrong_password_changes_nothing(
    frozen_now, me, holder, motive
):
    appointment = book(motive, holder, paris(2026, 3, 5, 10, 0))

    response = me.post(reverse("web:me-delete"), {"password": "wrong", "confirm": "on"})

    assert "This password is not correct." in text(response)
    assert User.objects.get(pk=holder.account_id).is_active is True
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_an_account_without_a_password_is_asked_to_set_one_first(db):
    user = User.objects.create_user("passkey@example.test", None)

    page = text(client_for(user).get(reverse("web:me-delete")))

    assert f'href="{reverse("account_set_password")}"' in page
    assert 'name="password"' not in page


def test_password_guesses_on_the_deletion_page_are_throttled(me, holder):
    for attempt in range(10):
        me.post(reverse("web:me-delete"), {"password": f"guess-{attempt}"})

    response = me.post(
        reverse("web:me-delete"), {"password": "secret-password", "confirm": "on"}
    )

    assert "Too many attempts" in text(response)
    assert User.objects.get(pk=holder.account_id).is_active is True


def test_deleting_the_account_cancels_shreds_and_logs_out(
    frozen_now, me, holder, motive
):
    appointment = book(motive, holder, paris(2026, 3, 5, 10, 0), reason="migraine")

    response = me.post(
        reverse("web:me-delete"), {"password": "secret-password", "confirm": "on"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    (message,) = get_messages(response.wsgi_request)
    assert str(message).startswith("Your account is deleted")
    assert "_auth_user_id" not in me.session
    user = User.objects.get(pk=holder.account_id)
    assert user.is_active is False
    appointment = Appointment.objects.get(pk=appointment.pk)
    assert appointment.status == Appointment.Status.CANCELLED
    with pytest.raises(KeyDestroyed):
        _ = appointment.reason
    with pytest.raises(KeyDestroyed):
        _ = Patient.objects.get(pk=holder.pk).birth_date
    assert me.get(reverse("web:me")).status_code == 302


def test_deletion_inside_a_cut_off_lists_the_appointment_and_changes_nothing(
    frozen_now, me, holder, motive
):
    soon = book(motive, holder, paris(2026, 3, 2, 15, 0))

    response = me.post(
        reverse("web:me-delete"), {"password": "secret-password", "confirm": "on"}
    )

    page = text(response)
    assert "Please call the practice to cancel them" in page
    assert reverse("web:me-appointment", args=[soon.pk]) in page
    assert User.objects.get(pk=holder.account_id).is_active is True
    assert Patient.objects.get(pk=holder.pk).birth_date == date(1990, 5, 17)


# -- settings ----------------------------------------------------------------------


def test_notification_preferences_are_saved(me, holder):
    response = me.post(
        reverse("web:me-notifications"),
        {"sms_reminders": "on", "reminder_offsets": ["48", "2"]},
        follow=True,
    )

    assert "Your notification preferences are saved." in text(response)
    stored = NotificationPreferences.objects.get(user=holder.account)
    assert (stored.email_reminders, stored.sms_reminders) == (False, True)
    assert stored.reminder_offsets == [48, 2]
    page = text(me.get(reverse("web:me-notifications")))
    assert 'value="48" id="id_reminder_offsets_1" checked' in page


def test_unticking_every_box_turns_reminders_off(me, holder):
    me.post(reverse("web:me-notifications"), {})

    stored = NotificationPreferences.objects.get(user=holder.account)
    assert (stored.email_reminders, stored.sms_reminders) == (False, False)
    assert stored.reminder_offsets == []


def test_bad_notification_preferences_change_nothing(db):
    user = User.objects.create_user("new@example.test", "secret-password")
    client = client_for(user)

    response = client.post(
        reverse("web:me-notifications"),
        {"sms_reminders": "on", "reminder_offsets": ["24"]},
    )
    assert "Add a mobile phone number" in text(response)
    response = client.post(
        reverse("web:me-notifications"),
        {"email_reminders": "on", "reminder_offsets": ["5"]},
    )
    assert "Select a valid choice." in text(response)

    assert not NotificationPreferences.objects.exists()


def test_the_security_page_links_to_the_account_pages(me):
    page = text(me.get(reverse("web:me-security")))

    for name in (
        "mfa_index",
        "usersessions_list",
        "account_change_password",
        "account_email",
    ):
        assert f'href="{reverse(name)}"' in page
