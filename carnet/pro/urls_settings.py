"""Routes of the workspace's settings pages (included by carnet.pro.urls).

Under settings/ so that they never meet the agenda's agendas/<id>/<day>/ routes.
"""

from django.urls import URLPattern, path

from carnet.pro.views import settings as views

urlpatterns: list[URLPattern] = [
    path(
        "practices/<int:practice_id>/settings/",
        views.settings_home,
        name="settings",
    ),
    path(
        "practices/<int:practice_id>/settings/reminders/",
        views.reminders,
        name="settings-reminders",
    ),
    path(
        "settings/agendas/<int:agenda_id>/hours/",
        views.hours,
        name="settings-hours",
    ),
    path(
        "settings/agendas/<int:agenda_id>/hours/preview/",
        views.hours_preview,
        name="settings-hours-preview",
    ),
    path("settings/rules/<int:rule_id>/", views.rule_edit, name="rule-edit"),
    path(
        "settings/rules/<int:rule_id>/delete/",
        views.rule_delete,
        name="rule-delete",
    ),
    path(
        "settings/agendas/<int:agenda_id>/motives/",
        views.motives,
        name="settings-motives",
    ),
    path(
        "settings/agendas/<int:agenda_id>/motives/add/",
        views.motive_create,
        name="motive-create",
    ),
    path("settings/motives/<int:motive_id>/", views.motive_edit, name="motive-edit"),
    path(
        "settings/motives/<int:motive_id>/deactivate/",
        views.motive_deactivate,
        name="motive-deactivate",
    ),
    path(
        "settings/motives/<int:motive_id>/reactivate/",
        views.motive_reactivate,
        name="motive-reactivate",
    ),
    path(
        "settings/agendas/<int:agenda_id>/absences/",
        views.absences,
        name="settings-absences",
    ),
    path(
        "settings/absences/<int:absence_id>/delete/",
        views.absence_delete,
        name="absence-delete",
    ),
    path(
        "settings/agendas/<int:agenda_id>/holidays/",
        views.holidays_page,
        name="settings-holidays",
    ),
    path(
        "settings/agendas/<int:agenda_id>/holidays/region/",
        views.holidays_region,
        name="holidays-region",
    ),
    path(
        "settings/agendas/<int:agenda_id>/holidays/apply/",
        views.holidays_apply,
        name="holidays-apply",
    ),
    path(
        "settings/agendas/<int:agenda_id>/feeds/",
        views.feeds_page,
        name="settings-feeds",
    ),
    path(
        "settings/feeds/<int:feed_id>/revoke/",
        views.feed_revoke,
        name="feed-revoke",
    ),
]
