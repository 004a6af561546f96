"""Booking by phone from the agenda: find the caller (or register them), then book."""

import re
from datetime import date

import pytest
from django.conf import settings

from carnet.accounts import roles, staff_patients
from carnet.accounts.models import Patient, StaffMembership
from carnet.accounts.roles import Permission
from carnet.accounts.selectors import patient_audit_ref
from carnet.audit.models import AuditEvent
from carnet.booking.models import Appointment
from carnet.pro.tests.conftest import paris
from carnet.pro.views.agenda_booking import patient_token
from carnet.scheduling.tests.factories import AgendaFactory, MotiveFactory
from carnet.vault.services import blind_index

pytestmark = pytest.mark.django_db
SECRETARY = StaffMembership.Role.SECRETARY


def book_url(agenda) -> str:
    return f"/pro/practices/{agenda.practice_id}/agenda/book/"


def new_url(agenda) -> str:
    return f"/pro/practices/{agenda.practice_id}/agenda/patients/new/"


def body(response) -> str:
    return response.content.decode()


@pytest.fixture
def desk(staff, signed_in):
    user = staff(SECRETARY)
    client = signed_in(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.user = user
    return client


@pytest.fixture
def consult(agenda):
    return MotiveFactory(agenda=agenda, name="Consultation", duration_minutes=20)


@pytest.fixture
def anne_known(frozen_now, agenda, anne, consult, visit):
    """Anne came before: she is one of the practice's patients (indexes as services write them)."""
    anne.phone_index = blind_index(kind="phone", value=anne.phone)
    anne.email_index = blind_index(kind="email", value=anne.email)
    anne.save()
    visit(agenda, anne, paris(2026, 2, 10, 9, 0), motive=consult)
    return anne


def test_a_free_cell_opens_the_form_at_its_time(frozen_now, agenda, consult, desk):
    response = desk.get(
        book_url(agenda), {"agenda": agenda.pk, "starts_at": "2026-03-03T08:00:00Z"}
    )

    page = body(response)
    assert response.status_code == 200
    assert 'name="date" value="2026-03-03"' in page
    assert 'name="time" value="09:00"' in page  # 08:00 UTC is 09:00 in Paris
    assert f'<option value="{consult.pk}" selected>' in page
    assert 'for="id_find-phone"' in page  # every field labelled


def test_finding_a_caller_by_phone_lists_them_and_records_the_lookup(
    anne_known, agenda, consult, desk
):
    response = desk.post(
        book_url(agenda),
        {"action": "search", "find-phone": "06 12 34 56 78", "motive": consult.pk},
    )

    page = body(response)
    assert response.status_code == 200
    assert "Anne Lefebvre" in page
    assert "1 patient found." in page
    assert "This field is required" not in page  # a search judges no booking field
    assert re.search(
        r'<input type="radio" name="patient" value="[^"]+"[^>]* checked', page
    )
    event = AuditEvent.objects.filter(
        patient_ref=patient_audit_ref(anne_known.pk)
    ).last()
    assert event.action == "read"
    assert event.resource == f"practice:{agenda.practice_id}:patient-lookup:phone"
    assert "0612345678" not in event.resource
    assert "+33" not in event.resource
    assert Appointment.objects.count() == 1  # nothing booked by a search


def test_a_name_finds_only_the_practices_own_patients(anne_known, bruno, agenda, desk):
    found = body(
        desk.post(book_url(agenda), {"action": "search", "find-name": "lefeb"})
    )
    stranger = body(
        desk.post(book_url(agenda), {"action": "search", "find-name": "Garnier"})
    )

    assert "Anne Lefebvre" in found
    assert "Bruno Garnier" not in stranger
    assert "0 patients found." in stranger
    # The empty search is recorded too, without a patient.
    assert AuditEvent.objects.filter(
        resource=f"practice:{agenda.practice_id}:patient-lookup:name", patient_ref=""
    ).exists()


def test_a_date_of_birth_finds_a_patient_through_its_blind_index(
    anne_known, agenda, desk
):
    anne_known.birth_date = date(1980, 5, 17)
    anne_known.save()
    staff_patients.refresh_birth_date_index(patient=anne_known)

    found = body(
        desk.post(
            book_url(agenda), {"action": "search", "find-birth_date": "1980-05-17"}
        )
    )
    other = body(
        desk.post(
            book_url(agenda), {"action": "search", "find-birth_date": "1980-05-18"}
        )
    )

    assert "Anne Lefebvre, born 17/05/1980" in found
    assert "Anne Lefebvre" not in other


def test_an_empty_or_unreadable_search_says_what_to_do(agenda, desk):
    empty = body(desk.post(book_url(agenda), {"action": "search"}))
    bad = body(desk.post(book_url(agenda), {"action": "search", "find-phone": "abc"}))

    assert "Enter a name, a phone number" in empty
    assert 'role="alert"' in bad
    assert "phone number is not valid" in bad


def test_booking_the_found_patient_creates_a_staff_appointment(
    anne_known, agenda, consult, desk
):
    token = patient_token(practice_id=agenda.practice_id, patient_id=anne_known.pk)

    response = desk.post(
        book_url(agenda),
        {
            "action": "book",
            "patient": token,
            "motive": consult.pk,
            "date": "2026-03-03",
            "time": "10:00",
            "reason": "Toux",
        },
    )

    assert response.status_code == 303
    assert response["Location"].endswith("?date=2026-03-03")
    booked = Appointment.objects.get(starts_at=paris(2026, 3, 3, 10, 0))
    assert booked.patient == anne_known
    assert booked.booked_by_kind == Appointment.Actor.STAFF
    assert booked.booked_by_id == desk.user.pk
    assert not booked.is_overbooked
    assert booked.reason == "Toux"
    assert AuditEvent.objects.filter(
        action="create", resource=f"appointment:{booked.pk}"
    ).exists()


def test_a_taken_time_is_refused_unless_overbooked_deliberately(
    anne_known, bruno, agenda, consult, desk, visit
):
    visit(agenda, bruno, paris(2026, 3, 3, 10, 0), motive=consult)
    token = patient_token(practice_id=agenda.practice_id, patient_id=anne_known.pk)
    data = {
        "action": "book",
        "patient": token,
        "motive": consult.pk,
        "date": "2026-03-03",
        "time": "10:00",
    }

    refused = desk.post(book_url(agenda), data)

    assert refused.status_code == 200
    assert 'role="alert"' in body(refused)
    assert "Tick “Overbook”" in body(refused)
    assert (
        Appointment.objects.filter(patient=anne_known).count() == 1
    )  # the old one only

    booked = desk.post(book_url(agenda), {**data, "overbook": "on"})

    assert booked.status_code == 303
    overbooked = Appointment.objects.get(
        patient=anne_known, starts_at=paris(2026, 3, 3, 10, 0)
    )
    assert overbooked.is_overbooked
    page = body(desk.get(booked["Location"]))
    assert "agenda-appt--overbooked" in page


def test_outside_opening_hours_is_refused_with_a_translated_message(
    anne_known, agenda, consult, staff, signed_in
):
    client = signed_in(staff(SECRETARY))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    token = patient_token(practice_id=agenda.practice_id, patient_id=anne_known.pk)

    response = client.post(
        book_url(agenda),
        {
            "action": "book",
            "patient": token,
            "motive": consult.pk,
            "date": "2026-03-03",
            "time": "20:00",
            "overbook": "on",
        },
    )

    assert response.status_code == 200
    assert "ne propose pas ce motif de consultation à cet horaire" in body(response)
    assert Appointment.objects.count() == 1


def test_a_patient_id_that_no_lookup_returned_cannot_be_booked(
    frozen_now, bruno, agenda, consult, desk
):
    elsewhere = AgendaFactory()
    data = {
        "action": "book",
        "motive": consult.pk,
        "date": "2026-03-03",
        "time": "10:00",
    }

    forged = desk.post(book_url(agenda), {**data, "patient": str(bruno.pk)})
    foreign = desk.post(
        book_url(agenda),
        {
            **data,
            "patient": patient_token(
                practice_id=elsewhere.practice_id, patient_id=bruno.pk
            ),
        },
    )

    for response in (forged, foreign):
        assert response.status_code == 200
        assert "Bruno" not in body(response)
    assert not Appointment.objects.exists()


def test_a_time_lost_to_the_spring_clock_change_is_refused(anne_known, agenda, desk):
    night = MotiveFactory(agenda=agenda)
    token = patient_token(practice_id=agenda.practice_id, patient_id=anne_known.pk)

    response = desk.post(
        book_url(agenda),
        {
            "action": "book",
            "patient": token,
            "motive": night.pk,
            "date": "2026-03-29",
            "time": "02:30",
        },
    )

    assert "does not exist on that day" in body(response)
    assert Appointment.objects.count() == 1


def test_registering_a_caller_seals_their_data_and_returns_to_the_form(
    frozen_now, agenda, consult, desk
):
    response = desk.post(
        new_url(agenda),
        {
            "first_name": "Chloé",
            "last_name": "Martin",
            "birth_date": "1991-07-04",
            "phone": "06 11 22 33 44",
            "email": "chloe@example.test",
            "motive": consult.pk,
            "date": "2026-03-03",
            "time": "11:00",
        },
    )

    assert response.status_code == 303
    patient = Patient.objects.get(last_name="Martin")
    assert patient.account is None
    assert patient.registered_by_practice_id == agenda.practice_id
    assert patient.phone == "+33611223344"
    assert patient.birth_date == date(1991, 7, 4)
    assert patient.birth_date_index == staff_patients.birth_date_index(date(1991, 7, 4))
    assert patient.phone_index
    assert patient.email_index
    assert AuditEvent.objects.filter(
        action="create", patient_ref=patient_audit_ref(patient.pk)
    ).exists()
    location = response["Location"]
    assert "patient=" in location
    assert "Martin" not in location
    assert "date=2026-03-03" in location
    form = body(desk.get(location))
    assert "Chloé Martin" in form
    assert "checked" in form
    # One of the practice's patients from now on: found by name.
    found = body(
        desk.post(book_url(agenda), {"action": "search", "find-name": "martin"})
    )
    assert "Chloé Martin" in found


def test_registering_needs_a_name_a_birth_date_and_a_way_to_reach_them(agenda, desk):
    response = desk.post(
        new_url(agenda),
        {"first_name": "Chloé", "last_name": "Martin", "birth_date": "1991-07-04"},
    )
    future = desk.post(
        new_url(agenda),
        {
            "first_name": "A",
            "last_name": "B",
            "birth_date": "2999-01-01",
            "phone": "0611223344",
        },
    )

    assert response.status_code == 200
    assert "Enter a phone number or an e-mail address" in body(response)
    assert 'aria-invalid="true"' in body(response)
    assert "This date of birth is not valid." in body(future)
    assert not Patient.objects.filter(last_name__in=["Martin", "B"]).exists()


def test_a_role_without_booking_rights_gets_403(agenda, staff, signed_in, monkeypatch):
    client = signed_in(staff(SECRETARY))
    monkeypatch.setitem(
        roles.ROLE_PERMISSIONS, SECRETARY, frozenset({Permission.VIEW_AGENDA})
    )

    assert client.get(book_url(agenda)).status_code == 403
    assert (
        client.post(
            book_url(agenda), {"action": "search", "find-name": "x"}
        ).status_code
        == 403
    )
    assert client.post(new_url(agenda), {"first_name": "x"}).status_code == 403


def test_outsiders_cannot_search_nor_register(
    anne_known, agenda, other_practice_admin, signed_in
):
    client = signed_in(other_practice_admin)

    search = client.post(
        book_url(agenda), {"action": "search", "find-phone": "+33612345678"}
    )
    register = client.post(
        new_url(agenda),
        {
            "first_name": "X",
            "last_name": "Y",
            "birth_date": "1990-01-01",
            "phone": "+33600000000",
        },
    )

    assert search.status_code == 404
    assert "Lefebvre" not in body(search)
    assert register.status_code == 404
    assert not Patient.objects.filter(last_name="Y").exists()
    assert not AuditEvent.objects.filter(resource__contains="patient-lookup").exists()
    assert re.search("Lefebvre", body(search)) is None


def test_an_exact_e_mail_finds_a_carnet_patient_new_to_the_practice(
    frozen_now, anne, agenda, desk
):
    anne.email_index = blind_index(kind="email", value=anne.email)
    anne.save()

    page = body(
        desk.post(
            book_url(agenda),
            {"action": "search", "find-email": "ANNE.lefebvre@example.test"},
        )
    )
    by_name = body(
        desk.post(book_url(agenda), {"action": "search", "find-name": "Anne"})
    )

    assert "Anne Lefebvre (new to the practice)" in page
    assert "Anne Lefebvre" not in by_name  # never listed by name before she comes
