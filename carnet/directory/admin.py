from django.contrib import admin

from carnet.directory.models import (
    Location,
    Practice,
    Practitioner,
    PractitionerRole,
    Specialty,
)


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_fr", "name_de", "name_it"]
    search_fields = ["code", "name_en", "name_fr", "name_de", "name_it"]


class LocationInline(admin.TabularInline):
    model = Location
    extra = 0


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "is_active"]
    list_filter = ["country", "is_active"]
    search_fields = ["name"]
    inlines = [LocationInline]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["practice", "address", "postcode", "city", "country"]
    list_filter = ["country"]
    search_fields = ["city", "postcode", "practice__name"]
    raw_id_fields = ["practice"]


class RoleInline(admin.TabularInline):
    model = PractitionerRole
    extra = 0
    raw_id_fields = ["practice", "location"]


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = [
        "last_name",
        "first_name",
        "specialty",
        "identifier_system",
        "identifier",
    ]
    list_filter = ["specialty", "identifier_system"]
    search_fields = ["last_name", "first_name", "identifier"]
    raw_id_fields = ["account"]
    inlines = [RoleInline]


@admin.register(PractitionerRole)
class PractitionerRoleAdmin(admin.ModelAdmin):
    list_display = ["practitioner", "practice", "location", "is_active"]
    raw_id_fields = ["practitioner", "practice", "location"]
