"""Routes of the workspace's patients pages (included by carnet.pro.urls)."""

from django.urls import URLPattern, path

from carnet.pro.views import patients

FILE = "practices/<int:practice_id>/patients/<int:patient_id>/"

urlpatterns: list[URLPattern] = [
    path("practices/<int:practice_id>/patients/", patients.patients, name="patients"),
    path(FILE, patients.patient_detail, name="patient-detail"),
    path(
        f"{FILE}break-glass/",
        patients.patient_break_glass,
        name="patient-break-glass",
    ),
    path(f"{FILE}notes/", patients.note_add, name="patient-note-add"),
    path(f"{FILE}notes/<int:note_id>/", patients.note_detail, name="patient-note"),
    path(f"{FILE}flags/", patients.flag_add, name="patient-flag-add"),
    path(
        f"{FILE}flags/<int:flag_id>/remove/",
        patients.flag_remove,
        name="patient-flag-remove",
    ),
]
