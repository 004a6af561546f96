"""The workspace's first pages and the staff JSON API, for the permission matrix."""

from carnet.accounts.roles import Permission
from carnet.pro.tests.matrix import Route

ROUTES = [
    Route(
        "pro:agenda-day",
        Permission.VIEW_AGENDA,
        kwargs=lambda w: {"agenda_id": w.agenda.pk, "day": w.day.isoformat()},
    ),
    Route(
        "pro:day-sheet",
        Permission.VIEW_AGENDA,
        kwargs=lambda w: {"agenda_id": w.agenda.pk, "day": w.day.isoformat()},
    ),
    Route(
        "api: agenda day",
        Permission.VIEW_AGENDA,
        api=True,
        path=lambda w: f"/api/v1/pro/agendas/{w.agenda.pk}/appointments",
        query=lambda w: {"day": w.day.isoformat()},
    ),
    Route(
        "api: patient file",
        Permission.VIEW_CONTACT_DETAILS,
        api=True,
        path=lambda w: f"/api/v1/pro/practices/{w.practice.pk}/patients/{w.patient.pk}",
    ),
]

EXEMPT = {
    "pro:home": "lists only the visitor's own practices (test_home.py)",
    "pro:agenda-feed": "no session: the secret token is the credential (test_feed.py)",
}
