from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from carnet.accounts.models import (
    ApiToken,
    Invitation,
    NotificationPreferences,
    Patient,
    StaffMembership,
    User,
)
from carnet.accounts.selectors import patient_audit_ref
from carnet.audit.services import record_event


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "language")}),
        (
            _("Permissions"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),
    )


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "relationship", "account", "managed_by"]
    search_fields = ["last_name", "first_name", "account__email"]
    raw_id_fields = ["account", "managed_by"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Opening a patient's record in the admin is a staff read: it is traced.
        if str(object_id).isdigit() and Patient.objects.filter(pk=object_id).exists():
            record_event(
                actor_id=request.user.pk,
                actor_kind="staff",
                actor_label=request.user.get_full_name()[:120],
                action="read",
                resource="admin:patient",
                patient_ref=patient_audit_ref(int(object_id)),
                purpose="administration",
            )
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "user",
        "name",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    raw_id_fields = ["user"]
    readonly_fields = ["prefix", "digest", "last_used_at"]


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "practice", "role", "is_active"]
    list_filter = ["role", "is_active"]
    raw_id_fields = ["user", "practice"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    # Invitations are sent and accepted through the team services (tokens,
    # audit events); the admin only shows them.
    list_display = [
        "email",
        "practice",
        "role",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]
    list_filter = ["role"]
    search_fields = ["email"]
    raw_id_fields = ["practice", "invited_by", "accepted_by"]
    readonly_fields = ["token_digest", "accepted_at", "accepted_by", "revoked_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(NotificationPreferences)
class NotificationPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "email_reminders", "sms_reminders", "reminder_offsets"]
    list_filter = ["email_reminders", "sms_reminders"]
    raw_id_fields = ["user"]
