"""The outbox in the admin: read-only (messages are written by the outbox alone)."""

from django.contrib import admin

from carnet.notifications.models import InboundReply, Message, OutboxSweep


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows an operator may look at but never write."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = [
        "due_at",
        "kind",
        "channel",
        "status",
        "attempts",
        "error_code",
        "practice",
    ]
    list_filter = ["status", "kind", "channel"]
    # The key names an appointment by its opaque vault row; no patient field
    # is listed or searchable here.
    search_fields = ["key"]
    raw_id_fields = ["patient", "appointment", "practice"]


@admin.register(InboundReply)
class InboundReplyAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "outcome", "provider_message_id"]
    list_filter = ["outcome"]


@admin.register(OutboxSweep)
class OutboxSweepAdmin(ReadOnlyAdmin):
    list_display = ["pk", "next_at"]
