from django.contrib import admin
from django.db import transaction

from carnet.accounts.selectors import patient_audit_ref
from carnet.audit.services import record_event
from carnet.booking.models import (
    Appointment,
    AppointmentChange,
    NextAvailability,
    NoShowPolicy,
    RunningLate,
    SlotHold,
    Strike,
    WaitingListEntry,
    WaitlistOffer,
)
from carnet.booking.nextslots import refresh_agenda
from carnet.scheduling.selectors import lock_agenda


def _record_admin_read(request, model, object_id, name) -> None:
    """Opening a row about a patient in the admin is a staff read of their data."""
    patient_id = (
        model.objects.filter(pk=object_id).values_list("patient_id", flat=True).first()
        if str(object_id).isdigit()
        else None
    )
    if patient_id is not None:
        record_event(
            actor_id=request.user.pk,
            actor_kind="staff",
            actor_label=request.user.get_full_name()[:100],
            action="read",
            resource=f"admin:{name}:{object_id}",
            patient_ref=patient_audit_ref(patient_id),
            purpose="administration",
        )


def _lock_agendas(agenda_ids) -> None:
    for agenda_id in sorted(agenda_ids):
        lock_agenda(agenda_id=agenda_id)


def _refresh_agendas(agenda_ids) -> None:
    with transaction.atomic():
        for agenda_id in sorted(agenda_ids):
            refresh_agenda(agenda_id=agenda_id)


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = [
        "starts_at",
        "agenda",
        "patient",
        "motive",
        "status",
        "is_overbooked",
        "booked_by_kind",
    ]
    list_filter = ["status", "is_overbooked", "booked_by_kind"]
    date_hierarchy = "starts_at"
    raw_id_fields = ["agenda", "patient", "motive", "booked_by"]
    readonly_fields = [
        "idempotency_key",
        "cancelled_at",
        "arrived_at",
        "consultation_started_at",
        "fulfilled_at",
        "no_show_at",
    ]

    # Edits here bypass the booking services: the agendas' next-availability
    # index is refreshed explicitly (STYLE: no model signals).
    def save_model(self, request, obj, form, change):
        previous = (
            Appointment.objects.filter(pk=obj.pk)
            .values_list("agenda_id", flat=True)
            .first()
            if change
            else None
        )
        agenda_ids = sorted({obj.agenda_id, previous} - {None})
        _lock_agendas(agenda_ids)  # before the row, as the booking services do
        super().save_model(request, obj, form, change)
        _refresh_agendas(agenda_ids)

    def delete_model(self, request, obj):
        _lock_agendas([obj.agenda_id])
        super().delete_model(request, obj)
        _refresh_agendas([obj.agenda_id])

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        agenda_ids = sorted(set(queryset.values_list("agenda_id", flat=True)))
        _lock_agendas(agenda_ids)
        super().delete_queryset(request, queryset)
        _refresh_agendas(agenda_ids)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        _record_admin_read(request, Appointment, object_id, "appointment")
        return super().change_view(request, object_id, form_url, extra_context)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Derived rows, written only by the booking services: shown, never edited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SlotHold)
class SlotHoldAdmin(ReadOnlyAdmin):
    # `holder` is a session token: never displayed.
    list_display = ["starts_at", "agenda", "motive", "expires_at"]
    fields = ["agenda", "motive", "starts_at", "ends_at", "expires_at", "created_at"]
    date_hierarchy = "starts_at"
    raw_id_fields = ["agenda", "motive"]

    def has_delete_permission(self, request, obj=None):
        # Releasing goes through release_hold (it refreshes the index).
        return False


@admin.register(NextAvailability)
class NextAvailabilityAdmin(ReadOnlyAdmin):
    list_display = ["motive", "agenda", "first_slot_at", "exhausted", "computed_at"]
    list_filter = ["exhausted"]
    raw_id_fields = ["agenda", "motive"]


@admin.register(AppointmentChange)
class AppointmentChangeAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "appointment",
        "kind",
        "notify_patient",
        "notified_at",
    ]
    list_filter = ["kind", "notify_patient"]
    raw_id_fields = ["appointment", "actor"]


@admin.register(RunningLate)
class RunningLateAdmin(ReadOnlyAdmin):
    list_display = ["day", "agenda", "minutes", "created_at", "notified_at"]
    date_hierarchy = "day"
    raw_id_fields = ["agenda", "actor", "appointments"]


@admin.register(NoShowPolicy)
class NoShowPolicyAdmin(admin.ModelAdmin):
    list_display = ["practice", "enabled", "strikes_to_block", "strike_expiry_days"]
    list_filter = ["enabled"]
    raw_id_fields = ["practice"]


@admin.register(Strike)
class StrikeAdmin(ReadOnlyAdmin):
    # The excuse is sealed: the admin shows a mask, never the text.
    list_display = ["created_at", "patient", "practice", "expires_at", "excused_at"]
    raw_id_fields = ["patient", "practice", "appointment", "excuse_decided_by"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        _record_admin_read(request, Strike, object_id, "strike")
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(WaitingListEntry)
class WaitingListEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "patient", "agenda", "motive", "status", "latest_on"]
    list_filter = ["status"]
    raw_id_fields = ["patient", "agenda", "motive", "created_by"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        _record_admin_read(request, WaitingListEntry, object_id, "waiting-list")
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(WaitlistOffer)
class WaitlistOfferAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "agenda", "starts_at", "status", "expires_at"]
    list_filter = ["status"]
    # `ref` makes the offer's link: never displayed.
    exclude = ["ref"]
    raw_id_fields = [
        "entry",
        "agenda",
        "motive",
        "appointment",
        "released_appointment",
        "freed_appointment",
    ]
