"""The practice settings pages, for the permission matrix (test_permission_matrix.py).

The reminder switches, hours, motives and calendar feeds need MANAGE_SETTINGS
(practitioners and practice administrators); absences and public holidays MANAGE_ABSENCES (the
whole team, secretaries included); the region of the holidays MANAGE_SETTINGS.
Every `data` is valid input: the world's rules open every day 00:00–23:55, so
a new rule takes 23:55–23:59.
"""

from datetime import timedelta

from carnet.accounts.roles import Permission
from carnet.pro.tests.matrix import Route

SETTINGS = Permission.MANAGE_SETTINGS
ABSENCES = Permission.MANAGE_ABSENCES


def _agenda(w):
    return {"agenda_id": w.agenda.pk}


def _motive(w):
    return {"motive_id": w.motive.pk}


def _rule_data(w):
    return {"weekday": "0", "opens": "23:55", "closes": "23:59"}


def _motive_data(w):
    return {
        "name": "Bilan annuel",
        "duration_minutes": "30",
        "channel": "in_person",
        "open_to_new_patients": "on",
        "min_notice_minutes": "60",
        "horizon_days": "90",
        "cancellation_cutoff_hours": "24",
        "price": "30",
        "currency": "EUR",
        "colour": "#3D7EAA",
        "reminders_enabled": "on",
        "question_1": "Avez-vous une ordonnance ?",
        "question_1_required": "on",
    }


def _absence_data(w):
    day = w.day + timedelta(days=60)
    return {
        "starts": f"{day.isoformat()}T08:00",
        "ends": f"{day.isoformat()}T12:00",
        "label": "Formation",
    }


ROUTES = [
    Route(
        "pro:settings",
        SETTINGS,
        kwargs=lambda w: {"practice_id": w.practice.pk},
    ),
    Route(
        "pro:settings-reminders",
        SETTINGS,
        method="POST",
        kwargs=lambda w: {"practice_id": w.practice.pk},
        data=lambda w: {"email_reminders_enabled": "on"},
    ),
    Route("pro:settings-hours", SETTINGS, kwargs=_agenda),
    Route(
        "pro:settings-hours", SETTINGS, method="POST", kwargs=_agenda, data=_rule_data
    ),
    Route(
        "pro:settings-hours-preview",
        SETTINGS,
        method="POST",
        kwargs=_agenda,
        data=lambda w: {"weekday": "5", "opens": "09:00", "closes": "12:00"},
    ),
    Route("pro:rule-edit", SETTINGS, kwargs=lambda w: {"rule_id": w.rule.pk}),
    Route(
        "pro:rule-edit",
        SETTINGS,
        method="POST",
        kwargs=lambda w: {"rule_id": w.rule.pk},
        data=lambda w: {"weekday": "0", "opens": "08:00", "closes": "12:00"},
    ),
    Route(
        "pro:rule-delete",
        SETTINGS,
        method="POST",
        kwargs=lambda w: {"rule_id": w.rule.pk},
        data=lambda w: {},
    ),
    Route("pro:settings-motives", SETTINGS, kwargs=_agenda),
    Route("pro:motive-create", SETTINGS, kwargs=_agenda),
    Route(
        "pro:motive-create", SETTINGS, method="POST", kwargs=_agenda, data=_motive_data
    ),
    Route("pro:motive-edit", SETTINGS, kwargs=_motive),
    Route(
        "pro:motive-edit", SETTINGS, method="POST", kwargs=_motive, data=_motive_data
    ),
    Route(
        "pro:motive-deactivate",
        SETTINGS,
        method="POST",
        kwargs=_motive,
        data=lambda w: {},
    ),
    Route(
        "pro:motive-reactivate",
        SETTINGS,
        method="POST",
        kwargs=_motive,
        data=lambda w: {},
    ),
    Route("pro:settings-absences", ABSENCES, kwargs=_agenda),
    Route(
        "pro:settings-absences",
        ABSENCES,
        method="POST",
        kwargs=_agenda,
        data=_absence_data,
    ),
    Route(
        "pro:absence-delete",
        ABSENCES,
        method="POST",
        kwargs=lambda w: {"absence_id": w.absence.pk},
        data=lambda w: {},
    ),
    Route("pro:settings-holidays", ABSENCES, kwargs=_agenda),
    Route(
        "pro:holidays-region",
        SETTINGS,
        method="POST",
        kwargs=_agenda,
        data=lambda w: {"subdivision": "57"},
    ),
    Route(
        "pro:holidays-apply",
        ABSENCES,
        method="POST",
        kwargs=_agenda,
        data=lambda w: {"year": str(w.day.year + 1)},
    ),
    Route("pro:settings-feeds", SETTINGS, kwargs=_agenda),
    Route(
        "pro:settings-feeds",
        SETTINGS,
        method="POST",
        kwargs=_agenda,
        data=lambda w: {"name": "Téléphone"},
    ),
    Route(
        "pro:feed-revoke",
        SETTINGS,
        method="POST",
        kwargs=lambda w: {"feed_id": w.feed.pk},
        data=lambda w: {},
    ),
]
