"""Routes of the workspace's agenda pages (included by carnet.pro.urls)."""

from django.urls import URLPattern, path

from carnet.pro.views import agenda, agenda_booking

urlpatterns: list[URLPattern] = [
    path(
        "practices/<int:practice_id>/agenda/",
        agenda.practice_agenda,
        name="practice-agenda",
    ),
    path(
        "practices/<int:practice_id>/agenda/book/",
        agenda_booking.book,
        name="agenda-book",
    ),
    path(
        "practices/<int:practice_id>/agenda/patients/new/",
        agenda_booking.new_patient,
        name="agenda-patient-new",
    ),
    path(
        "appointments/<int:appointment_id>/",
        agenda.appointment_detail,
        name="appointment-detail",
    ),
    path(
        "appointments/<int:appointment_id>/move/",
        agenda.move,
        name="appointment-move",
    ),
    path(
        "appointments/<int:appointment_id>/cancel/",
        agenda.cancel,
        name="appointment-cancel",
    ),
    path(
        "appointments/<int:appointment_id>/status/",
        agenda.set_status,
        name="appointment-status",
    ),
    path(
        "running-late/<int:agenda_id>/",
        agenda.running_late,
        name="running-late",
    ),
]
