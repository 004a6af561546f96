"""The front desk's patient lookups and registrations (carnet.accounts.staff_patients)."""

from datetime import date, timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.db import connection
from django.utils import timezone

from carnet.accounts import staff_patients as sp
from carnet.accounts.errors import MfaRequired, NotStaffOfPractice
from carnet.accounts.models import Patient, StaffMembership
from carnet.accounts.selectors import patient_audit_ref
from carnet.accounts.services import create_patient_account, erase_patient_data
from carnet.accounts.tests.factories import UserFactory
from carnet.audit.models import AuditEvent
from carnet.booking.models import Appointment
from carnet.directory.tests.factories import PracticeFactory
from carnet.scheduling.tests.factories import MotiveFactory
from carnet.vault.errors import BlindIndexValueInvalid

pytestmark = pytest.mark.django_db
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def desk(agenda):
    user = UserFactory()
    StaffMembership.objects.create(
        user=user, practice=agenda.practice, role=StaffMembership.Role.SECRETARY
    )
    TOTP.activate(user, SECRET)
    return user


def register(desk, agenda, **fields):
    values = {
        "first_name": "Chloé",
        "last_name": "Martin",
        "birth_date": date(1991, 7, 4),
        "phone": "06 11 22 33 44",
        "email": "",
        "country": "FR",
    }
    values.update(fields)
    return sp.register_practice_patient(
        actor=desk, practice_id=agenda.practice_id, **values
    )


def find(desk, agenda, **criteria):
    return sp.find_patients_for_practice(
        actor=desk, practice_id=agenda.practice_id, country="FR", **criteria
    )


def test_the_birth_date_index_is_keyed_deterministic_and_not_the_date():
    first = sp.birth_date_index(date(1984, 2, 29))

    assert first == sp.birth_date_index(date(1984, 2, 29))
    assert first != sp.birth_date_index(date(1984, 3, 1))
    assert len(first) == 32
    assert "1984" not in first
    assert sp.birth_date_index(None) == ""


def test_registering_seals_the_data_and_indexes_it(desk, agenda):
    patient = register(desk, agenda, email="Chloe@Example.test")

    patient.refresh_from_db()
    assert patient.account is None
    assert patient.registered_by_practice_id == agenda.practice_id
    assert patient.phone == "+33611223344"
    assert patient.birth_date == date(1991, 7, 4)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT birth_date, phone FROM accounts_patient WHERE id = %s", [patient.pk]
        )
        raw = " ".join(str(v) for v in cursor.fetchone())
    assert "1991" not in raw
    assert "611223344" not in raw
    assert [f.patient for f in find(desk, agenda, birth_date=date(1991, 7, 4))] == [
        patient
    ]
    assert [f.patient for f in find(desk, agenda, email="chloe@example.TEST")] == [
        patient
    ]
    assert AuditEvent.objects.filter(
        action="create", patient_ref=patient_audit_ref(patient.pk)
    ).exists()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"first_name": " "}, sp.PatientIdentityInvalid),
        ({"last_name": "x" * 151}, sp.PatientIdentityInvalid),
        ({"birth_date": date(1899, 12, 31)}, sp.PatientBirthDateInvalid),
        (
            {"birth_date": timezone.now().date() + timedelta(days=5)},
            sp.PatientBirthDateInvalid,
        ),
        ({"email": "not-an-address"}, sp.PatientEmailInvalid),
        ({"phone": "", "email": ""}, sp.PatientContactRequired),
        ({"phone": "abc"}, BlindIndexValueInvalid),
    ],
)
def test_bad_input_registers_nobody(desk, agenda, fields, error):
    with pytest.raises(error):
        register(desk, agenda, **fields)

    assert not Patient.objects.filter(registered_by_practice=agenda.practice).exists()


def test_names_are_searched_among_the_practices_own_patients_only(
    desk, agenda, patient
):
    mine = register(desk, agenda, first_name="Léa", last_name="Dupont")
    elsewhere = PracticeFactory()
    Patient.objects.create(
        first_name="Léa", last_name="Dupont", registered_by_practice=elsewhere
    )
    patient.first_name, patient.last_name = "Léa", "Dupontel"
    patient.save()
    Appointment.objects.create(
        agenda=agenda,
        patient=patient,
        motive=MotiveFactory(agenda=agenda),
        starts_at=date_at(2026, 1, 5),
        ends_at=date_at(2026, 1, 5) + timedelta(minutes=20),
        status=Appointment.Status.CANCELLED,
    )

    found = find(desk, agenda, name="dupont lea")

    assert [f.patient for f in found] == [mine, patient]
    assert all(f.known for f in found)


