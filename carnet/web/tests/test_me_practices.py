"""The patient's no-shows and waiting list pages in /me/, and the funnel's no-show block."""

from datetime import date, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from carnet.accounts.models import StaffMembership, User
from carnet.accounts.services import (
    create_own_patient,
)
from carnet.accounts.tests.factories import PatientFactory, RelativeFactory, UserFactory
from carnet.booking.models import (
    Appointment,
    NoShowPolicy,
    SlotHold,
    Strike,
    WaitingListEntry,
)
from carnet.booking.staff import mark_status
from carnet.booking.waitlist import join_waiting_list
from carnet.scheduling.tests.factories import MotiveFactory
from conftest import NOW, login_with_totp

pytestmark = pytest.mark.django_db

PRACTICE_PHONE = "+33142868200"
PHONE_SHOWN = "01 42 86 82 00"
EXCUSE = "canary-excuse Ma fille était aux urgences"
SLOT = "2026-03-03T09:20:00+01:00"  # bookable from NOW (Monday 07:00 in Paris)


def client_for(user: User | None) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def holder(db):
    """Anne, an account holder with a full profile."""
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


@pytest.fixture
def practice(agenda):
    practice = agenda.practice
    practice.phone = PRACTICE_PHONE
    practice.save(update_fields=["phone"])
    return practice


@pytest.fixture
def practitioner(agenda, enroll_totp):
    user = UserFactory(first_name="Paul", last_name="Durand")
    StaffMembership.objects.create(
        user=user, practice=agenda.practice, role=StaffMembership.Role.PRACTITIONER
    )
    enroll_totp(user)
    return user


def missed(actor, motive, patient, when) -> Strike:
    """An appointment at `when` that staff mark as a no-show."""
    appointment = Appointment.objects.create(
        agenda=motive.agenda,
        motive=motive,
        patient=patient,
        starts_at=when,
        ends_at=when + timedelta(minutes=20),
    )
    mark_status(actor=actor, appointment_id=appointment.pk, status="noshow")
    return Strike.objects.get(appointment=appointment)


@pytest.fixture
def blocked(frozen_now, practice, practitioner, motive, holder):
    """Anne missed three appointments in February: the default policy blocks her."""
    return [
        missed(practitioner, motive, holder, NOW - timedelta(days=days))
        for days in (20, 13, 6)
    ]


def book_through_the_funnel(client: Client, motive, start: str = SLOT):
    response = client.post(
        reverse("web:book-start", args=[motive.agenda_id, motive.pk]), {"start": start}
    )
    assert response.status_code == 302, text(response)
    hold = SlotHold.objects.latest("created_at")
    own = client.get(response["Location"]).context["form"].fields["for_whom"]
    return client.post(
        reverse("web:book-hold", args=[hold.pk]),
        {"for_whom": own.initial, "reason": ""},
    )


# -- pages, logins, strangers ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("web:me-no-shows", "/me/no-shows/"),
        ("web:me-waiting-list", "/me/waiting-list/"),
    ],
)
def test_the_pages_keep_their_addresses_and_need_a_login(db, name, path):
    assert reverse(name) == path

    response = client_for(None).get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_dashboard_links_both_pages(me):
    page = text(me.get("/me/"))

    assert 'href="/me/no-shows/"' in page
    assert 'href="/me/waiting-list/"' in page


def test_without_missed_appointments_the_page_says_so(me):
    page = text(me.get("/me/no-shows/"))

    assert "No missed appointment" in page


# -- no-shows ----------------------------------------------------------------------


def test_a_blocked_patient_sees_why_and_the_practices_phone(blocked, me, practice):
    response = me.get("/me/no-shows/")

    assert response.status_code == 200
    page = text(response)
    assert f"Online booking at {practice.name} is blocked for Anne." in page
    assert (
        "Why: 3 missed appointments without an excuse count now, and this practice "
        "blocks online booking from 3." in page
    )
    assert f"To book, please call the practice on {PHONE_SHOWN}." in page
    assert f'href="tel:{PRACTICE_PHONE}"' in page
    assert page.count("Send the excuse") == 3
    assert "until Wednesday 24 February 2027" in page  # expiry of the last, in Paris


