"""The team page (members, invitations, roles) and the invitee's acceptance page."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carnet.accounts.models import Invitation, StaffMembership
from carnet.accounts.selectors import hash_token
from carnet.accounts.team import (
    invite_member,
    revoke_invitation,
)
from carnet.accounts.tests.factories import UserFactory
from carnet.audit.models import AuditEvent
from carnet.pro.tests.conftest import PASSWORD
from conftest import login_with_totp

pytestmark = pytest.mark.django_db
ADMIN = StaffMembership.Role.PRACTICE_ADMIN
SECRETARY = StaffMembership.Role.SECRETARY
PRACTITIONER = StaffMembership.Role.PRACTITIONER
SITE = "https://carnet.example.test"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.CARNET_SITE_URL = SITE + "/"


@pytest.fixture
def practice(agenda):
    agenda.practice.name = "Cabinet des Lilas"
    agenda.practice.save(update_fields=["name"])
    return agenda.practice


@pytest.fixture
def admin(staff, practice):
    return staff(ADMIN, first_name="Alice", last_name="Admin", language="en")


@pytest.fixture
def admin_client(admin, signed_in):
    return signed_in(admin)


def team_url(practice) -> str:
    return reverse("pro:team", kwargs={"practice_id": practice.pk})


def url(name: str, practice, **kwargs) -> str:
    return reverse(name, kwargs={"practice_id": practice.pk, **kwargs})


def html(response) -> str:
    return response.content.decode()


def link_of(message) -> str:
    found = re.search(r"https?://\S+/pro/join/\?token=[\w\-]+", message.body)
    assert found, message.body
    return found.group(0)


def token_of(message) -> str:
    return parse_qs(urlsplit(link_of(message)).query)["token"][0]


def invitee_client(user) -> Client:
    """A logged-in ordinary user (no second factor), their e-mail verified."""
    client = Client()
    login_with_totp(client, email=user.email, password=PASSWORD)
    return client


# ---------- the team page ----------


def test_the_team_page_lists_members_their_roles_and_second_factor(
    practice, admin, admin_client, staff
):
    staff(SECRETARY, first_name="Sam", last_name="Desk", mfa=False)
    staff(PRACTITIONER, first_name="Paul", last_name="Doc")

    response = admin_client.get(team_url(practice))

    assert response.status_code == 200
    page = html(response)
    assert "Cabinet des Lilas" in page
    for name in ("Alice Admin", "Sam Desk", "Paul Doc"):
        assert name in page
    assert page.count("Two-factor authentication on") == 2
    assert page.count("No second factor yet") == 1
    assert 'aria-current="page">Team<' in page


def test_pending_and_expired_invitations_are_listed_as_such(
    practice, admin, admin_client
):
    with time_machine.travel(timezone.now() - timedelta(days=10)):
        invite_member(
            actor=admin,
            practice_id=practice.pk,
            email="old@example.test",
            role=SECRETARY,
        )
    invite_member(
        actor=admin,
        practice_id=practice.pk,
        email="new@example.test",
        role=PRACTITIONER,
    )

    page = html(admin_client.get(team_url(practice)))

    assert "old@example.test" in page
    assert "new@example.test" in page
    assert page.count("Expired</span>") == 1
    assert page.count("Waiting for an answer") == 1


def test_inviting_sends_one_email_with_an_absolute_one_time_link(
    practice, admin, admin_client
):
    response = admin_client.post(
        url("pro:team-invite", practice),
        {"email": " Nadia.New@Example.test ", "role": PRACTITIONER},
    )

    assert response.status_code == 303
    assert response["Location"] == team_url(practice)
    invitation = Invitation.objects.get(practice=practice)
    assert invitation.email == "nadia.new@example.test"
    assert invitation.role == PRACTITIONER
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nadia.new@example.test"]
    assert message.subject == "Join the team of Cabinet des Lilas on Carnet"
    assert "Alice Admin invites you" in message.body
    assert "as practitioner" in message.body
    assert link_of(message).startswith(SITE + "/pro/join/?token=inv_")
    assert hash_token(token_of(message)) == invitation.token_digest
    html_part, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{link_of(message)}"' in html_part
    assert "two-factor authentication" in message.body
    page = html(admin_client.get(team_url(practice)))
    assert "Invitation sent to nadia.new@example.test." in page
    # The raw token is in the e-mail only: never in the page nor the trail.
    assert token_of(message) not in page
    assert not AuditEvent.objects.filter(resource__contains=token_of(message)).exists()


def test_the_email_is_in_the_invitees_language_when_they_have_an_account(
    practice, admin, admin_client
):
    UserFactory(email="dora@example.test", language="de")

    admin_client.post(
        url("pro:team-invite", practice),
        {"email": "dora@example.test", "role": SECRETARY},
    )

    (message,) = mail.outbox
    assert '<html lang="de">' in message.alternatives[0][0]


def test_the_email_is_in_the_inviters_language_otherwise(practice, staff, signed_in):
    italian = staff(ADMIN, language="it")

    signed_in(italian).post(
        url("pro:team-invite", practice),
        {"email": "nobody@example.test", "role": SECRETARY},
    )

    (message,) = mail.outbox
    assert '<html lang="it">' in message.alternatives[0][0]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {"email": "not-an-address", "role": SECRETARY},
            "Enter a valid email address.",
        ),
        ({"email": "x@example.test", "role": "boss"}, "Select a valid choice."),
    ],
)
def test_bad_invitation_input_is_refused_on_the_form_and_nothing_is_sent(
    practice, admin_client, data, error
):
    response = admin_client.post(url("pro:team-invite", practice), data)

    assert response.status_code == 400
    assert error in html(response)
    assert 'aria-invalid="true"' in html(response)
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_inviting_someone_who_already_holds_the_role_says_so(
    practice, admin_client, staff
):
    member = staff(SECRETARY)

    response = admin_client.post(
        url("pro:team-invite", practice), {"email": member.email, "role": SECRETARY}
    )

    assert response.status_code == 400
    assert "This person already holds this role in the team." in html(response)
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_a_refused_mail_server_leaves_the_invitation_and_says_to_send_again(
    practice, admin_client, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2

    response = admin_client.post(
        url("pro:team-invite", practice),
        {"email": "far@example.test", "role": SECRETARY},
        follow=True,
    )

    assert response.status_code == 200
    assert "the e-mail could not be sent" in html(response)
    assert Invitation.objects.filter(email="far@example.test").count() == 1


def test_send_again_makes_a_new_link_and_the_old_one_stops_working(
    practice, admin, admin_client
):
    first, old_raw = invite_member(
        actor=admin, practice_id=practice.pk, email="eve@example.test", role=SECRETARY
    )

    response = admin_client.post(
        url("pro:team-invitation-resend", practice, invitation_id=first.pk)
    )

    assert response.status_code == 303
    first.refresh_from_db()
    assert first.revoked_at is not None
    (message,) = mail.outbox
    new = Invitation.objects.get(email="eve@example.test", revoked_at__isnull=True)
    assert hash_token(token_of(message)) == new.token_digest
    assert token_of(message) != old_raw


def test_withdrawing_an_invitation_revokes_it(practice, admin, admin_client):
    invitation, _raw = invite_member(
        actor=admin, practice_id=practice.pk, email="eve@example.test", role=SECRETARY
    )

    response = admin_client.post(
        url("pro:team-invitation-withdraw", practice, invitation_id=invitation.pk),
        follow=True,
    )

    assert response.status_code == 200
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert "The invitation to eve@example.test was withdrawn." in html(response)
    assert "eve@example.test</h3>" not in html(response)


def test_changing_a_members_role(practice, admin_client, staff):
    member = staff(SECRETARY)
    membership = StaffMembership.objects.get(user=member)

    response = admin_client.post(
        url("pro:team-member-role", practice, membership_id=membership.pk),
        {f"m{membership.pk}-role": PRACTITIONER},
    )

    assert response.status_code == 303
    membership.refresh_from_db()
    assert membership.role == PRACTITIONER


def test_a_bad_role_changes_nothing(practice, admin_client, staff):
    member = staff(SECRETARY)
    membership = StaffMembership.objects.get(user=member)

    response = admin_client.post(
        url("pro:team-member-role", practice, membership_id=membership.pk),
        {f"m{membership.pk}-role": "king"},
    )

    assert response.status_code == 400
    assert "Choose a role" in html(response)
    membership.refresh_from_db()
    assert membership.role == SECRETARY


def test_removing_a_member_ends_their_role(practice, admin_client, staff):
    member = staff(SECRETARY)
    membership = StaffMembership.objects.get(user=member)

    response = admin_client.post(
        url("pro:team-member-remove", practice, membership_id=membership.pk),
        follow=True,
    )

    assert response.status_code == 200
    membership.refresh_from_db()
    assert membership.is_active is False
    assert member.email not in html(response)


def test_the_last_administrator_cannot_leave_nor_change_role(
    practice, admin, admin_client
):
    own = StaffMembership.objects.get(user=admin)
    events = AuditEvent.objects.count()

    removed = admin_client.post(
        url("pro:team-member-remove", practice, membership_id=own.pk)
    )
    changed = admin_client.post(
        url("pro:team-member-role", practice, membership_id=own.pk),
        {f"m{own.pk}-role": SECRETARY},
    )

    for response in (removed, changed):
        assert response.status_code == 400
        assert "A practice needs at least one administrator." in html(response)
        assert 'role="alert"' in html(response)
    own.refresh_from_db()
    assert (own.is_active, own.role) == (True, ADMIN)
    assert AuditEvent.objects.count() == events


def test_the_last_administrator_refusal_is_translated(practice, admin, signed_in):
    client = signed_in(admin)
    client.cookies["django_language"] = "fr"
    own = StaffMembership.objects.get(user=admin)

    response = client.post(
        url("pro:team-member-remove", practice, membership_id=own.pk),
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert response.status_code == 400
    assert "A practice needs at least one administrator." not in html(response)
    assert "administrat" in html(response)


@pytest.mark.parametrize("role", [SECRETARY, PRACTITIONER])
def test_other_roles_get_403_without_the_team(practice, admin, staff, signed_in, role):
    invite_member(
        actor=admin,
        practice_id=practice.pk,
        email="hidden@example.test",
        role=SECRETARY,
    )
    client = signed_in(staff(role))

    for response in (
        client.get(team_url(practice)),
        client.post(
            url("pro:team-invite", practice),
            {"email": "x@example.test", "role": ADMIN},
        ),
    ):
        assert response.status_code == 403
        assert "hidden@example.test" not in html(response)
        assert admin.email not in html(response)
    assert Invitation.objects.count() == 1
    assert mail.outbox == []


def test_another_practices_admin_gets_404(practice, other_practice_admin, signed_in):
    client = signed_in(other_practice_admin)

    assert client.get(team_url(practice)).status_code == 404
    assert (
        client.post(
            url("pro:team-invite", practice), {"email": "x@example.test", "role": ADMIN}
        ).status_code
        == 404
    )
    assert not Invitation.objects.exists()


def test_another_practices_member_cannot_be_removed_through_this_practice(
    practice, admin_client, other_practice_admin
):
    foreign = StaffMembership.objects.get(user=other_practice_admin)

    response = admin_client.post(
        url("pro:team-member-remove", practice, membership_id=foreign.pk)
    )

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.is_active


# ---------- the invitee's page ----------


@pytest.fixture
def invited(practice, admin):
    """An ordinary user (a patient, not staff) and a link inviting their address."""
    user = UserFactory(email="nina@example.test", first_name="Nina", language="en")
    invitation, raw = invite_member(
        actor=admin, practice_id=practice.pk, email=user.email, role=SECRETARY
    )
    return user, invitation, raw


def join(client: Client, raw: str):
    """Open the e-mail's link; the page moves the token into the session."""
    response = client.get(reverse("pro:invitation-accept"), {"token": raw})
    assert response.status_code == 302
    assert response["Location"] == reverse("pro:invitation-accept")
    return client.get(response["Location"])


