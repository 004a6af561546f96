from django.contrib import admin

from carnet.accounts.selectors import patient_audit_ref
from carnet.audit.services import record_event
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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Opening an appointment in the admin is a staff read of its patient's data.
        patient_id = (
            Appointment.objects.filter(pk=object_id)
            .values_list("patient_id", flat=True)
            .first()
            if str(object_id).isdigit()
            else None
        )
        if patient_id is not None:
            record_event(
                actor_id=request.user.pk,
                actor_kind="staff",
                actor_label=request.user.get_full_name()[:120],
                action="read",
                resource=f"admin:appointment:{object_id}",
                patient_ref=patient_audit_ref(patient_id),
                purpose="administration",
            )
        return super().change_view(request, object_id, form_url, extra_context)
