"""The agenda's pages (carnet/pro/views/agenda.py), for the permission matrix."""

from carnet.accounts.roles import Permission
from carnet.pro.tests.matrix import Route
from carnet.pro.views.agenda_booking import patient_token

BOOK = Permission.MANAGE_APPOINTMENTS


def _practice(w):
    return {"practice_id": w.practice.pk}


def _appointment(w):
    return {"appointment_id": w.appointment.pk}


ROUTES = [
    Route(
        "pro:practice-agenda",
        Permission.VIEW_AGENDA,
        kwargs=_practice,
        query=lambda w: {"date": w.day.isoformat()},
    ),
    Route(
        "pro:practice-agenda",
        Permission.VIEW_AGENDA,
        kwargs=_practice,
        query=lambda w: {
            "date": w.day.isoformat(),
            "view": "week",
            "agenda": w.agenda.pk,
        },
    ),
    Route(
        "pro:agenda-book",
        BOOK,
        kwargs=_practice,
        query=lambda w: {"agenda": w.agenda.pk, "date": w.day.isoformat()},
    ),
    Route(
        "pro:agenda-book",
        BOOK,
        method="POST",
        kwargs=_practice,
        data=lambda w: {
            "action": "search",
            "find-phone": w.patient.phone,
            "motive": w.motive.pk,
            "date": w.day.isoformat(),
            "time": "15:00",
        },
    ),
    Route(
        "pro:agenda-book",
        BOOK,
        method="POST",
        kwargs=_practice,
        data=lambda w: {
            "action": "book",
            "motive": w.motive.pk,
            "date": w.day.isoformat(),
            "time": "15:00",
            "patient": patient_token(
                practice_id=w.practice.pk, patient_id=w.patient.pk
            ),
        },
    ),
    Route("pro:agenda-patient-new", BOOK, kwargs=_practice),
    Route(
        "pro:agenda-patient-new",
        BOOK,
        method="POST",
        kwargs=_practice,
        data=lambda w: {
            "first_name": "Nouvelle",
            "last_name": "Patiente",
            "birth_date": "1990-01-02",
            "phone": "+33611223344",
        },
    ),
    Route("pro:appointment-detail", Permission.VIEW_AGENDA, kwargs=_appointment),
    Route("pro:appointment-move", BOOK, kwargs=_appointment),
    Route(
        "pro:appointment-move",
        BOOK,
        method="POST",
        kwargs=_appointment,
        data=lambda w: {"date": w.day.isoformat(), "time": "11:00", "notify": "on"},
    ),
    Route(
        "pro:appointment-move",
        BOOK,
        method="POST",
        kwargs=_appointment,
        data=lambda w: {
            "starts_at": w.appointment.starts_at.replace(hour=12).isoformat(),
            "agenda": str(w.agenda.pk),
            "notify": "on",
        },
    ),
    Route("pro:appointment-cancel", BOOK, kwargs=_appointment),
    Route(
        "pro:appointment-cancel",
        BOOK,
        method="POST",
        kwargs=_appointment,
        data=lambda w: {"reason": "Praticien malade", "notify": "on"},
    ),
    Route(
        "pro:appointment-status",
        BOOK,
        method="POST",
        kwargs=lambda w: {"appointment_id": w.past_appointment.pk},
        data=lambda w: {"status": "arrived"},
    ),
    Route(
        "pro:appointment-status",
        BOOK,
        method="POST",
        kwargs=lambda w: {"appointment_id": w.past_appointment.pk},
        data=lambda w: {"status": "noshow"},
    ),
    Route("pro:running-late", BOOK, kwargs=lambda w: {"agenda_id": w.agenda.pk}),
    Route(
        "pro:running-late",
        BOOK,
        method="POST",
        kwargs=lambda w: {"agenda_id": w.agenda.pk},
        data=lambda w: {"minutes": "15"},
    ),
]
