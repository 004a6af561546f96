"""The practice's list of patients and a patient's file: gates, break-glass, one event per read."""

import pytest

from carnet.accounts.errors import MfaRequired, NotAllowedForRole, NotStaffOfPractice
from carnet.accounts.models import Patient
from carnet.accounts.roles import Permission
from carnet.accounts.selectors import patient_audit_ref
from carnet.accounts.tests.factories import PatientFactory, RelativeFactory
from carnet.audit.models import AuditEvent
from carnet.booking.errors import BreakGlassRequired
from carnet.core.errors import NotFound
from carnet.records import selectors
from carnet.records.selectors import get_patient_file, list_practice_patients
from carnet.records.tests.conftest import make_visit
from carnet.scheduling.tests.factories import AgendaFactory
from carnet.vault.errors import BlindIndexValueInvalid
from carnet.vault.services import blind_index

pytestmark = pytest.mark.django_db


def _index(patient, *, phone="", email=""):
    patient.phone, patient.email = phone, email
    patient.phone_index = (
        blind_index(kind="phone", value=phone, country="FR") if phone else ""
    )
    patient.email_index = blind_index(kind="email", value=email) if email else ""
    patient.save()


def _events(patient):
    return AuditEvent.objects.filter(patient_ref=patient_audit_ref(patient.pk))


@pytest.fixture
def people(agenda, other_agenda):
    """Three patients of the practice (one on a second agenda), one of another practice."""
    second = AgendaFactory(practice=agenda.practice)
    anne = PatientFactory(first_name="Anne", last_name="Martin")
    _index(anne, phone="+33612345678", email="anne@example.test")
    bernard = PatientFactory(first_name="Bernard", last_name="Martinez")
    carla = PatientFactory(first_name="Carla", last_name="Zola")
    outsider = PatientFactory(first_name="Anne", last_name="Martin-Ailleurs")
    _index(outsider, phone="+33699999999")
    make_visit(agenda, anne, days=-30)
    make_visit(agenda, anne, days=-3)
    make_visit(agenda, bernard)
    make_visit(second, carla)
    make_visit(other_agenda, outsider)
    return anne, bernard, carla, outsider


def test_the_list_holds_the_patients_of_every_agenda_of_the_practice(
    secretary, practice, people
):
    anne, bernard, carla, outsider = people

    page = list_practice_patients(actor=secretary, practice_id=practice.pk)

    assert [p.pk for p in page.patients] == [anne.pk, bernard.pk, carla.pk]
    assert (page.count, page.number, page.num_pages) == (3, 1, 1)
    assert page.patients[0].visit_count == 2
    for patient in (anne, bernard, carla):
        (event,) = _events(patient)
        assert (event.action, event.resource, event.actor_id) == (
            "read",
            selectors.patients_resource(practice.pk),
            secretary.pk,
        )
    assert not _events(outsider).exists()


def test_names_match_every_word_in_part(secretary, practice, people):
    anne, bernard, _carla, _outsider = people

    found = list_practice_patients(
        actor=secretary, practice_id=practice.pk, name="mart"
    )
    narrowed = list_practice_patients(
        actor=secretary, practice_id=practice.pk, name="ann MART"
    )

    assert [p.pk for p in found.patients] == [anne.pk, bernard.pk]
    assert [p.pk for p in narrowed.patients] == [anne.pk]


def test_contact_lookups_are_exact_and_stay_within_the_practice(
    secretary, practice, people
):
    anne, _bernard, _carla, outsider = people

    by_phone = list_practice_patients(
        actor=secretary, practice_id=practice.pk, phone="06 12 34 56 78"
    )
    by_email = list_practice_patients(
        actor=secretary, practice_id=practice.pk, email="ANNE@example.test"
    )
    partial = list_practice_patients(
        actor=secretary, practice_id=practice.pk, email="anne@example"
    )
    elsewhere = list_practice_patients(
        actor=secretary, practice_id=practice.pk, phone="+33699999999"
    )

    assert [p.pk for p in by_phone.patients] == [anne.pk]
    assert [p.pk for p in by_email.patients] == [anne.pk]
    assert partial.patients == []
    assert elsewhere.patients == []
    assert not _events(outsider).exists()


def test_pages_record_only_the_patients_they_show(secretary, practice, people):
    anne, _bernard, carla, _outsider = people

    page = list_practice_patients(
        actor=secretary, practice_id=practice.pk, page=2, per_page=2
    )
    past_the_end = list_practice_patients(
        actor=secretary, practice_id=practice.pk, page=9, per_page=2
    )

    assert [p.pk for p in page.patients] == [carla.pk]
    assert (page.has_previous, page.has_next) == (True, False)
    assert past_the_end.number == 2
    assert not _events(anne).exists()
    assert _events(carla).count() == 2