def test_a_logged_in_user_who_is_not_staff_sees_the_offer_and_joins(invited, practice):
    user, invitation, raw = invited
    client = invitee_client(user)

    page = join(client, raw)

    assert page.status_code == 200
    text = html(page)
    assert "Cabinet des Lilas" in text
    assert "<strong>secretary</strong>" in text
    assert "set up two-factor authentication" in text
    assert raw not in text
    response = client.post(reverse("pro:invitation-accept"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_index")
    membership = StaffMembership.objects.get(user=user, practice=practice)
    assert (membership.role, membership.is_active) == (SECRETARY, True)
    invitation.refresh_from_db()
    assert invitation.accepted_by == user
    # Staff now: every workspace page waits for the second factor.
    blocked = client.get(reverse("pro:home"))
    assert blocked.status_code == 302
    assert blocked["Location"] == reverse("mfa_index")


def test_the_link_asks_a_logged_out_visitor_to_log_in_first(invited):
    _user, _invitation, raw = invited

    response = Client().get(reverse("pro:invitation-accept"), {"token": raw})

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("account_login")
    assert parse_qs(location.query)["next"] == [f"/pro/join/?token={raw}"]


def test_a_user_whose_email_does_not_match_is_told_and_nothing_changes(
    invited, practice
):
    _user, invitation, raw = invited
    other = UserFactory(email="someone.else@example.test", language="en")
    client = invitee_client(other)
    join(client, raw)

    response = client.post(reverse("pro:invitation-accept"))

    assert response.status_code == 400
    assert "This invitation was sent to another e-mail address." in html(response)
    assert raw not in html(response)
    assert not StaffMembership.objects.filter(user=other).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_an_expired_invitation_says_so_and_offers_no_button(invited):
    user, _invitation, raw = invited
    client = invitee_client(user)

    with time_machine.travel(timezone.now() + timedelta(days=8)):
        page = join(client, raw)
        posted = client.post(reverse("pro:invitation-accept"))

    assert page.status_code == 400
    assert "This invitation has expired." in html(page)
    assert "Join the team" not in html(page)
    assert posted.status_code == 400
    assert not StaffMembership.objects.filter(user=user).exists()


def test_a_withdrawn_invitation_says_so(invited, practice, admin):
    user, invitation, raw = invited
    revoke_invitation(actor=admin, practice_id=practice.pk, invitation_id=invitation.pk)
    client = invitee_client(user)

    page = join(client, raw)
    posted = client.post(reverse("pro:invitation-accept"))

    assert "This invitation was withdrawn by the practice." in html(page)
    assert posted.status_code == 400
    assert not StaffMembership.objects.filter(user=user).exists()


def test_a_used_link_does_not_work_twice(invited):
    user, _invitation, raw = invited
    client = invitee_client(user)
    join(client, raw)
    client.post(reverse("pro:invitation-accept"))
    other = invitee_client(UserFactory(language="en"))

    page = join(other, raw)

    assert "This invitation has already been accepted." in html(page)


def test_an_unknown_token_gets_404_without_echoing_it(invited):
    user, _invitation, _raw = invited
    client = invitee_client(user)

    page = join(client, "inv_not-a-real-token-canary")

    assert page.status_code == 404
    assert "This invitation does not exist." in html(page)
    assert "canary" not in html(page)
    assert not StaffMembership.objects.filter(user=user).exists()


def test_a_staff_member_of_another_practice_joins_a_second_one(
    invited, practice, other_practice_admin, signed_in, admin
):
    _invitation, raw = invite_member(
        actor=admin,
        practice_id=practice.pk,
        email=other_practice_admin.email,
        role=PRACTITIONER,
    )
    client = signed_in(other_practice_admin)

    assert join(client, raw).status_code == 200
    response = client.post(reverse("pro:invitation-accept"))

    assert response.status_code == 302
    assert response["Location"] == reverse("pro:home")
    assert StaffMembership.objects.filter(
        user=other_practice_admin, practice=practice, role=PRACTITIONER
    ).exists()


def test_the_token_never_reaches_the_logs(invited, caplog):
    user, _invitation, raw = invited
    client = invitee_client(user)
    caplog.set_level("DEBUG")

    join(client, raw + "x")  # unknown: a 404, logged
    client.post(reverse("pro:invitation-accept"))  # refused: a 400, logged
    Client().get(reverse("pro:invitation-accept"), {"token": raw})  # to the login page

    assert any("/pro/join/" in record.getMessage() for record in caplog.records)
    assert not [r for r in caplog.records if raw in r.getMessage()]
