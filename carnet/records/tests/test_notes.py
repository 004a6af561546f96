"""Clinical notes: sealed at rest, for practitioners only, every read in the audit trail."""

import pytest

from carnet.accounts.data_rights import (
    delete_account,
)
from carnet.accounts.errors import MfaRequired, NotAllowedForRole, NotStaffOfPractice
from carnet.accounts.models import StaffMembership
from carnet.accounts.services import (
    erase_patient_data,
)
from carnet.accounts.tests.factories import PatientFactory
from carnet.audit.errors import BreakGlassReasonTooLong
from carnet.audit.models import AuditEvent
from carnet.audit.selectors import verify_chain
from carnet.booking.errors import AppointmentNotFound, BreakGlassRequired
from carnet.booking.models import Appointment
from carnet.core.errors import NotFound
from carnet.records.errors import NoteNotEditable, NoteNotFound, NoteTextInvalid
from carnet.records.models import ClinicalNote, NoteRevision, PatientFlag
from carnet.records.selectors import get_note, list_notes
from carnet.records.services import add_flag, edit_note, write_note
from carnet.records.tests.conftest import make_visit
from carnet.vault.crypto import looks_like_token
from carnet.vault.errors import KeyDestroyed

pytestmark = pytest.mark.django_db

TEXT = "Suspicion de diabète de type 2; HbA1c à contrôler."


def _write(actor, practice, patient, text=TEXT, **kwargs):
    return write_note(
        actor=actor, practice_id=practice.pk, patient_id=patient.pk, text=text, **kwargs
    )


def _events():
    return [
        (
            e.actor_id,
            e.action,
            e.purpose,
            e.patient_ref,
            e.resource,
            e.flagged,
            e.reason,
        )
        for e in AuditEvent.objects.order_by("pk")
    ]


# -- sealed at rest --------------------------------------------------------------------


def test_a_note_is_stored_as_ciphertext_only(
    practitioner, practice, patient, visit, raw_column
):
    note = _write(practitioner, practice, patient, appointment_id=visit.pk)

    stored = raw_column(ClinicalNote, "text", note.pk)
    assert looks_like_token(stored)
    assert TEXT.encode() not in stored
    assert "diabète".encode() not in stored
    fresh = ClinicalNote.objects.get(pk=note.pk)
    assert fresh.text == TEXT
    assert (fresh.author, fresh.appointment, fresh.practice) == (
        practitioner,
        visit,
        practice,
    )


def test_writing_a_note_is_audited_as_care(practitioner, practice, patient, visit):
    note = _write(practitioner, practice, patient)

    assert _events() == [
        (
            practitioner.pk,
            "create",
            "care",
            f"patient:{patient.pk}",
            f"practice:{practice.pk}:clinical-note:{note.pk}",
            False,
            "",
        )
    ]


def test_crypto_shredding_the_patient_makes_their_notes_unreadable(
    practitioner, practice, patient, visit, raw_column
):
    note = _write(practitioner, practice, patient)
    edit_note(
        actor=practitioner, practice_id=practice.pk, note_id=note.pk, text="Corrigé."
    )
    revision = NoteRevision.objects.get()

    erase_patient_data(patient=patient)

    (listed,) = list_notes(
        actor=practitioner, practice_id=practice.pk, patient_id=patient.pk
    )
    with pytest.raises(KeyDestroyed):
        _ = listed.text
    with pytest.raises(KeyDestroyed):
        _ = NoteRevision.objects.select_related("note__patient").get().text
    assert looks_like_token(raw_column(ClinicalNote, "text", note.pk))
    assert looks_like_token(raw_column(NoteRevision, "text", revision.pk))
    with pytest.raises(KeyDestroyed):
        _write(practitioner, practice, patient, text="Une autre note.")
    assert ClinicalNote.objects.count() == 1


# -- reading, and who may ----------------------------------------------------------------


