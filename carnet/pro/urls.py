"""The practitioner's workspace under /pro/ (StaffMfaMiddleware guards it).

Every page needs a staff session that passed a second factor; the calendar
feed is the exception: its secret URL is the credential.
"""

from django.urls import path

from carnet.pro import views

app_name = "pro"
urlpatterns = [
    path("agendas/<int:agenda_id>/<str:day>/", views.agenda_day, name="agenda-day"),
    path(
        "agendas/<int:agenda_id>/<str:day>/print/",
        views.day_sheet,
        name="day-sheet",
    ),
    path("feeds/<str:token>.ics", views.agenda_feed, name="agenda-feed"),
]
