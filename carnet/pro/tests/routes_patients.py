"""The patient pages in the permission matrix (see matrix.py).

The World's flag is an allergy: only those who write clinical notes may
remove it (and the others do not even see it: 404). `extend` adds a
practical flag (interpreter) for the front desk's route.
"""

from carnet.accounts.roles import Permission
from carnet.pro.tests.matrix import Route
from carnet.records.models import PatientFlag

CONTACT = Permission.VIEW_CONTACT_DETAILS


def extend(w):
    w.practical_flag = PatientFlag(
        patient=w.patient,
        practice=w.practice,
        kind=PatientFlag.Kind.INTERPRETER,
        created_by_id=w.note.author_id,
    )
    w.practical_flag.label = "Interprete secret"
    w.practical_flag.save()
    w.secrets.append("Interprete secret")


def _file(w, **more):
    return {"practice_id": w.practice.pk, "patient_id": w.patient.pk, **more}


ROUTES = [
    Route(
        "pro:patients",
        CONTACT,
        kwargs=lambda w: {"practice_id": w.practice.pk},
        query=lambda w: {"q": w.patient.last_name[:6]},
    ),
    Route("pro:patient-detail", CONTACT, kwargs=_file),
    Route(
        "pro:patient-break-glass",
        CONTACT,
        method="POST",
        kwargs=_file,
        data=lambda w: {"reason": "Matrix: urgent call from the hospital"},
    ),
    Route(
        "pro:patient-note-add",
        Permission.WRITE_CLINICAL_NOTES,
        method="POST",
        kwargs=_file,
        data=lambda w: {"text": "Matrix note"},
    ),
    Route(
        "pro:patient-note",
        Permission.VIEW_CLINICAL_NOTES,
        kwargs=lambda w: _file(w, note_id=w.note.pk),
    ),
    Route(
        "pro:patient-note",
        Permission.WRITE_CLINICAL_NOTES,
        method="POST",
        kwargs=lambda w: _file(w, note_id=w.note.pk),
        data=lambda w: {"text": "Matrix correction"},
    ),
    Route(
        "pro:patient-flag-add",
        Permission.MANAGE_APPOINTMENTS,
        method="POST",
        kwargs=_file,
        data=lambda w: {"kind": "mobility", "label": "Matrix wheelchair"},
    ),
    Route(
        "pro:patient-flag-remove",
        Permission.MANAGE_APPOINTMENTS,
        method="POST",
        kwargs=lambda w: _file(w, flag_id=w.practical_flag.pk),
        data=lambda w: {},
    ),
    Route(
        "pro:patient-flag-remove",
        Permission.WRITE_CLINICAL_NOTES,
        method="POST",
        kwargs=lambda w: _file(w, flag_id=w.flag.pk),
        data=lambda w: {},
    ),
]
