from django.contrib import admin

from carnet.directory.models import (
    Location,
    Practice,
    Practitioner,
    PractitionerRole,
    SearchEntry,
    Specialty,
)
from carnet.directory.services import reindex_agendas
from carnet.scheduling.models import Agenda


class ReindexOnSave(admin.ModelAdmin):
    """Rebuild the search entries an edit touches (explicitly: no signals)."""

    agenda_filter = ""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        reindex_agendas(
            agenda_ids=Agenda.objects.filter(**{self.agenda_filter: obj}).values_list(
                "pk", flat=True
            )
        )


@admin.register(Specialty)
class SpecialtyAdmin(ReindexOnSave):
    agenda_filter = "practitioner__specialty"
    list_display = ["code", "name_en", "name_fr", "name_de", "name_it"]
    search_fields = ["code", "name_en", "name_fr", "name_de", "name_it"]


class LocationInline(admin.TabularInline):
    model = Location
    extra = 0


@admin.register(Practice)
class PracticeAdmin(ReindexOnSave):
    agenda_filter = "practice"
    list_display = ["name", "country", "is_active"]
    list_filter = ["country", "is_active"]
    search_fields = ["name"]
    inlines = [LocationInline]


@admin.register(Location)
class LocationAdmin(ReindexOnSave):
    agenda_filter = "location"
    list_display = ["practice", "address", "postcode", "city", "country", "step_free"]
    list_filter = ["country", "step_free"]
    search_fields = ["city", "postcode", "practice__name"]
    raw_id_fields = ["practice"]


class RoleInline(admin.TabularInline):
    model = PractitionerRole
    extra = 0
    raw_id_fields = ["practice", "location"]


@admin.register(Practitioner)
class PractitionerAdmin(ReindexOnSave):
    agenda_filter = "practitioner"
    list_display = [
        "last_name",
        "first_name",
        "specialty",
        "identifier_system",
        "identifier",
        "fee_sector",
    ]
    list_filter = ["specialty", "identifier_system", "fee_sector"]
    search_fields = ["last_name", "first_name", "identifier"]
    raw_id_fields = ["account"]
    inlines = [RoleInline]


@admin.register(PractitionerRole)
class PractitionerRoleAdmin(admin.ModelAdmin):
    list_display = ["practitioner", "practice", "location", "is_active"]
    raw_id_fields = ["practitioner", "practice", "location"]


@admin.register(SearchEntry)
class SearchEntryAdmin(admin.ModelAdmin):
    """Derived data: read it here, rebuild it with `manage.py reindex_search`."""

    list_display = [
        "agenda",
        "practitioner",
        "city",
        "postcode",
        "fee_sector",
        "accepts_new_patients",
        "has_video",
        "next_slot_at",
    ]
    list_filter = ["country", "fee_sector", "has_video", "accepts_new_patients"]
    search_fields = ["city", "postcode", "practitioner__last_name"]
    list_select_related = ["agenda__location", "agenda__practitioner", "practitioner"]
    raw_id_fields = ["agenda", "practitioner", "practice", "location", "specialty"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
