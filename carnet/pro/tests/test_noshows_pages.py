"""The practice's no-show page under /pro/: policy, current strikes, excuses to decide."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse

from carnet.accounts.models import StaffMembership
from carnet.audit.models import AuditEvent
from carnet.booking.models import Appointment, NoShowPolicy, Strike
from carnet.booking.policy import is_blocked, send_excuse
from carnet.booking.staff import mark_status
from carnet.pro.tests.conftest import paris

pytestmark = pytest.mark.django_db
Role = StaffMembership.Role
EXCUSE = "canary-excuse My child was in hospital"


def missed(actor, motive, patient, day: int) -> Strike:
    """A visit on `day` February 2026 at 09:00 that staff mark as a no-show."""
    appointment = Appointment.objects.create(
        agenda=motive.agenda,
        motive=motive,
        patient=patient,
        starts_at=paris(2026, 2, day, 9, 0),
        ends_at=paris(2026, 2, day, 9, 20),
    )
    mark_status(actor=actor, appointment_id=appointment.pk, status="noshow")
    return Strike.objects.get(appointment=appointment)


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def url(practice) -> str:
    return reverse("pro:no-shows", kwargs={"practice_id": practice.pk})


def decide_url(practice, strike) -> str:
    return reverse(
        "pro:no-show-decide",
        kwargs={"practice_id": practice.pk, "strike_id": strike.pk},
    )


@pytest.fixture
def practitioner(staff):
    return staff(Role.PRACTITIONER, first_name="Paul", last_name="Durand")


@pytest.fixture
def strikes(frozen_now, practitioner, motive, anne, bruno):
    """Anne: three strikes (blocked), the last with an excuse sent; Bruno: one strike."""
    anne_strikes = [missed(practitioner, motive, anne, day) for day in (3, 10, 17)]
    send_excuse(user=anne.account, strike_id=anne_strikes[-1].pk, text=EXCUSE)
    bruno_strike = missed(practitioner, motive, bruno, 24)
    return anne_strikes, bruno_strike


def test_the_page_keeps_its_address():
    assert reverse("pro:no-shows", kwargs={"practice_id": 7}) == (
        "/pro/practices/7/no-shows/"
    )
    assert reverse("pro:no-show-decide", kwargs={"practice_id": 7, "strike_id": 3}) == (
        "/pro/practices/7/no-shows/3/decision/"
    )


def test_the_practitioner_sees_the_policy_the_strikes_and_the_excuses(
    strikes, agenda, practitioner, signed_in, anne, bruno
):
    client = english(signed_in(practitioner))
    reads = AuditEvent.objects.filter(
        action="read", resource=f"practice:{agenda.practice.pk}:no-shows"
    )
    assert reads.count() == 0

    response = client.get(url(agenda.practice))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="strikes_to_block" value="3"' in page
    assert 'name="strike_expiry_days" value="365"' in page
    assert "Anne Lefebvre" in page
    assert "Bruno Garnier" in page
    assert EXCUSE in page
    assert page.index("Anne Lefebvre") < page.index("Bruno Garnier")  # blocked first
    assert (
        reverse(
            "pro:no-show-decide",
            kwargs={"practice_id": agenda.practice.pk, "strike_id": strikes[0][-1].pk},
        )
        in page
    )
    assert reads.count() == 2  # one read event per patient shown


def test_the_practice_admin_may_use_the_page(strikes, agenda, staff, signed_in):
    client = signed_in(staff(Role.PRACTICE_ADMIN))

    assert client.get(url(agenda.practice)).status_code == 200


def test_a_secretary_is_refused_without_patient_data(strikes, agenda, staff, signed_in):
    client = signed_in(staff(Role.SECRETARY))
    anne_strike = strikes[0][-1]
    before = AuditEvent.objects.count()

    responses = [
        client.get(url(agenda.practice)),
        client.post(
            url(agenda.practice),
            {"enabled": "on", "strikes_to_block": "5", "strike_expiry_days": "30"},
        ),
        client.post(decide_url(agenda.practice, anne_strike), {"decision": "accept"}),
    ]

    for response in responses:
        assert response.status_code == 403
        body = response.content.decode()
        assert "Anne" not in body
        assert "Lefebvre" not in body
        assert "canary" not in body
    assert not NoShowPolicy.objects.exists()
    anne_strike.refresh_from_db()
    assert anne_strike.excuse_decided_at is None
    assert AuditEvent.objects.count() == before


def test_staff_of_another_practice_get_not_found(
    strikes, agenda, other_practice_admin, signed_in
):
    client = signed_in(other_practice_admin)
    anne_strike = strikes[0][-1]

    responses = [
        client.get(url(agenda.practice)),
        client.post(
            url(agenda.practice),
            {"enabled": "on", "strikes_to_block": "5", "strike_expiry_days": "30"},
        ),
        client.post(decide_url(agenda.practice, anne_strike), {"decision": "accept"}),
    ]

    for response in responses:
        assert response.status_code == 404
        assert "Lefebvre" not in response.content.decode()
        assert "canary" not in response.content.decode()
    anne_strike.refresh_from_db()
    assert anne_strike.excuse_decided_at is None


def test_a_strike_of_another_practice_is_not_found_through_ones_own(
    strikes, agenda, practitioner, signed_in, staff, other_practice_admin
):
    """Practice B's admin names practice B in the URL but A's strike: not found, unchanged."""
    other_practice = StaffMembership.objects.get(user=other_practice_admin).practice
    client = signed_in(other_practice_admin)
    anne_strike = strikes[0][-1]

    response = client.post(
        decide_url(other_practice, anne_strike), {"decision": "accept"}
    )

    assert response.status_code == 404
    anne_strike.refresh_from_db()
    assert anne_strike.excused_at is None


def test_the_policy_is_saved_for_this_practice_only(
    frozen_now, agenda, practitioner, signed_in
):
    client = signed_in(practitioner)

    response = client.post(
        url(agenda.practice),
        {"enabled": "on", "strikes_to_block": "2", "strike_expiry_days": "90"},
    )

    assert response.status_code == 302
    assert response["Location"] == url(agenda.practice)
    policy = NoShowPolicy.objects.get()
    assert policy.practice == agenda.practice
    assert (policy.enabled, policy.strikes_to_block, policy.strike_expiry_days) == (
        True,
        2,
        90,
    )
    page = client.get(url(agenda.practice)).content.decode()
    assert 'name="strikes_to_block" value="2"' in page


def test_the_policy_can_be_turned_off(frozen_now, agenda, practitioner, signed_in):
    client = signed_in(practitioner)

    client.post(
        url(agenda.practice), {"strikes_to_block": "3", "strike_expiry_days": "365"}
    )

    assert NoShowPolicy.objects.get().enabled is False


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"strikes_to_block": "0", "strike_expiry_days": "30"}, "strikes_to_block"),
        ({"strikes_to_block": "51", "strike_expiry_days": "30"}, "strikes_to_block"),
        ({"strikes_to_block": "3", "strike_expiry_days": "0"}, "strike_expiry_days"),
        ({"strikes_to_block": "3", "strike_expiry_days": "x"}, "strike_expiry_days"),
        ({"strikes_to_block": "", "strike_expiry_days": "30"}, "strikes_to_block"),
    ],
)
def test_bad_policy_input_is_refused_on_the_form_and_changes_nothing(
    frozen_now, agenda, practitioner, signed_in, data, field
):
    client = signed_in(practitioner)

    response = client.post(url(agenda.practice), {"enabled": "on", **data})

    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page
    assert 'aria-invalid="true"' in page
    assert not NoShowPolicy.objects.exists()


def test_accepting_an_excuse_removes_the_strike_and_unblocks(
    strikes, agenda, practitioner, signed_in, anne
):
    anne_strike = strikes[0][-1]
    practice = agenda.practice
    now = anne_strike.created_at
    assert is_blocked(patient=anne, practice_id=practice.pk, now=now + timedelta(1))
    client = signed_in(practitioner)

    response = client.post(decide_url(practice, anne_strike), {"decision": "accept"})

    assert response.status_code == 302
    assert response["Location"] == url(practice)
    anne_strike.refresh_from_db()
    assert anne_strike.excused_at is not None
    assert anne_strike.excuse_decided_by == practitioner
    assert not is_blocked(patient=anne, practice_id=practice.pk, now=now)
    assert AuditEvent.objects.filter(
        action="update", resource=f"strike:{anne_strike.pk}"
    ).exists()
    page = client.get(url(practice)).content.decode()
    assert "canary-excuse" not in page  # no longer pending


def test_refusing_an_excuse_keeps_the_strike(
    strikes, agenda, practitioner, signed_in, anne
):
    anne_strike = strikes[0][-1]
    client = signed_in(practitioner)

    response = client.post(
        decide_url(agenda.practice, anne_strike), {"decision": "refuse"}
    )

    assert response.status_code == 302
    anne_strike.refresh_from_db()
    assert anne_strike.excuse_decided_at is not None
    assert anne_strike.excused_at is None
    assert is_blocked(
        patient=anne, practice_id=agenda.practice.pk, now=anne_strike.created_at
    )


def test_a_strike_without_excuse_can_be_forgiven_but_not_refused(
    strikes, agenda, practitioner, signed_in
):
    bruno_strike = strikes[1]
    client = english(signed_in(practitioner))

    refused = client.post(
        decide_url(agenda.practice, bruno_strike), {"decision": "refuse"}
    )
    bruno_strike.refresh_from_db()
    assert refused.status_code == 400
    assert "The patient has not sent an excuse" in refused.content.decode()
    assert bruno_strike.excuse_decided_at is None

    forgiven = client.post(
        decide_url(agenda.practice, bruno_strike), {"decision": "accept"}
    )

    assert forgiven.status_code == 302
    bruno_strike.refresh_from_db()
    assert bruno_strike.excused_at is not None


@pytest.mark.parametrize("decision", ["", "maybe"])
def test_a_decision_must_be_accept_or_refuse(
    strikes, agenda, practitioner, signed_in, decision
):
    anne_strike = strikes[0][-1]
    client = english(signed_in(practitioner))

    response = client.post(
        decide_url(agenda.practice, anne_strike), {"decision": decision}
    )

    assert response.status_code == 400
    assert "Choose whether to accept or refuse" in response.content.decode()
    anne_strike.refresh_from_db()
    assert anne_strike.excuse_decided_at is None


def test_deciding_twice_is_refused_with_a_message(
    strikes, agenda, practitioner, signed_in
):
    anne_strike = strikes[0][-1]
    client = english(signed_in(practitioner))
    client.post(decide_url(agenda.practice, anne_strike), {"decision": "refuse"})

    response = client.post(
        decide_url(agenda.practice, anne_strike), {"decision": "accept"}
    )

    assert response.status_code == 400
    assert "A decision was already made" in response.content.decode()
    anne_strike.refresh_from_db()
    assert anne_strike.excused_at is None


def test_changes_need_a_post(strikes, agenda, practitioner, signed_in):
    client = signed_in(practitioner)

    response = client.get(decide_url(agenda.practice, strikes[1]))

    assert response.status_code == 405