def test_a_practitioner_reads_the_notes_newest_first_and_the_read_is_audited(
    practitioner, staff, practice, patient, visit, other_agenda, other_practitioner
):
    colleague = staff(StaffMembership.Role.PRACTITIONER)
    first = _write(practitioner, practice, patient, text="Première visite.")
    second = _write(colleague, practice, patient, text="Deuxième visite.")
    make_visit(other_agenda, patient)
    _write(other_practitioner, other_agenda.practice, patient, text="Ailleurs.")
    before = AuditEvent.objects.count()

    notes = list_notes(
        actor=practitioner, practice_id=practice.pk, patient_id=patient.pk
    )

    assert [n.pk for n in notes] == [second.pk, first.pk]
    assert [n.text for n in notes] == ["Deuxième visite.", "Première visite."]
    assert [n.author for n in notes] == [colleague, practitioner]
    assert [n.revision_count for n in notes] == [0, 0]
    assert AuditEvent.objects.count() == before + 1
    assert _events()[-1] == (
        practitioner.pk,
        "read",
        "care",
        f"patient:{patient.pk}",
        f"practice:{practice.pk}:clinical-notes",
        False,
        "",
    )
    assert verify_chain().ok


def test_opening_an_empty_file_is_audited_too(practitioner, practice, patient, visit):
    assert (
        list_notes(actor=practitioner, practice_id=practice.pk, patient_id=patient.pk)
        == []
    )

    assert [e[1] for e in _events()] == ["read"]


def test_a_past_cancelled_appointment_still_makes_a_patient_of_the_practice(
    practitioner, practice, agenda, patient
):
    make_visit(agenda, patient, status=Appointment.Status.CANCELLED)

    list_notes(actor=practitioner, practice_id=practice.pk, patient_id=patient.pk)

    assert [(e[1], e[2], e[5]) for e in _events()] == [("read", "care", False)]


@pytest.mark.parametrize("role_fixture", ["secretary", "practice_admin", "superuser"])
def test_who_does_not_read_clinical_notes_is_refused_and_leaves_no_trace(
    request, role_fixture, practitioner, practice, patient, visit
):
    _write(practitioner, practice, patient)
    actor = request.getfixturevalue(role_fixture)
    before = AuditEvent.objects.count()

    with pytest.raises(NotAllowedForRole) as refused:
        list_notes(actor=actor, practice_id=practice.pk, patient_id=patient.pk)
    with pytest.raises(NotAllowedForRole):
        _write(actor, practice, patient, text="Tentative.")
    with pytest.raises(NotAllowedForRole):
        get_note(
            actor=actor,
            practice_id=practice.pk,
            note_id=ClinicalNote.objects.get().pk,
        )

    assert refused.value.kind == "forbidden"
    assert TEXT not in refused.value.render()
    assert AuditEvent.objects.count() == before
    assert ClinicalNote.objects.count() == 1


def test_a_practitioner_who_is_also_admin_reads_notes(staff, practice, patient, visit):
    both = staff(StaffMembership.Role.PRACTICE_ADMIN, StaffMembership.Role.PRACTITIONER)

    _write(both, practice, patient)

    assert [
        n.text
        for n in list_notes(actor=both, practice_id=practice.pk, patient_id=patient.pk)
    ] == [TEXT]


def test_another_practice_gets_the_same_not_found_as_for_a_missing_practice(
    practitioner, other_practitioner, practice, patient, visit
):
    _write(practitioner, practice, patient)
    before = AuditEvent.objects.count()

    with pytest.raises(NotStaffOfPractice) as foreign:
        list_notes(
            actor=other_practitioner, practice_id=practice.pk, patient_id=patient.pk
        )
    with pytest.raises(NotStaffOfPractice) as missing:
        list_notes(actor=other_practitioner, practice_id=987654, patient_id=patient.pk)
    with pytest.raises(NotStaffOfPractice):
        _write(other_practitioner, practice, patient)

    assert (foreign.value.code, foreign.value.kind, foreign.value.render()) == (
        missing.value.code,
        missing.value.kind,
        missing.value.render(),
    )
    assert AuditEvent.objects.count() == before
    assert ClinicalNote.objects.count() == 1


