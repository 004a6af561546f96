"""Patient flags: practical ones for the whole team, clinical ones for practitioners."""

import pytest

from carnet.accounts.errors import NotAllowedForRole, NotStaffOfPractice
from carnet.audit.models import AuditEvent
from carnet.booking.errors import BreakGlassRequired
from carnet.records.errors import FlagKindInvalid, FlagLabelInvalid, FlagNotFound
from carnet.records.models import PatientFlag
from carnet.records.selectors import list_flags
from carnet.records.services import add_flag, remove_flag
from carnet.records.tests.conftest import make_visit
from carnet.vault.crypto import looks_like_token

pytestmark = pytest.mark.django_db
K = PatientFlag.Kind


def _add(actor, practice, patient, kind, label, **kwargs):
    return add_flag(
        actor=actor,
        practice_id=practice.pk,
        patient_id=patient.pk,
        kind=kind,
        label=label,
        **kwargs,
    )


def _list(actor, practice, patient, **kwargs):
    return list_flags(
        actor=actor, practice_id=practice.pk, patient_id=patient.pk, **kwargs
    )


@pytest.fixture
def flagged(practitioner, secretary, practice, patient, visit):
    """An allergy (clinical) and an interpreter flag (practical)."""
    return (
        _add(practitioner, practice, patient, K.ALLERGY, "Pénicilline"),
        _add(secretary, practice, patient, K.INTERPRETER, "Arabe"),
    )


def test_a_flag_label_is_stored_as_ciphertext_only(flagged, raw_column):
    allergy, _interpreter = flagged

    stored = raw_column(PatientFlag, "label", allergy.pk)

    assert looks_like_token(stored)
    assert "Pénicilline".encode() not in stored
    assert PatientFlag.objects.get(pk=allergy.pk).label == "Pénicilline"


def test_a_practitioner_sees_every_flag_and_a_secretary_only_practical_ones(
    flagged, practitioner, secretary, practice_admin, practice, patient
):
    _allergy, interpreter = flagged

    seen_by_practitioner = _list(practitioner, practice, patient)
    seen_by_secretary = _list(secretary, practice, patient)
    seen_by_admin = _list(practice_admin, practice, patient)

    assert [(f.kind, f.label) for f in seen_by_practitioner] == [
        ("allergy", "Pénicilline"),
        ("interpreter", "Arabe"),
    ]
    assert seen_by_secretary == [interpreter]
    assert seen_by_admin == [interpreter]
    reads = list(AuditEvent.objects.filter(action="read").order_by("pk"))
    assert [(e.actor_id, e.purpose, e.patient_ref, e.resource) for e in reads] == [
        (
            user.pk,
            "care",
            f"patient:{patient.pk}",
            f"practice:{practice.pk}:patient-flags",
        )
        for user in (practitioner, secretary, practice_admin)
    ]


def test_a_secretary_cannot_add_a_clinical_flag(secretary, practice, patient, visit):
    with pytest.raises(NotAllowedForRole):
        _add(secretary, practice, patient, K.ALLERGY, "Arachide")
    with pytest.raises(NotAllowedForRole):
        _add(secretary, practice, patient, K.MEDICAL, "Anticoagulants")

    assert PatientFlag.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_adding_a_flag_is_audited(practitioner, practice, patient, visit):
    flag = _add(practitioner, practice, patient, K.MOBILITY, "Fauteuil roulant")

    (event,) = AuditEvent.objects.all()
    assert (event.action, event.purpose, event.patient_ref, event.resource) == (
        "create",
        "care",
        f"patient:{patient.pk}",
        f"practice:{practice.pk}:patient-flag:{flag.pk}",
    )


@pytest.mark.parametrize(
    ("kind", "label", "error"),
    [
        ("vip", "Ami du docteur", FlagKindInvalid),
        ("other", "", FlagLabelInvalid),
        ("other", "   ", FlagLabelInvalid),
        ("other", "x" * 201, FlagLabelInvalid),
    ],
)
def test_a_bad_flag_is_refused(
    practitioner, practice, patient, visit, kind, label, error
):
    with pytest.raises(error):
        _add(practitioner, practice, patient, kind, label)

    assert PatientFlag.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_flags_of_another_practice_stay_there(
    flagged, other_practitioner, other_agenda, practice, patient
):
    with pytest.raises(NotStaffOfPractice):
        _list(other_practitioner, practice, patient)
    before = AuditEvent.objects.count()

    make_visit(other_agenda, patient)
    assert _list(other_practitioner, other_agenda.practice, patient) == []
    assert AuditEvent.objects.count() == before + 1


def test_flags_of_a_stranger_need_break_glass(practitioner, practice, stranger):
    with pytest.raises(BreakGlassRequired):
        _list(practitioner, practice, stranger)

    assert _list(practitioner, practice, stranger, break_glass_reason="Urgence") == []
    (event,) = AuditEvent.objects.all()
    assert (event.action, event.flagged, event.reason) == (
        "break_glass",
        True,
        "Urgence",
    )


def test_a_removed_flag_is_kept_but_no_longer_listed(
    flagged, practitioner, secretary, practice, patient
):
    allergy, interpreter = flagged

    remove_flag(actor=secretary, practice_id=practice.pk, flag_id=interpreter.pk)
    remove_flag(actor=practitioner, practice_id=practice.pk, flag_id=allergy.pk)

    assert _list(practitioner, practice, patient) == []
    interpreter.refresh_from_db()
    assert interpreter.removed_by == secretary
    assert interpreter.removed_at is not None
    with pytest.raises(FlagNotFound):
        remove_flag(actor=practitioner, practice_id=practice.pk, flag_id=allergy.pk)


def test_a_clinical_flag_is_not_found_for_those_who_may_not_see_it(
    flagged, secretary, practice
):
    allergy, _interpreter = flagged
    before = AuditEvent.objects.count()

    with pytest.raises(FlagNotFound):
        remove_flag(actor=secretary, practice_id=practice.pk, flag_id=allergy.pk)
    with pytest.raises(FlagNotFound):
        remove_flag(actor=secretary, practice_id=practice.pk, flag_id=987654)

    allergy.refresh_from_db()
    assert allergy.removed_at is None
    assert AuditEvent.objects.count() == before
