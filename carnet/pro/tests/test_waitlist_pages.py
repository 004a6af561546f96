"""The practice's waiting list under /pro/: live requests per agenda, in offer order."""

from datetime import date

import pytest
from django.urls import reverse

from carnet.accounts import roles
from carnet.accounts.models import StaffMembership
from carnet.accounts.roles import Permission
from carnet.accounts.tests.factories import PatientFactory
from carnet.audit.models import AuditEvent
from carnet.booking.models import WaitingListEntry
from carnet.booking.waitlist import join_waiting_list, leave_waiting_list
from carnet.scheduling.tests.factories import AgendaFactory, MotiveFactory

pytestmark = pytest.mark.django_db
Role = StaffMembership.Role


def url(practice, **query) -> str:
    base = reverse("pro:waiting-list", kwargs={"practice_id": practice.pk})
    return base + (
        "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    )


def wait(patient, motive, earliest=date(2026, 3, 9), latest=date(2026, 3, 27)):
    return join_waiting_list(
        user=patient.account,
        patient_id=None,
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        earliest_on=earliest,
        latest_on=latest,
    )


@pytest.fixture
def second_agenda(agenda):
    """Another practitioner's agenda in the same practice."""
    return AgendaFactory(practice=agenda.practice, location=agenda.location)


@pytest.fixture
def waiting(frozen_now, agenda, second_agenda, anne, bruno):
    """Bruno asked first, then Anne, on the agenda; Chloé on the second agenda."""
    consultation = MotiveFactory(agenda=agenda, name="Consultation")
    control = MotiveFactory(agenda=agenda, name="Contrôle")
    chloe = PatientFactory(first_name="Chloé", last_name="Marchand")
    first = wait(bruno, consultation)
    second = wait(anne, control)
    third = wait(chloe, MotiveFactory(agenda=second_agenda, name="Bilan"))
    return first, second, third


def test_the_page_keeps_its_address():
    assert reverse("pro:waiting-list", kwargs={"practice_id": 7}) == (
        "/pro/practices/7/waiting-list/"
    )


@pytest.mark.parametrize(
    "role", [Role.SECRETARY, Role.PRACTITIONER, Role.PRACTICE_ADMIN]
)
def test_the_team_sees_each_agendas_list_in_offer_order(
    waiting, agenda, second_agenda, staff, signed_in, role
):
    client = signed_in(staff(role))

    response = client.get(url(agenda.practice))

    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Bruno Garnier") < page.index("Anne Lefebvre")
    assert page.index(str(agenda)) < page.index("Bruno Garnier")
    assert page.index(str(second_agenda)) < page.index("Chloé Marchand")
    assert "Consultation" in page
    assert "Contrôle" in page
    assert "06 12 34 56 78" in page  # Anne's phone, for roles that see contact data
    assert "lundi 9 mars 2026" in page  # the range, in the agenda's zone and language


def test_the_list_can_be_filtered_by_agenda(
    waiting, agenda, second_agenda, staff, signed_in
):
    client = signed_in(staff(Role.SECRETARY))

    response = client.get(url(agenda.practice, agenda=second_agenda.pk))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Chloé Marchand" in page
    assert "Bruno Garnier" not in page
    assert "Anne Lefebvre" not in page


@pytest.mark.parametrize("value", ["abc", "999999"])
def test_an_unknown_agenda_filter_is_refused_on_the_form(
    waiting, agenda, staff, signed_in, value
):
    client = signed_in(staff(Role.SECRETARY))

    response = client.get(url(agenda.practice, agenda=value))

    assert response.status_code == 400
    assert 'id="id_agenda_error"' in response.content.decode()


def test_an_agenda_of_another_practice_is_refused_and_not_shown(
    waiting, agenda, staff, signed_in, other_practice_admin
):
    foreign = AgendaFactory()
    patient = PatientFactory(first_name="Zoé", last_name="Étrangère")
    wait(patient, MotiveFactory(agenda=foreign))
    client = signed_in(staff(Role.SECRETARY))

    response = client.get(url(agenda.practice, agenda=foreign.pk))

    assert response.status_code == 400
    assert "Étrangère" not in response.content.decode()


def test_cancelled_requests_are_not_listed(waiting, agenda, anne, staff, signed_in):
    leave_waiting_list(user=anne.account, entry_id=waiting[1].pk)
    client = signed_in(staff(Role.SECRETARY))

    page = client.get(url(agenda.practice)).content.decode()

    assert "Anne Lefebvre" not in page
    assert "Bruno Garnier" in page


def test_each_patient_listed_is_one_read_in_the_audit_trail(
    waiting, agenda, staff, signed_in
):
    client = signed_in(staff(Role.SECRETARY))

    client.get(url(agenda.practice))

    reads = AuditEvent.objects.filter(action="read", resource__endswith=":waiting-list")
    assert reads.count() == 3
    assert len({e.patient_ref for e in reads}) == 3


def test_without_the_contact_right_no_phone_is_shown(
    waiting, agenda, staff, signed_in, monkeypatch
):
    monkeypatch.setitem(
        roles.ROLE_PERMISSIONS,
        Role.SECRETARY,
        roles.ROLE_PERMISSIONS[Role.SECRETARY] - {Permission.VIEW_CONTACT_DETAILS},
    )
    client = signed_in(staff(Role.SECRETARY))

    page = client.get(url(agenda.practice)).content.decode()

    assert "Anne Lefebvre" in page
    assert "06 12 34 56 78" not in page
    assert "tel:" not in page


def test_a_role_without_the_waiting_list_right_is_refused_without_data(
    waiting, agenda, staff, signed_in, monkeypatch
):
    monkeypatch.setitem(
        roles.ROLE_PERMISSIONS,
        Role.SECRETARY,
        roles.ROLE_PERMISSIONS[Role.SECRETARY] - {Permission.VIEW_WAITING_LIST},
    )
    client = signed_in(staff(Role.SECRETARY))

    response = client.get(url(agenda.practice))

    assert response.status_code == 403
    assert "Lefebvre" not in response.content.decode()
    assert not AuditEvent.objects.filter(resource__endswith=":waiting-list").exists()


def test_staff_of_another_practice_get_not_found(
    waiting, agenda, other_practice_admin, signed_in
):
    client = signed_in(other_practice_admin)

    response = client.get(url(agenda.practice))

    assert response.status_code == 404
    assert "Lefebvre" not in response.content.decode()
    assert not AuditEvent.objects.filter(resource__endswith=":waiting-list").exists()


def test_a_patient_is_not_staff(waiting, agenda, anne, client):
    client.force_login(anne.account)

    response = client.get(url(agenda.practice))

    assert response.status_code == 404
    assert "Garnier" not in response.content.decode()


def test_the_page_needs_a_login(waiting, agenda, client):
    response = client.get(url(agenda.practice))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_list_is_read_only(waiting, agenda, staff, signed_in):
    client = signed_in(staff(Role.SECRETARY))

    response = client.post(url(agenda.practice))

    assert response.status_code == 405
    assert WaitingListEntry.objects.filter(status="active").count() == 3