def test_a_note_of_another_practice_is_not_found_like_a_missing_one(
    practitioner, other_practitioner, other_agenda, patient
):
    make_visit(other_agenda, patient)
    theirs = _write(other_practitioner, other_agenda.practice, patient)
    practice_id = StaffMembership.objects.get(user=practitioner).practice_id

    with pytest.raises(NoteNotFound):
        get_note(actor=practitioner, practice_id=practice_id, note_id=theirs.pk)
    with pytest.raises(NoteNotFound):
        get_note(actor=practitioner, practice_id=practice_id, note_id=987654)
    with pytest.raises(NoteNotFound):
        edit_note(
            actor=practitioner, practice_id=practice_id, note_id=theirs.pk, text="Pris."
        )

    assert ClinicalNote.objects.get().text == TEXT


def test_notes_need_a_second_factor(staff, practice, patient, visit):
    without_mfa = staff(StaffMembership.Role.PRACTITIONER, mfa=False)

    with pytest.raises(MfaRequired):
        list_notes(actor=without_mfa, practice_id=practice.pk, patient_id=patient.pk)
    with pytest.raises(MfaRequired):
        _write(without_mfa, practice, patient)

    assert AuditEvent.objects.count() == 0
    assert ClinicalNote.objects.count() == 0


# -- break-glass ---------------------------------------------------------------------


def test_a_patient_with_no_appointment_here_needs_a_reason(
    practitioner, practice, stranger
):
    with pytest.raises(BreakGlassRequired):
        list_notes(actor=practitioner, practice_id=practice.pk, patient_id=stranger.pk)
    with pytest.raises(BreakGlassRequired):
        list_notes(
            actor=practitioner,
            practice_id=practice.pk,
            patient_id=stranger.pk,
            break_glass_reason="   ",
        )
    with pytest.raises(BreakGlassRequired):
        _write(practitioner, practice, stranger)

    assert AuditEvent.objects.count() == 0
    assert ClinicalNote.objects.count() == 0


def test_a_missing_patient_without_a_reason_looks_like_any_other_stranger(
    practitioner, practice
):
    with pytest.raises(BreakGlassRequired):
        list_notes(actor=practitioner, practice_id=practice.pk, patient_id=987654)
    with pytest.raises(NotFound):
        list_notes(
            actor=practitioner,
            practice_id=practice.pk,
            patient_id=987654,
            break_glass_reason="Urgence",
        )

    assert AuditEvent.objects.count() == 0


def test_break_glass_opens_the_notes_and_is_flagged_with_its_reason(
    practitioner, other_practitioner, other_agenda, practice, stranger
):
    make_visit(other_agenda, stranger)
    _write(other_practitioner, other_agenda.practice, stranger)
    before = AuditEvent.objects.count()
    reason = "Patient inconscient aux urgences, médecin traitant absent"

    notes = list_notes(
        actor=practitioner,
        practice_id=practice.pk,
        patient_id=stranger.pk,
        break_glass_reason=f"  {reason} ",
    )

    assert notes == []  # another practice's notes stay with that practice
    assert AuditEvent.objects.count() == before + 1
    assert _events()[-1] == (
        practitioner.pk,
        "break_glass",
        "break_glass",
        f"patient:{stranger.pk}",
        f"practice:{practice.pk}:clinical-notes",
        True,
        reason,
    )


def test_a_note_written_under_break_glass_is_flagged(practitioner, practice, stranger):
    note = _write(practitioner, practice, stranger, break_glass_reason="Urgence vitale")

    assert note.text == TEXT
    assert _events() == [
        (
            practitioner.pk,
            "break_glass",
            "break_glass",
            f"patient:{stranger.pk}",
            f"practice:{practice.pk}:clinical-note:{note.pk}",
            True,
            "Urgence vitale",
        )
    ]


def test_a_reason_longer_than_the_trail_keeps_is_refused(
    practitioner, practice, stranger
):
    with pytest.raises(BreakGlassReasonTooLong):
        list_notes(
            actor=practitioner,
            practice_id=practice.pk,
            patient_id=stranger.pk,
            break_glass_reason="x" * 501,
        )

    assert AuditEvent.objects.count() == 0


