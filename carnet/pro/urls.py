"""The practitioner's workspace under /pro/ (StaffMfaMiddleware guards it).

Every page needs a staff session that passed a second factor; the calendar
feed is the exception: its secret URL is the credential. Each area keeps its
routes in its own module; all share the "pro" namespace.
"""

from django.urls import path

from carnet.pro import (
    urls_agenda,
    urls_messages,
    urls_patients,
    urls_settings,
    urls_team,
    urls_waitlist,
)
from carnet.pro.views import day, home

app_name = "pro"
urlpatterns = [
    path("", home.workspace_home, name="home"),
    path("agendas/<int:agenda_id>/<str:day>/", day.agenda_day, name="agenda-day"),
    path(
        "agendas/<int:agenda_id>/<str:day>/print/",
        day.day_sheet,
        name="day-sheet",
    ),
    path("feeds/<str:token>.ics", day.agenda_feed, name="agenda-feed"),
    *urls_agenda.urlpatterns,
    *urls_settings.urlpatterns,
    *urls_team.urlpatterns,
    *urls_patients.urlpatterns,
    *urls_waitlist.urlpatterns,
    *urls_messages.urlpatterns,
]
