from django.contrib import admin

from carnet.booking.models import Appointment


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = [
        "starts_at",
        "agenda",
        "patient",
        "motive",
        "status",
        "booked_by_kind",
    ]
    list_filter = ["status", "booked_by_kind"]
    date_hierarchy = "starts_at"
    raw_id_fields = ["agenda", "patient", "motive", "booked_by"]
    readonly_fields = ["idempotency_key", "cancelled_at"]
