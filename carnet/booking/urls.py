from django.urls import path

from carnet.booking import views

app_name = "pro"
urlpatterns = [
    path("agendas/<int:agenda_id>/<str:day>/", views.agenda_day, name="agenda-day"),
]