def test_booking_online_while_blocked_says_why_and_how_to_call(
    blocked, me, motive, practice
):
    response = book_through_the_funnel(me, motive)

    assert response.status_code == 400
    page = text(response)
    assert f"Online booking at {practice.name} is closed to you for now" in page
    assert f"call the practice on {PHONE_SHOWN}" in page
    assert 'href="/me/no-shows/"' in response.content.decode()
    assert not Appointment.objects.filter(status="booked").exists()


def test_excuse_accepted_by_staff_unblocks_online_booking(
    blocked, me, motive, practice, practitioner, totp_secret
):
    last = blocked[-1]

    sent = me.post(
        reverse("web:me-no-show-excuse", args=[last.pk]),
        {f"strike-{last.pk}-text": EXCUSE},
    )

    assert sent.status_code == 302
    assert sent["Location"] == "/me/no-shows/"
    last.refresh_from_db()
    assert last.excuse_text == EXCUSE
    page = text(me.get("/me/no-shows/"))
    assert "Excuse sent" in page
    assert page.count("Send the excuse") == 2

    staff = Client()
    login_with_totp(
        staff,
        email=practitioner.email,
        password="secret-password",
        secret=totp_secret,
    )
    staff_page = text(staff.get(f"/pro/practices/{practice.pk}/no-shows/"))
    assert EXCUSE in staff_page
    decided = staff.post(
        f"/pro/practices/{practice.pk}/no-shows/{last.pk}/decision/",
        {"decision": "accept"},
    )
    assert decided.status_code == 302

    page = text(me.get("/me/no-shows/"))
    assert "Excuse accepted" in page
    assert "is blocked for Anne" not in page
    assert "2 missed appointments count at this practice" in page
    booked = book_through_the_funnel(me, motive)
    assert booked.status_code == 302
    assert Appointment.objects.filter(status="booked").count() == 1


def test_strikes_expire_after_the_practices_number_of_days(
    frozen_now, practice, practitioner, motive, holder, me
):
    NoShowPolicy.objects.create(
        practice=practice, enabled=True, strikes_to_block=1, strike_expiry_days=10
    )
    strike = missed(practitioner, motive, holder, NOW - timedelta(days=2))
    assert strike.expires_at == NOW - timedelta(days=2) + timedelta(days=10)

    with time_machine.travel(NOW + timedelta(days=7), tick=False):
        page = text(me.get("/me/no-shows/"))
        assert "is blocked for Anne" in page
        assert "Counts" in page

    with time_machine.travel(NOW + timedelta(days=8, minutes=1), tick=True):
        page = text(me.get("/me/no-shows/"))
        assert "is blocked for Anne" not in page
        assert "Expired" in page
        assert "Send the excuse" not in page
        late = me.post(
            reverse("web:me-no-show-excuse", args=[strike.pk]),
            {f"strike-{strike.pk}-text": EXCUSE},
        )
        assert late.status_code == 400
        assert "This missed appointment no longer counts" in text(late)
        booked = book_through_the_funnel(me, motive, "2026-03-11T09:20:00+01:00")
        assert booked.status_code == 302
    strike.refresh_from_db()
    assert strike.excuse_sent_at is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("x" * 1001, "Ensure this value has at most 1000 characters"),
    ],
)
def test_a_bad_excuse_is_refused_on_its_form_and_changes_nothing(
    blocked, me, value, message
):
    strike = blocked[0]

    response = me.post(
        reverse("web:me-no-show-excuse", args=[strike.pk]),
        {f"strike-{strike.pk}-text": value},
    )

    assert response.status_code == 400
    page = text(response)
    assert message in page
    assert f'id="id_strike-{strike.pk}-text_error"' in page
    strike.refresh_from_db()
    assert strike.excuse_sent_at is None


