from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from carnet.audit.models import AuditChainHead, AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewing only: nobody adds, changes or deletes audit rows, superusers included."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "occurred_at",
        "actor_kind",
        "actor_id",
        "actor_label",
        "action",
        "purpose",
        "patient_ref",
        "resource",
        "flagged",
    ]
    list_filter = ["action", "purpose", "flagged", "actor_kind"]
    search_fields = ["=patient_ref", "=resource", "=request_id", "=ip_pseudonym"]
    ordering = ["-id"]
    # COUNT(*) over millions of rows on every page view is not worth it.
    show_full_result_count = False
    list_per_page = 50


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(ReadOnlyAdmin):
    list_display = ["id", "last_event_id", "last_hash"]
