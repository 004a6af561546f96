"""The reminder switches: per practice (e-mail, SMS) and per motive, their gate and re-planning."""

import pytest
from django.conf import settings
from django.urls import reverse

from carnet.accounts.errors import MfaRequired
from carnet.accounts.models import StaffMembership
from carnet.directory.models import Practice
from carnet.directory.tests.factories import PracticeFactory
from carnet.notifications import outbox
from carnet.pro import reminder_settings
from carnet.scheduling.errors import MotiveNotFound, SettingsForbidden
from carnet.scheduling.models import VisitMotive
from carnet.scheduling.tests.factories import AgendaFactory, MotiveFactory

pytestmark = pytest.mark.django_db

PRACTITIONER = StaffMembership.Role.PRACTITIONER
SECRETARY = StaffMembership.Role.SECRETARY
ADMIN = StaffMembership.Role.PRACTICE_ADMIN

MOTIVE = {
    "name": "Suivi",
    "duration_minutes": "20",
    "channel": "in_person",
    "open_to_new_patients": "on",
    "min_notice_minutes": "60",
    "horizon_days": "90",
    "cancellation_cutoff_hours": "24",
    "price": "",
    "currency": "EUR",
    "colour": "#3d7eaa",
}


def html(response) -> str:
    return response.content.decode()


def switches(practice) -> tuple[bool, bool]:
    practice.refresh_from_db()
    return practice.email_reminders_enabled, practice.sms_reminders_enabled


@pytest.fixture
def replans(monkeypatch):
    """The outbox's re-plan calls, recorded instead of run: [(name, kwargs), ...]."""
    calls: list[tuple[str, dict]] = []
    for name in ("replan_for_practice", "replan_for_motive", "replan_for_user"):

        def record(*, _name=name, **kwargs):
            calls.append((_name, kwargs))

        monkeypatch.setattr(outbox, name, record)
    return calls


