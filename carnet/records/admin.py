from django.contrib import admin

from carnet.records.models import ClinicalNote, NoteRevision, PatientFlag

# The admin shows that notes and flags exist, never their content (sealed
# fields render as "•••"); they are written through carnet.records.services,
# which checks the role and records the access.


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ClinicalNote)
class ClinicalNoteAdmin(_ReadOnlyAdmin):
    list_display = ["pk", "practice", "patient", "author", "created_at", "updated_at"]
    raw_id_fields = ["patient", "practice", "author", "appointment"]


@admin.register(NoteRevision)
class NoteRevisionAdmin(_ReadOnlyAdmin):
    list_display = ["pk", "note", "written_at", "replaced_at"]
    raw_id_fields = ["note"]


@admin.register(PatientFlag)
class PatientFlagAdmin(_ReadOnlyAdmin):
    list_display = ["pk", "practice", "patient", "kind", "created_at", "removed_at"]
    list_filter = ["kind"]
    raw_id_fields = ["patient", "practice", "created_by", "removed_by"]
