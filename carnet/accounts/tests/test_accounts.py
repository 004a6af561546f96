import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import identify_hasher
from django.core import mail
from django.test import Client, override_settings

from carnet.accounts.middleware import LAST_SEEN, STARTED
from carnet.accounts.models import StaffMembership, User
from carnet.accounts.tests.factories import UserFactory
from carnet.directory.tests.factories import PracticeFactory

pytestmark = pytest.mark.django_db


@override_settings(
    PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"]
)
def test_sign_up_sends_a_verification_email_and_hashes_with_argon2id():
    client = Client()

    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.test",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(email="new@example.test")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.password.startswith("argon2$argon2id$")
    (message,) = mail.outbox
    # Verification by a code typed on the next page (a booking in progress stays in view).
    assert response["Location"] == "/accounts/confirm-email/"
    assert re.search(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$", message.body, re.MULTILINE)
    # Not verified yet: logging in leads to the verification notice, not a session.
    client.logout()
    client.post(
        "/accounts/login/",
        {"login": "new@example.test", "password": "a-long-pass-phrase-9"},
    )
    assert "_auth_user_id" not in client.session


def test_repeated_failed_logins_are_throttled_even_for_the_right_password():
    UserFactory(email="victim@example.test")
    EmailAddress.objects.create(
        user=User.objects.get(email="victim@example.test"),
        email="victim@example.test",
        verified=True,
        primary=True,
    )
    client = Client(headers={"accept-language": "en"})

    for attempt in range(5):
        client.post(
            "/accounts/login/",
            {"login": "victim@example.test", "password": f"wrong-{attempt}"},
        )
    response = client.post(
        "/accounts/login/",
        {"login": "victim@example.test", "password": "secret-password"},
    )

    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_idle_staff_session_ends_after_fifteen_minutes(settings):
    staff = UserFactory()
    StaffMembership.objects.create(
        user=staff, practice=PracticeFactory(), role="secretary"
    )
    client = Client()
    client.force_login(staff)
    client.get("/")
    session = client.session
    session[LAST_SEEN] -= 16 * 60
    session.save()

    client.get("/")

    assert "_auth_user_id" not in client.session


def test_a_staff_session_ends_after_twelve_hours_even_if_active():
    staff = UserFactory()
    StaffMembership.objects.create(
        user=staff, practice=PracticeFactory(), role="practitioner"
    )
    client = Client()
    client.force_login(staff)
    client.get("/")
    session = client.session
    session[STARTED] -= 12 * 3600 + 1
    session.save()

    client.get("/")

    assert "_auth_user_id" not in client.session


def test_a_patient_session_is_not_cut_after_fifteen_minutes(patient):
    client = Client()
    client.force_login(patient.account)
    client.get("/")
    session = client.session
    session[LAST_SEEN] = session.get(LAST_SEEN, 0) - 16 * 60
    session.save()

    client.get("/")

    assert client.session["_auth_user_id"] == str(patient.account.pk)


def test_a_new_account_keeps_the_language_it_signed_up_in():
    client = Client(headers={"accept-language": "de"})
    client.post(
        "/accounts/signup/",
        {
            "email": "neu@example.test",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
        },
    )
    assert User.objects.get(email="neu@example.test").language == "de"