@pytest.fixture
def client_for(signed_in):
    def make(user):
        client = signed_in(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return make


@pytest.fixture
def practitioner(staff):
    return staff(PRACTITIONER)


@pytest.fixture
def client(client_for, practitioner):
    return client_for(practitioner)


def reminders_url(practice) -> str:
    return reverse("pro:settings-reminders", kwargs={"practice_id": practice.pk})


def settings_url(practice) -> str:
    return reverse("pro:settings", kwargs={"practice_id": practice.pk})


# ---------- defaults ----------


def test_practices_and_motives_send_reminders_by_default():
    practice = PracticeFactory()
    motive = MotiveFactory(agenda=AgendaFactory(practice=practice))

    practice.refresh_from_db()
    motive.refresh_from_db()
    assert (practice.email_reminders_enabled, practice.sms_reminders_enabled) == (
        True,
        True,
    )
    assert motive.reminders_enabled is True


# ---------- the practice's switches ----------


def test_the_settings_page_shows_both_switches_on(client, agenda):
    body = html(client.get(settings_url(agenda.practice)))

    assert 'action="' + reminders_url(agenda.practice) + '"' in body
    assert 'id="id_email_reminders_enabled" checked' in body
    assert 'id="id_sms_reminders_enabled" checked' in body
    assert "Reminders by SMS" in body


def test_turning_sms_reminders_off_saves_and_replans(client, agenda, replans):
    practice = agenda.practice

    response = client.post(
        reminders_url(practice), {"email_reminders_enabled": "on"}, follow=True
    )

    assert response.redirect_chain[-1][0] == settings_url(practice)
    assert "The reminder settings are saved." in html(response)
    assert switches(practice) == (True, False)
    assert [name for name, _kwargs in replans] == ["replan_for_practice"]
    kwargs = replans[0][1]
    assert kwargs["practice_id"] == practice.pk
    assert kwargs["now"].tzinfo is not None
    page = html(client.get(settings_url(practice)))
    assert 'id="id_sms_reminders_enabled" checked' not in page


def test_saving_the_same_switches_replans_nothing(client, agenda, replans):
    response = client.post(
        reminders_url(agenda.practice),
        {"email_reminders_enabled": "on", "sms_reminders_enabled": "on"},
    )

    assert response.status_code == 302
    assert switches(agenda.practice) == (True, True)
    assert replans == []


def test_turning_a_switch_back_on_replans_again(client, agenda, replans):
    Practice.objects.filter(pk=agenda.practice_id).update(email_reminders_enabled=False)

    client.post(
        reminders_url(agenda.practice),
        {"email_reminders_enabled": "on", "sms_reminders_enabled": "on"},
    )

    assert switches(agenda.practice) == (True, True)
    assert [name for name, _kwargs in replans] == ["replan_for_practice"]


@pytest.mark.parametrize("value", ["maybe", "2", "<script>alert(1)</script>"])
def test_a_nonsense_switch_is_refused_and_changes_nothing(
    client, agenda, replans, value
):
    response = client.post(
        reminders_url(agenda.practice),
        {"email_reminders_enabled": "", "sms_reminders_enabled": value},
    )

    assert response.status_code == 400
    body = html(response)
    assert 'id="id_sms_reminders_enabled_error"' in body
    assert "Tick the box or leave it empty." in body
    assert "<script>alert(1)</script>" not in body
    assert switches(agenda.practice) == (True, True)
    assert replans == []


def test_the_reminders_form_only_answers_a_post(client, agenda):
    assert client.get(reminders_url(agenda.practice)).status_code == 405


def test_a_secretary_may_not_change_the_switches(client_for, staff, agenda, replans):
    secretary = client_for(staff(SECRETARY))

    assert secretary.get(settings_url(agenda.practice)).status_code == 403
    response = secretary.post(reminders_url(agenda.practice), {})

    assert response.status_code == 403
    assert switches(agenda.practice) == (True, True)
    assert replans == []


def test_the_practice_administrator_may_change_the_switches(
    client_for, staff, agenda, replans
):
    admin = client_for(staff(ADMIN))

    response = admin.post(reminders_url(agenda.practice), {})

    assert response.status_code == 302
    assert switches(agenda.practice) == (False, False)


def test_another_practice_cannot_change_the_switches(
    client_for, other_practice_admin, agenda, replans
):
    response = client_for(other_practice_admin).post(reminders_url(agenda.practice), {})

    assert response.status_code == 404
    assert agenda.practice.name not in html(response)
    assert switches(agenda.practice) == (True, True)
    assert replans == []


def test_the_service_refuses_a_secretary_and_a_missing_second_factor(
    staff, agenda, replans
):
    secretary = staff(SECRETARY)
    without_mfa = staff(PRACTITIONER, mfa=False)

    with pytest.raises(SettingsForbidden):
        reminder_settings.update_practice_reminders(
            actor=secretary,
            practice_id=agenda.practice_id,
            email_reminders_enabled=False,
            sms_reminders_enabled=False,
            now=agenda.created_at,
        )
    with pytest.raises(MfaRequired):
        reminder_settings.update_practice_reminders(
            actor=without_mfa,
            practice_id=agenda.practice_id,
            email_reminders_enabled=False,
            sms_reminders_enabled=False,
            now=agenda.created_at,
        )

    assert switches(agenda.practice) == (True, True)
    assert replans == []


def test_a_failed_replan_saves_no_switch(practitioner, agenda, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(outbox, "replan_for_practice", broken)

    with pytest.raises(RuntimeError, match="outbox down"):
        reminder_settings.update_practice_reminders(
            actor=practitioner,
            practice_id=agenda.practice_id,
            email_reminders_enabled=False,
            sms_reminders_enabled=True,
            now=agenda.created_at,
        )

    assert switches(agenda.practice) == (True, True)


# ---------- the motive's switch ----------


def motive_edit_url(motive) -> str:
    return reverse("pro:motive-edit", kwargs={"motive_id": motive.pk})


def test_the_motive_form_shows_the_switch_on(client, motive):
    body = html(client.get(motive_edit_url(motive)))

    assert 'name="reminders_enabled"' in body
    assert 'id="id_reminders_enabled" checked' in body
    assert "Send reminders for this motive" in body


def test_turning_a_motives_reminders_off_saves_and_replans(client, motive, replans):
    response = client.post(motive_edit_url(motive), MOTIVE)

    assert response.status_code == 302
    motive.refresh_from_db()
    assert motive.reminders_enabled is False
    assert motive.name == "Suivi"
    assert [name for name, _kwargs in replans] == ["replan_for_motive"]
    assert replans[0][1]["motive_id"] == motive.pk
    assert replans[0][1]["now"].tzinfo is not None
    listing = html(client.get(response["Location"]))
    assert "Reminders" in listing


def test_saving_a_motive_with_its_switch_unchanged_replans_nothing(
    client, motive, replans
):
    response = client.post(
        motive_edit_url(motive), {**MOTIVE, "reminders_enabled": "on"}
    )

    assert response.status_code == 302
    motive.refresh_from_db()
    assert (motive.name, motive.reminders_enabled) == ("Suivi", True)
    assert replans == []


def test_turning_a_motives_reminders_back_on_replans(client, motive, replans):
    VisitMotive.objects.filter(pk=motive.pk).update(reminders_enabled=False)

    client.post(motive_edit_url(motive), {**MOTIVE, "reminders_enabled": "on"})

    motive.refresh_from_db()
    assert motive.reminders_enabled is True
    assert [name for name, _kwargs in replans] == ["replan_for_motive"]


@pytest.mark.parametrize(
    ("fields", "error_id"),
    [
        ({"reminders_enabled": "sometimes"}, "id_reminders_enabled_error"),
        # A refusal of the motive's other fields leaves the switch alone too.
        (
            {"reminders_enabled": "", "duration_minutes": "7"},
            "id_duration_minutes_error",
        ),
    ],
)
def test_bad_motive_input_changes_no_switch(client, motive, replans, fields, error_id):
    before = VisitMotive.objects.filter(pk=motive.pk).values().get()

    response = client.post(motive_edit_url(motive), {**MOTIVE, **fields})

    assert response.status_code == 400
    assert f'id="{error_id}"' in html(response)
    assert VisitMotive.objects.filter(pk=motive.pk).values().get() == before
    assert replans == []


def test_a_new_motive_can_be_created_without_reminders(client, agenda, replans):
    response = client.post(
        reverse("pro:motive-create", kwargs={"agenda_id": agenda.pk}),
        {**MOTIVE, "name": "Résultats"},
    )

    assert response.status_code == 302
    created = VisitMotive.objects.get(agenda=agenda, name="Résultats")
    assert created.reminders_enabled is False
    assert replans == []  # no appointment yet: nothing to re-plan


def test_a_new_motive_sends_reminders_when_ticked(client, agenda):
    client.post(
        reverse("pro:motive-create", kwargs={"agenda_id": agenda.pk}),
        {**MOTIVE, "name": "Résultats", "reminders_enabled": "on"},
    )

    assert VisitMotive.objects.get(name="Résultats").reminders_enabled is True


def test_a_secretary_may_not_change_a_motives_switch(
    client_for, staff, motive, replans
):
    secretary = client_for(staff(SECRETARY))

    response = secretary.post(motive_edit_url(motive), MOTIVE)

    assert response.status_code == 403
    motive.refresh_from_db()
    assert motive.reminders_enabled is True
    assert replans == []


def test_another_practice_cannot_change_a_motives_switch(
    other_practice_admin, motive, replans
):
    with pytest.raises(MotiveNotFound):
        reminder_settings.set_motive_reminders(
            actor=other_practice_admin,
            motive_id=motive.pk,
            reminders_enabled=False,
            now=motive.created_at,
        )

    motive.refresh_from_db()
    assert motive.reminders_enabled is True
    assert replans == []