def test_a_patient_of_the_practice_needs_no_reason_and_a_given_one_is_ignored(
    practitioner, practice, patient, visit
):
    list_notes(
        actor=practitioner,
        practice_id=practice.pk,
        patient_id=patient.pk,
        break_glass_reason="pas besoin",
    )

    assert [(e[1], e[5], e[6]) for e in _events()] == [("read", False, "")]


# -- writing rules -------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n ", "x" * 20001])
def test_an_empty_or_overlong_note_is_refused(
    practitioner, practice, patient, visit, text
):
    with pytest.raises(NoteTextInvalid):
        _write(practitioner, practice, patient, text=text)

    assert ClinicalNote.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_a_note_can_only_name_this_patients_visit_here(
    practitioner, practice, agenda, patient, visit, other_agenda
):
    someone_else = make_visit(agenda, PatientFactory(), days=-8)
    elsewhere = make_visit(other_agenda, patient)

    for appointment in (someone_else, elsewhere):
        with pytest.raises(AppointmentNotFound):
            _write(practitioner, practice, patient, appointment_id=appointment.pk)

    assert ClinicalNote.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_the_author_corrects_a_note_and_the_earlier_text_is_kept_sealed(
    practitioner, practice, patient, visit, raw_column
):
    note = _write(practitioner, practice, patient, text="Tension 14/9.")

    edit_note(
        actor=practitioner,
        practice_id=practice.pk,
        note_id=note.pk,
        text="Tension 13/8.",
    )
    edit_note(
        actor=practitioner,
        practice_id=practice.pk,
        note_id=note.pk,
        text="Tension 13/8.",
    )
    opened = get_note(actor=practitioner, practice_id=practice.pk, note_id=note.pk)

    assert opened.text == "Tension 13/8."
    (revision,) = opened.revisions.all()
    assert revision.text == "Tension 14/9."
    assert revision.written_at == note.updated_at
    assert b"14/9" not in raw_column(NoteRevision, "text", revision.pk)
    assert [(e[1], e[4]) for e in _events()] == [
        ("create", f"practice:{practice.pk}:clinical-note:{note.pk}"),
        ("update", f"practice:{practice.pk}:clinical-note:{note.pk}"),
        ("read", f"practice:{practice.pk}:clinical-note:{note.pk}"),
    ]
    (listed,) = list_notes(
        actor=practitioner, practice_id=practice.pk, patient_id=patient.pk
    )
    assert listed.revision_count == 1


def test_only_the_author_corrects_a_note(staff, practitioner, practice, patient, visit):
    note = _write(practitioner, practice, patient)
    colleague = staff(StaffMembership.Role.PRACTITIONER)
    before = AuditEvent.objects.count()

    with pytest.raises(NoteNotEditable):
        edit_note(
            actor=colleague, practice_id=practice.pk, note_id=note.pk, text="Non."
        )

    assert ClinicalNote.objects.get().text == TEXT
    assert NoteRevision.objects.count() == 0
    assert AuditEvent.objects.count() == before


def test_an_author_who_left_the_practice_can_no_longer_correct(
    practitioner, practice, patient, visit
):
    note = _write(practitioner, practice, patient)
    StaffMembership.objects.filter(user=practitioner).update(is_active=False)

    with pytest.raises(NotStaffOfPractice):
        edit_note(
            actor=practitioner, practice_id=practice.pk, note_id=note.pk, text="Non."
        )

    assert ClinicalNote.objects.get().text == TEXT


def test_deleting_the_account_of_a_patient_seen_only_under_break_glass_takes_the_notes(
    practitioner, practice, stranger
):
    _write(practitioner, practice, stranger, break_glass_reason="Urgence")
    add_flag(
        actor=practitioner,
        practice_id=practice.pk,
        patient_id=stranger.pk,
        kind="allergy",
        label="Iode",
        break_glass_reason="Urgence",
    )

    deletion = delete_account(user=stranger.account)

    assert deletion.erased_patient_ids == [stranger.pk]
    assert ClinicalNote.objects.count() == 0
    assert PatientFlag.objects.count() == 0
