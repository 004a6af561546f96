from django.contrib import admin

from carnet.scheduling.models import Absence, Agenda, OpeningRule, VisitMotive


class MotiveInline(admin.TabularInline):
    model = VisitMotive
    extra = 0


class OpeningRuleInline(admin.TabularInline):
    model = OpeningRule
    extra = 0


@admin.register(Agenda)
class AgendaAdmin(admin.ModelAdmin):
    list_display = ["__str__", "practice", "time_zone", "is_active"]
    list_filter = ["time_zone", "is_active"]
    search_fields = ["name", "practitioner__last_name", "practice__name"]
    raw_id_fields = ["practice", "practitioner", "location"]
    inlines = [MotiveInline, OpeningRuleInline]


@admin.register(VisitMotive)
class VisitMotiveAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "agenda",
        "duration_minutes",
        "channel",
        "open_to_new_patients",
    ]
    list_filter = ["channel", "open_to_new_patients"]
    raw_id_fields = ["agenda"]


@admin.register(OpeningRule)
class OpeningRuleAdmin(admin.ModelAdmin):
    list_display = [
        "agenda",
        "weekday",
        "opens_time",
        "closes_time",
        "valid_on",
        "valid_until_on",
    ]
    raw_id_fields = ["agenda"]
    filter_horizontal = ["motives"]


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    list_display = ["agenda", "starts_at", "ends_at", "label"]
    raw_id_fields = ["agenda"]
