"""The practice's patients and a patient's file: reads audited, roles respected, break-glass."""

import pytest
from django.urls import reverse

from carnet.accounts.models import Patient, StaffMembership
from carnet.accounts.selectors import patient_audit_ref
from carnet.accounts.services import (
    erase_patient_data,
)
from carnet.accounts.tests.factories import PatientFactory, RelativeFactory
from carnet.audit.models import AuditEvent
from carnet.audit.selectors import verify_chain
from carnet.directory.tests.factories import PracticeFactory
from carnet.pro.tests.conftest import paris
from carnet.records.models import ClinicalNote, NoteRevision, PatientFlag
from carnet.records.services import add_flag, write_note
from carnet.scheduling.tests.factories import AgendaFactory
from carnet.vault.services import blind_index

pytestmark = pytest.mark.django_db
ADMIN = StaffMembership.Role.PRACTICE_ADMIN
SECRETARY = StaffMembership.Role.SECRETARY
PRACTITIONER = StaffMembership.Role.PRACTITIONER
NOTE = "canary-note Suspicion angine"
ALLERGY = "canary-allergy Pénicilline"


@pytest.fixture
def practice(agenda):
    return agenda.practice


@pytest.fixture
def second_agenda(practice):
    """Another practitioner's agenda at the same practice."""
    return AgendaFactory(practice=practice, time_zone="Europe/Paris")


@pytest.fixture
def doctor(staff):
    return staff(PRACTITIONER, first_name="Paul", last_name="Doc", language="en")


@pytest.fixture
def desk(staff):
    return staff(SECRETARY, first_name="Sam", last_name="Desk", language="en")


@pytest.fixture
def anne_file(practice, agenda, second_agenda, anne, visit, doctor):
    """Anne: visits on two agendas of the practice, a note, a clinical and a practical flag."""
    first = visit(agenda, anne, paris(2026, 3, 3, 9, 0))
    visit(second_agenda, anne, paris(2026, 4, 7, 15, 30))
    note = write_note(
        actor=doctor,
        practice_id=practice.pk,
        patient_id=anne.pk,
        text=NOTE,
        appointment_id=first.pk,
    )
    allergy = add_flag(
        actor=doctor,
        practice_id=practice.pk,
        patient_id=anne.pk,
        kind=PatientFlag.Kind.ALLERGY,
        label=ALLERGY,
    )
    interpreter = add_flag(
        actor=doctor,
        practice_id=practice.pk,
        patient_id=anne.pk,
        kind=PatientFlag.Kind.INTERPRETER,
        label="Needs an Italian interpreter",
    )
    return {"note": note, "allergy": allergy, "interpreter": interpreter}


def list_url(practice) -> str:
    return reverse("pro:patients", kwargs={"practice_id": practice.pk})


def file_url(practice, patient, name: str = "pro:patient-detail", **kwargs) -> str:
    return reverse(
        name, kwargs={"practice_id": practice.pk, "patient_id": patient.pk, **kwargs}
    )


def html(response) -> str:
    return response.content.decode()


def events_for(patient, **filters):
    return AuditEvent.objects.filter(
        patient_ref=patient_audit_ref(patient.pk), **filters
    )


# ---------- the list ----------


def indexed(patient, *, phone: str = "", email: str = "") -> None:
    """Give the patient contact data and its blind indexes, as the accounts services do."""
    patient.phone, patient.email = phone, email
    patient.phone_index = blind_index(kind="phone", value=phone, country="FR")
    patient.email_index = blind_index(kind="email", value=email) if email else ""
    patient.save()


@pytest.fixture
def patients_of_practice(practice, agenda, anne, bruno, visit):
    """Anne and Bruno have visits here; Chloé only at another practice."""
    indexed(anne, phone="+33612345678", email="anne.lefebvre@example.test")
    indexed(bruno, phone="+33611111111")
    visit(agenda, anne, paris(2026, 3, 3, 9, 0))
    visit(agenda, bruno, paris(2026, 3, 4, 9, 0))
    chloe = PatientFactory(first_name="Chloé", last_name="Outsider")
    visit(AgendaFactory(), chloe, paris(2026, 3, 3, 9, 0))
    return chloe


def test_the_list_shows_the_practices_patients_and_records_one_read_each(
    practice, patients_of_practice, anne, bruno, desk, signed_in
):
    chloe = patients_of_practice
    client = signed_in(desk)

    response = client.get(list_url(practice))

    assert response.status_code == 200
    page = html(response)
    assert "LEFEBVRE Anne" in page
    assert "GARNIER Bruno" in page
    assert "Outsider" not in page
    assert "2 patients" in page
    for patient in (anne, bruno):
        (event,) = events_for(patient, resource=f"practice:{practice.pk}:patients")
        assert (event.action, event.actor_id, event.flagged) == ("read", desk.pk, False)
    assert not events_for(chloe).exists()
    assert verify_chain()