def test_an_unreadable_phone_is_refused_before_any_read(secretary, practice, people):
    with pytest.raises(BlindIndexValueInvalid):
        list_practice_patients(actor=secretary, practice_id=practice.pk, phone="abc")

    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("other_practitioner", NotStaffOfPractice),
        ("unenrolled", MfaRequired),
    ],
)
def test_the_list_gate_refuses_and_records_nothing(
    request, practice, people, staff, who, error
):
    actor = (
        staff("secretary", mfa=False)
        if who == "unenrolled"
        else request.getfixturevalue(who)
    )

    with pytest.raises(error):
        list_practice_patients(actor=actor, practice_id=practice.pk)

    assert not AuditEvent.objects.exists()


def test_the_file_gathers_visits_across_the_practice_and_relatives(
    practitioner, practice, people
):
    anne, _bernard, _carla, _outsider = people
    child = RelativeFactory(managed_by=anne, first_name="Léa")

    file = get_patient_file(
        actor=practitioner, practice_id=practice.pk, patient_id=anne.pk
    )

    assert file.patient == anne
    assert len(file.appointments) == 2
    assert file.appointments[0].starts_at > file.appointments[1].starts_at
    assert file.manager is None
    assert file.relatives == [child]
    assert file.break_glass is False
    assert Permission.VIEW_CLINICAL_NOTES in file.permissions
    (read,) = _events(anne)
    assert read.resource == selectors.patient_file_resource(practice.pk)
    (relative_read,) = _events(child)
    assert relative_read.resource == selectors.relatives_resource(practice.pk)


def test_a_relatives_file_names_who_manages_them(
    practitioner, practice, agenda, people
):
    anne = people[0]
    child = RelativeFactory(managed_by=anne)
    make_visit(agenda, child, days=-1)

    file = get_patient_file(
        actor=practitioner, practice_id=practice.pk, patient_id=child.pk
    )

    assert file.manager == anne
    assert file.relatives == []
    assert _events(anne).get().resource == selectors.relatives_resource(practice.pk)


def test_a_file_without_visit_needs_a_reason_then_is_flagged(
    secretary, practice, stranger
):
    with pytest.raises(BreakGlassRequired):
        get_patient_file(
            actor=secretary, practice_id=practice.pk, patient_id=stranger.pk
        )
    assert not AuditEvent.objects.exists()

    file = get_patient_file(
        actor=secretary,
        practice_id=practice.pk,
        patient_id=stranger.pk,
        break_glass_reason="  Called by the emergency services  ",
    )

    assert (file.break_glass, file.reason) == (True, "Called by the emergency services")
    (event,) = _events(stranger)
    assert (event.action, event.purpose, event.flagged, event.reason) == (
        "break_glass",
        "break_glass",
        True,
        "Called by the emergency services",
    )


def test_an_unknown_patient_is_like_a_stranger_until_a_reason_is_given(
    secretary, practice
):
    with pytest.raises(BreakGlassRequired):
        get_patient_file(actor=secretary, practice_id=practice.pk, patient_id=424242)
    with pytest.raises(NotFound):
        get_patient_file(
            actor=secretary,
            practice_id=practice.pk,
            patient_id=424242,
            break_glass_reason="x",
        )
    assert not AuditEvent.objects.exists()


def test_another_practice_gets_no_file(other_practitioner, practice, people):
    with pytest.raises(NotStaffOfPractice):
        get_patient_file(
            actor=other_practitioner,
            practice_id=practice.pk,
            patient_id=people[0].pk,
            break_glass_reason="curious",
        )
    assert not AuditEvent.objects.exists()


def test_the_file_needs_the_right_to_see_contact_details(
    practice, people, monkeypatch, staff
):
    from carnet.accounts import roles

    limited = dict(roles.ROLE_PERMISSIONS)
    limited["secretary"] = frozenset({Permission.VIEW_AGENDA})
    monkeypatch.setattr(roles, "ROLE_PERMISSIONS", limited)
    viewer = staff("secretary")

    with pytest.raises(NotAllowedForRole):
        get_patient_file(actor=viewer, practice_id=practice.pk, patient_id=people[0].pk)
    with pytest.raises(NotAllowedForRole):
        list_practice_patients(actor=viewer, practice_id=practice.pk)
    assert not AuditEvent.objects.exists()
    assert Patient.objects.count() == 4