def date_at(*args):
    from datetime import UTC, datetime

    return datetime(*args, 9, 0, tzinfo=UTC)


def test_an_exact_phone_also_finds_a_carnet_patient_the_practice_never_saw(
    desk, agenda
):
    user = create_patient_account(
        email="paul@example.test",
        password=None,
        first_name="Paul",
        last_name="Roux",
        phone="+33 6 99 88 77 66",
    )

    found = find(desk, agenda, phone="06 99 88 77 66")

    assert [(f.patient, f.known) for f in found] == [(user.patient, False)]
    assert find(desk, agenda, name="Roux") == []
    assert find(desk, agenda, phone="06 99 88 77 66", name="Autre") == []


def test_every_lookup_is_audited_even_when_it_finds_nobody(desk, agenda):
    mine = register(desk, agenda)

    find(desk, agenda, phone="+33611223344")
    find(desk, agenda, name="Personne")

    assert AuditEvent.objects.filter(
        action="read",
        patient_ref=patient_audit_ref(mine.pk),
        resource=f"practice:{agenda.practice_id}:patient-lookup:phone",
    ).exists()
    assert AuditEvent.objects.filter(
        resource=f"practice:{agenda.practice_id}:patient-lookup:name", patient_ref=""
    ).exists()


def test_an_empty_lookup_is_refused(desk, agenda):
    with pytest.raises(sp.PatientLookupEmpty):
        find(desk, agenda, name="  ")


def test_the_gates(agenda, desk):
    outsider = UserFactory()
    TOTP.activate(outsider, SECRET)
    no_mfa = UserFactory()
    StaffMembership.objects.create(
        user=no_mfa, practice=agenda.practice, role=StaffMembership.Role.SECRETARY
    )

    with pytest.raises(NotStaffOfPractice):
        find(outsider, agenda, name="x")
    with pytest.raises(MfaRequired):
        find(no_mfa, agenda, name="x")
    with pytest.raises(NotStaffOfPractice):
        register(outsider, agenda)
    assert not Patient.objects.filter(last_name="Martin").exists()


def test_the_backfill_indexes_dates_written_before_the_index(desk, agenda):
    patient = register(desk, agenda)
    Patient.objects.filter(pk=patient.pk).update(birth_date_index="")
    erased = register(desk, agenda, last_name="Effacée")
    erase_patient_data(patient=erased)
    Patient.objects.filter(pk=erased.pk).update(birth_date_index="")

    assert sp.backfill_birth_date_indexes() == 1

    patient.refresh_from_db()
    assert patient.birth_date_index == sp.birth_date_index(date(1991, 7, 4))


def test_every_service_writing_a_birth_date_keeps_its_index(desk, agenda):
    from carnet.accounts.services import (
        add_relative,
        update_own_patient,
        update_relative,
    )

    user = create_patient_account(
        email="lina@example.test",
        password="secret-password",
        first_name="Lina",
        last_name="Roux",
        birth_date=date(1979, 1, 2),
    )
    holder = user.patient
    assert holder.birth_date_index == sp.birth_date_index(date(1979, 1, 2))

    update_own_patient(
        user=user, first_name="Lina", last_name="Roux", birth_date=date(1979, 2, 1)
    )
    child = add_relative(
        holder=holder,
        first_name="Tom",
        last_name="Roux",
        relationship="child",
        birth_date=date(2015, 6, 7),
    )
    update_relative(
        user=user,
        patient_id=child.pk,
        first_name="Tom",
        last_name="Roux",
        relationship="child",
        birth_date=date(2015, 7, 6),
    )

    holder.refresh_from_db()
    child.refresh_from_db()
    assert holder.birth_date_index == sp.birth_date_index(date(1979, 2, 1))
    assert child.birth_date_index == sp.birth_date_index(date(2015, 7, 6))
    erase_patient_data(patient=child)
    child.refresh_from_db()
    assert child.birth_date_index == ""


@pytest.mark.parametrize("typed", ["lea muller", "LÉA", "Muller", "  léa   MÜLLER "])
def test_names_are_found_without_accents_or_case(desk, agenda, typed):
    lea = register(desk, agenda, first_name="Léa", last_name="Müller")
    register(desk, agenda, first_name="Leon", last_name="Martin", phone="0611223355")

    assert [f.patient for f in find(desk, agenda, name=typed)] == [lea]