def test_the_list_finds_by_part_of_a_name(
    practice, patients_of_practice, desk, signed_in
):
    page = html(signed_in(desk).get(list_url(practice), {"q": "lefeb"}))

    assert "LEFEBVRE Anne" in page
    assert "Bruno" not in page


@pytest.mark.parametrize(
    "query",
    [
        {"phone": "06 12 34 56 78"},
        {"phone": "+33612345678"},
        {"email": "Anne.Lefebvre@example.test"},
    ],
)
def test_the_list_finds_by_exact_phone_or_email(
    practice, patients_of_practice, anne, bruno, desk, signed_in, query
):
    page = html(signed_in(desk).get(list_url(practice), query))

    assert "LEFEBVRE Anne" in page
    assert "Bruno" not in page
    assert "1 patient<" in page
    assert not events_for(bruno).exists()


def test_a_contact_search_never_finds_another_practices_patient(
    practice, patients_of_practice, desk, signed_in
):
    chloe = patients_of_practice
    indexed(chloe, phone="+33699887766")

    page = html(signed_in(desk).get(list_url(practice), {"phone": "+33699887766"}))

    assert "Outsider" not in page
    assert "0 patients" in page
    assert not events_for(chloe).exists()


def test_an_unreadable_phone_number_is_a_form_error_and_reads_nothing(
    practice, patients_of_practice, desk, signed_in
):
    response = signed_in(desk).get(list_url(practice), {"phone": "not a number"})

    assert response.status_code == 400
    assert "This phone number is not valid." in html(response)
    assert 'aria-invalid="true"' in html(response)
    assert "LEFEBVRE" not in html(response)
    assert not AuditEvent.objects.filter(resource__endswith=":patients").exists()