def test_a_second_excuse_for_the_same_strike_is_refused(blocked, me):
    strike = blocked[0]
    url = reverse("web:me-no-show-excuse", args=[strike.pk])
    me.post(url, {f"strike-{strike.pk}-text": EXCUSE})

    response = me.post(url, {f"strike-{strike.pk}-text": "another story"})

    assert response.status_code == 400
    assert "An excuse was already sent" in text(response)
    strike.refresh_from_db()
    assert strike.excuse_text == EXCUSE


def test_another_users_strike_is_not_found_and_unchanged(blocked, holder):
    stranger = client_for(PatientFactory().account)
    strike = blocked[0]
    url = reverse("web:me-no-show-excuse", args=[strike.pk])

    page = text(stranger.get("/me/no-shows/"))
    with_text = stranger.post(url, {f"strike-{strike.pk}-text": EXCUSE})
    without_text = stranger.post(url, {f"strike-{strike.pk}-text": ""})

    assert "Martin" not in page
    assert with_text.status_code == 404
    assert without_text.status_code == 404
    assert "Martin" not in text(with_text)
    strike.refresh_from_db()
    assert strike.excuse_sent_at is None


def test_a_relatives_strikes_are_shown_to_the_account_holder(
    frozen_now, practice, practitioner, motive, holder, me
):
    child = RelativeFactory(managed_by=holder, first_name="Léo", last_name="Martin")
    missed(practitioner, motive, child, NOW - timedelta(days=3))

    page = text(me.get("/me/no-shows/"))

    assert "Léo Martin" in page
    assert "1 missed appointment counts at this practice" in page


def test_sending_an_excuse_needs_a_post(blocked, me):
    response = me.get(reverse("web:me-no-show-excuse", args=[blocked[0].pk]))

    assert response.status_code == 405


# -- waiting list ------------------------------------------------------------------


def join_url(agenda, motive=None) -> str:
    url = reverse("web:me-waiting-list-join", args=[agenda.pk])
    return f"{url}?motive={motive.pk}" if motive else url


def join_data(of, **overrides):
    data = {
        "patient": "self",
        "motive": str(of.pk),
        "earliest_on": "2026-03-09",
        "latest_on": "2026-03-27",
    }
    data.update(overrides)
    return data


def test_the_practitioner_page_offers_the_waiting_list_for_the_chosen_motive(
    frozen_now, agenda, motive
):
    page = text(
        client_for(None).get(
            reverse("web:practitioner", args=[agenda.practitioner_id]),
            {"known": "0", "motive": motive.pk},
        )
    )

    assert f'href="{join_url(agenda, motive)}"' in page
    assert "Join the waiting list" in page


def test_the_join_form_preselects_the_motive_and_offers_relatives(
    frozen_now, agenda, motive, holder, me
):
    other = MotiveFactory(agenda=agenda, name="Suivi")
    RelativeFactory(managed_by=holder, first_name="Léo", last_name="Martin")

    response = me.get(join_url(agenda, other))

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["motive"] == other.pk
    assert form.initial["earliest_on"] == date(2026, 3, 2)
    assert [label for _value, label in form.fields["patient"].choices] == [
        "Me (Anne Martin)",
        "Léo Martin",
    ]


def test_joining_and_leaving_the_waiting_list(frozen_now, agenda, motive, holder, me):
    response = me.post(join_url(agenda), join_data(motive))

    assert response.status_code == 302
    assert response["Location"] == "/me/waiting-list/"
    entry = WaitingListEntry.objects.get()
    assert (entry.patient, entry.motive, entry.earliest_on, entry.latest_on) == (
        holder,
        motive,
        date(2026, 3, 9),
        date(2026, 3, 27),
    )
    page = text(me.get("/me/waiting-list/"))
    assert "Monday 9 March 2026" in page
    leave_url = reverse("web:me-waiting-list-leave", args=[entry.pk])
    assert f'action="{leave_url}"' in page

    left = me.post(leave_url)

    assert left.status_code == 302
    entry.refresh_from_db()
    assert entry.status == WaitingListEntry.Status.CANCELLED
    page = text(me.get("/me/waiting-list/"))
    assert f'action="{leave_url}"' not in page
    assert "Past requests" in page