def test_the_list_is_paginated_and_records_only_the_page_shown(
    practice, agenda, visit, desk, signed_in
):
    people = [
        PatientFactory(first_name=f"P{n:02}", last_name=f"Name{n:02}")
        for n in range(30)
    ]
    for n, patient in enumerate(people):
        visit(agenda, patient, paris(2026, 3, 2 + n // 10, 8 + n % 10, 0))

    response = signed_in(desk).get(list_url(practice), {"page": 2})

    page = html(response)
    assert "Page 2 of 2" in page
    assert "NAME29" in page
    assert "NAME00" not in page
    shown = AuditEvent.objects.filter(resource=f"practice:{practice.pk}:patients")
    assert shown.count() == 5
    assert 'rel="prev"' in page


# ---------- the file ----------


def test_a_practitioner_sees_the_whole_file_across_the_practices_agendas(
    practice, anne, anne_file, second_agenda, doctor, signed_in
):
    relative = RelativeFactory(managed_by=anne, first_name="Léo")
    client = signed_in(doctor)

    response = client.get(file_url(practice, anne))

    assert response.status_code == 200
    page = html(response)
    assert "Anne LEFEBVRE" in page
    assert "06 12 34 56 78" in page
    assert "anne.lefebvre@example.test" in page
    assert page.count('class="card patient-visit"') == 2
    assert second_agenda.practitioner.display_name in page
    assert NOTE in page
    assert ALLERGY in page
    assert "Needs an Italian interpreter" in page
    assert "Léo" in page
    assert "Write a note" in page
    ref = {"patient_ref": patient_audit_ref(anne.pk)}
    resources = set(
        AuditEvent.objects.filter(actor_id=doctor.pk, action="read", **ref).values_list(
            "resource", flat=True
        )
    )
    assert resources == {
        f"practice:{practice.pk}:patient-file",
        f"practice:{practice.pk}:patient-flags",
        f"practice:{practice.pk}:clinical-notes",
    }
    (relative_read,) = events_for(relative, actor_id=doctor.pk)
    assert relative_read.resource == f"practice:{practice.pk}:patient-file:relatives"
    assert verify_chain()


def test_a_secretarys_file_holds_no_clinical_note_nor_clinical_flag(
    practice, anne, anne_file, desk, signed_in
):
    response = signed_in(desk).get(file_url(practice, anne))

    assert response.status_code == 200
    page = html(response)
    assert "Anne LEFEBVRE" in page
    assert "Needs an Italian interpreter" in page
    assert NOTE not in page
    assert "canary" not in page
    assert "Clinical notes" not in page
    assert not AuditEvent.objects.filter(
        actor_id=desk.pk, resource__contains="clinical-note"
    ).exists()


def test_an_erased_patients_sealed_data_shows_as_erased(
    practice, anne, anne_file, doctor, signed_in
):
    erase_patient_data(patient=anne)

    response = signed_in(doctor).get(file_url(practice, anne))

    assert response.status_code == 200
    page = html(response)
    assert "anne.lefebvre@example.test" not in page
    assert NOTE not in page
    assert page.count("<em>erased</em>") >= 5


@pytest.mark.parametrize("role", [SECRETARY, PRACTITIONER, ADMIN])
def test_another_practices_staff_get_404_and_no_data(
    practice, anne, anne_file, staff, signed_in, role
):
    client = signed_in(staff(role, at=PracticeFactory()))
    before = AuditEvent.objects.count()

    for response in (
        client.get(file_url(practice, anne)),
        client.get(list_url(practice)),
        client.get(
            file_url(practice, anne, "pro:patient-note", note_id=anne_file["note"].pk)
        ),
        client.post(file_url(practice, anne, "pro:patient-note-add"), {"text": "x"}),
    ):
        assert response.status_code == 404
        assert "Lefebvre" not in html(response)
        assert "LEFEBVRE" not in html(response)
        assert "canary" not in html(response)
    assert AuditEvent.objects.count() == before
    assert ClinicalNote.objects.count() == 1


def test_a_secretary_gets_403_on_a_note(practice, anne, anne_file, desk, signed_in):
    client = signed_in(desk)

    page = client.get(
        file_url(practice, anne, "pro:patient-note", note_id=anne_file["note"].pk)
    )
    posted = client.post(
        file_url(practice, anne, "pro:patient-note-add"), {"text": "x"}
    )

    for response in (page, posted):
        assert response.status_code == 403
        assert "canary" not in html(response)
        assert "Lefebvre" not in html(response)
    assert ClinicalNote.objects.count() == 1


# ---------- break-glass ----------


@pytest.fixture
def stranger(db):
    """A patient with no appointment at the practice."""
    patient = PatientFactory(first_name="Gaspard", last_name="Inconnu")
    patient.phone = "+33611223344"
    patient.save()
    return patient


def test_a_patient_without_appointment_here_needs_a_stated_reason(
    practice, stranger, doctor, signed_in
):
    client = signed_in(doctor)

    response = client.get(file_url(practice, stranger))

    assert response.status_code == 200
    page = html(response)
    assert "Emergency access to a patient file" in page
    assert "Gaspard" not in page
    assert "Inconnu" not in page
    assert not events_for(stranger).exists()


def test_break_glass_opens_the_file_and_every_read_is_flagged_with_the_reason(
    practice, stranger, doctor, signed_in
):
    client = signed_in(doctor)
    reason = "Unconscious patient brought in by a neighbour"

    posted = client.post(
        file_url(practice, stranger, "pro:patient-break-glass"), {"reason": reason}
    )
    response = client.get(posted["Location"])

    assert posted.status_code == 303
    assert posted["Location"] == file_url(practice, stranger)
    assert response.status_code == 200
    page = html(response)
    assert "Gaspard INCONNU" in page
    assert "Emergency access" in page
    assert reason in page
    events = list(events_for(stranger))
    assert len(events) == 3  # file, flags, notes
    assert {(e.action, e.purpose, e.flagged, e.reason) for e in events} == {
        ("break_glass", "break_glass", True, reason)
    }


def test_a_note_written_under_break_glass_is_flagged(
    practice, stranger, doctor, signed_in
):
    client = signed_in(doctor)
    client.post(
        file_url(practice, stranger, "pro:patient-break-glass"), {"reason": "Urgence"}
    )

    response = client.post(
        file_url(practice, stranger, "pro:patient-note-add"), {"text": "Seen at night"}
    )

    assert response.status_code == 303
    note = ClinicalNote.objects.get(patient=stranger)
    (created,) = events_for(stranger, resource__endswith=f"clinical-note:{note.pk}")
    assert (created.action, created.flagged, created.reason) == (
        "break_glass",
        True,
        "Urgence",
    )


def test_an_empty_reason_is_refused_and_opens_nothing(
    practice, stranger, doctor, signed_in
):
    client = signed_in(doctor)

    response = client.post(
        file_url(practice, stranger, "pro:patient-break-glass"), {"reason": "   "}
    )

    assert response.status_code == 400
    assert "This field is required." in html(response)
    assert "Gaspard" not in html(response)
    assert client.get(file_url(practice, stranger)).status_code == 200
    assert "Gaspard" not in html(client.get(file_url(practice, stranger)))
    assert not events_for(stranger).exists()


def test_a_patient_that_does_not_exist_cannot_be_probed(practice, doctor, signed_in):
    client = signed_in(doctor)
    missing = Patient(pk=987654)

    asked = client.get(file_url(practice, missing))
    with_reason = client.post(
        file_url(practice, missing, "pro:patient-break-glass"), {"reason": "Urgence"}
    )

    assert asked.status_code == 200
    assert "Emergency access to a patient file" in html(asked)
    assert with_reason.status_code == 404


# ---------- notes ----------


def test_a_practitioner_writes_a_note(practice, anne, anne_file, doctor, signed_in):
    client = signed_in(doctor)

    response = client.post(
        file_url(practice, anne, "pro:patient-note-add"), {"text": "  Tension 12/8  "}
    )

    assert response.status_code == 303
    assert response["Location"] == file_url(practice, anne)
    note = ClinicalNote.objects.exclude(pk=anne_file["note"].pk).get()
    assert note.text == "Tension 12/8"
    assert "Tension 12/8" in html(client.get(file_url(practice, anne)))


def test_an_empty_note_is_refused_and_nothing_is_stored(
    practice, anne, anne_file, doctor, signed_in
):
    events = AuditEvent.objects.filter(action="create").count()

    response = signed_in(doctor).post(
        file_url(practice, anne, "pro:patient-note-add"), {"text": "   "}
    )

    assert response.status_code == 400
    assert "This field is required." in html(response)
    assert ClinicalNote.objects.count() == 1
    assert AuditEvent.objects.filter(action="create").count() == events


def test_the_author_corrects_a_note_and_the_earlier_text_stays_visible(
    practice, anne, anne_file, doctor, signed_in
):
    client = signed_in(doctor)
    note = anne_file["note"]
    note_url = file_url(practice, anne, "pro:patient-note", note_id=note.pk)

    response = client.post(note_url, {"text": "Angine confirmée"})
    page = html(client.get(note_url))

    assert response.status_code == 303
    note.refresh_from_db()
    assert note.text == "Angine confirmée"
    (revision,) = NoteRevision.objects.filter(note=note)
    assert revision.text == NOTE
    assert "Angine confirmée" in page
    assert NOTE in page
    assert "Corrected once." in html(client.get(file_url(practice, anne)))
    assert events_for(
        anne, resource=f"practice:{practice.pk}:clinical-note:{note.pk}", action="read"
    ).exists()


def test_another_practitioner_cannot_correct_a_note(
    practice, anne, anne_file, staff, signed_in
):
    other = staff(PRACTITIONER, language="en")
    note = anne_file["note"]

    response = signed_in(other).post(
        file_url(practice, anne, "pro:patient-note", note_id=note.pk),
        {"text": "Rewritten"},
    )

    assert response.status_code == 200
    assert "Only the author of a note can correct it." in html(response)
    assert 'role="alert"' in html(response)
    note.refresh_from_db()
    assert note.text == NOTE
    assert not NoteRevision.objects.exists()


def test_a_note_of_another_patient_is_not_found(
    practice, anne, bruno, anne_file, doctor, signed_in, visit, agenda
):
    visit(agenda, bruno, paris(2026, 3, 5, 9, 0))

    response = signed_in(doctor).get(
        file_url(practice, bruno, "pro:patient-note", note_id=anne_file["note"].pk)
    )

    assert response.status_code == 404


# ---------- flags ----------


def test_a_secretary_adds_and_removes_a_practical_flag(
    practice, anne, anne_file, desk, signed_in
):
    client = signed_in(desk)

    added = client.post(
        file_url(practice, anne, "pro:patient-flag-add"),
        {"kind": "mobility", "label": "Wheelchair"},
    )
    flag = PatientFlag.objects.get(kind="mobility")
    removed = client.post(
        file_url(practice, anne, "pro:patient-flag-remove", flag_id=flag.pk)
    )

    assert (added.status_code, removed.status_code) == (303, 303)
    flag.refresh_from_db()
    assert flag.label == "Wheelchair"
    assert flag.removed_by_id == desk.pk


def test_a_secretary_may_not_add_nor_remove_a_clinical_flag(
    practice, anne, anne_file, desk, signed_in
):
    client = signed_in(desk)

    added = client.post(
        file_url(practice, anne, "pro:patient-flag-add"),
        {"kind": "allergy", "label": "Latex"},
    )
    removed = client.post(
        file_url(
            practice, anne, "pro:patient-flag-remove", flag_id=anne_file["allergy"].pk
        )
    )

    assert added.status_code == 403
    assert removed.status_code == 404
    assert PatientFlag.objects.filter(removed_at__isnull=True).count() == 2
    assert "canary" not in html(removed)


def test_a_flag_without_label_is_refused_and_nothing_is_stored(
    practice, anne, anne_file, desk, signed_in
):
    response = signed_in(desk).post(
        file_url(practice, anne, "pro:patient-flag-add"),
        {"kind": "interpreter", "label": "  "},
    )

    assert response.status_code == 400
    assert "This field is required." in html(response)
    assert PatientFlag.objects.count() == 2