def test_joining_for_a_relative(frozen_now, agenda, motive, holder, me):
    child = RelativeFactory(managed_by=holder, first_name="Léo", last_name="Martin")

    response = me.post(join_url(agenda), join_data(motive, patient=str(child.pk)))

    assert response.status_code == 302
    assert WaitingListEntry.objects.get().patient == child


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"earliest_on": "2026-03-01"},
            "Choose dates from today onwards, the second on or after the first.",
        ),
        (
            {"earliest_on": "2026-03-20", "latest_on": "2026-03-10"},
            "Choose dates from today onwards, the second on or after the first.",
        ),
        (
            {"latest_on": "2026-07-01"},
            "This visit can be booked at most 90 days ahead",
        ),
        ({"latest_on": "not a date"}, "Enter a valid date."),
        ({"motive": "999999"}, "Select a valid choice."),
        ({"patient": "999999"}, "Select a valid choice."),
    ],
)
def test_bad_requests_are_refused_on_the_form_and_change_nothing(
    frozen_now, agenda, motive, me, overrides, message
):
    response = me.post(join_url(agenda), join_data(motive, **overrides))

    assert response.status_code == 400
    assert message in text(response)
    assert not WaitingListEntry.objects.exists()


def test_waiting_twice_for_the_same_visit_is_refused(
    frozen_now, agenda, motive, holder, me
):
    me.post(join_url(agenda), join_data(motive))

    response = me.post(join_url(agenda), join_data(motive, earliest_on="2026-03-10"))

    assert response.status_code == 400
    assert "already on the waiting list for this visit" in text(response)
    assert WaitingListEntry.objects.count() == 1


def test_a_blocked_patient_cannot_join_and_is_told_whom_to_call(
    blocked, agenda, motive, me, practice
):
    response = me.post(join_url(agenda), join_data(motive))

    assert response.status_code == 400
    page = text(response)
    assert f"Online booking at {practice.name} is closed to you for now" in page
    assert PHONE_SHOWN in page
    assert not WaitingListEntry.objects.exists()


def test_a_motive_closed_to_new_patients_is_refused_to_a_new_patient(
    frozen_now, agenda, me
):
    closed = MotiveFactory(agenda=agenda, open_to_new_patients=False)

    response = me.post(join_url(agenda), join_data(closed))

    assert response.status_code == 400
    assert "new patients" in text(response)
    assert not WaitingListEntry.objects.exists()


def test_without_a_profile_the_form_asks_for_one(frozen_now, agenda, motive):
    client = client_for(UserFactory())

    page = text(client.get(join_url(agenda, motive)))

    assert "Complete your profile first" in page
    assert 'href="/me/profile/"' in page


def test_an_unknown_or_closed_agenda_is_not_found(frozen_now, agenda, motive, me):
    agenda.is_active = False
    agenda.save(update_fields=["is_active"])

    assert me.get(join_url(agenda)).status_code == 404
    assert me.get("/me/waiting-list/join/999999/").status_code == 404


def test_patients_never_see_nor_leave_another_users_request(
    frozen_now, agenda, motive, me
):
    other = PatientFactory(first_name="Zoé", last_name="Autre")
    entry = join_waiting_list(
        user=other.account,
        patient_id=None,
        agenda_id=agenda.pk,
        motive_id=motive.pk,
        earliest_on=date(2026, 3, 9),
        latest_on=date(2026, 3, 27),
    )

    page = text(me.get("/me/waiting-list/"))
    response = me.post(reverse("web:me-waiting-list-leave", args=[entry.pk]))

    assert "Autre" not in page
    assert response.status_code == 404
    assert "Autre" not in text(response)
    entry.refresh_from_db()
    assert entry.status == WaitingListEntry.Status.ACTIVE


def test_leaving_needs_a_post(frozen_now, agenda, motive, holder, me):
    me.post(join_url(agenda), join_data(motive))
    entry = WaitingListEntry.objects.get()

    response = me.get(reverse("web:me-waiting-list-leave", args=[entry.pk]))

    assert response.status_code == 405
    entry.refresh_from_db()
    assert entry.is_live
