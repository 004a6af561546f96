from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from carnet.booking.nextslots import refresh_agenda
from carnet.core.errors import DomainError
from carnet.directory.services import reindex_agendas
from carnet.scheduling.feeds import revoke_feed
from carnet.scheduling.models import (
    DEFAULT_MOTIVE_COLOUR,
    Absence,
    Agenda,
    AgendaFeed,
    Currency,
    OpeningRule,
    VisitMotive,
)
from carnet.scheduling.services import clean_booking_questions, clean_colour


def _agendas_changed(agenda_ids) -> None:
    """Opening hours, absences or motives changed: rebuild what depends on them.

    Called explicitly by each admin hook (STYLE: no model signals): the search
    entry (new patients accepted, video offered) and the next-availability
    index, in the admin's transaction.
    """
    ids = sorted({pk for pk in agenda_ids if pk is not None})
    if not ids:
        return
    with transaction.atomic():
        reindex_agendas(agenda_ids=ids)
        for agenda_id in ids:
            refresh_agenda(agenda_id=agenda_id)


class RefreshesAgendaAdmin(admin.ModelAdmin):
    """Refreshes the agenda's indexes after every save or delete in the admin."""

    def save_model(self, request, obj, form, change):
        # A row moved to another agenda changes the one it left too.
        form.previous_agenda_id = (
            self.agenda_id_of(type(obj).objects.filter(pk=obj.pk).first())
            if change
            else None
        )
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        # Runs after save_model and after the many-to-many (rule motives) and
        # inlines are saved: the agenda is complete here.
        super().save_related(request, form, formsets, change)
        _agendas_changed(
            [
                self.agenda_id_of(form.instance),
                getattr(form, "previous_agenda_id", None),
            ]
        )

    def delete_model(self, request, obj):
        agenda_id = self.agenda_id_of(obj)
        super().delete_model(request, obj)
        _agendas_changed([agenda_id])

    def delete_queryset(self, request, queryset):
        agenda_ids = [self.agenda_id_of(obj) for obj in queryset]
        super().delete_queryset(request, queryset)
        _agendas_changed(agenda_ids)

    def agenda_id_of(self, obj) -> int | None:
        return obj.agenda_id if obj is not None else None


class VisitMotiveAdminForm(forms.ModelForm):
    """The settings services' checks on colour and booking questions; empty means default."""

    class Meta:
        model = VisitMotive
        fields = "__all__"  # noqa: DJ007 - the platform operator edits every field

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("colour", "currency", "booking_questions"):
            if name in self.fields:
                self.fields[name].required = False

    def clean_colour(self):
        try:
            return clean_colour(
                self.cleaned_data.get("colour") or DEFAULT_MOTIVE_COLOUR
            )
        except DomainError as error:
            raise forms.ValidationError(error.render()) from error

    def clean_currency(self):
        return self.cleaned_data.get("currency") or Currency.EUR

    def clean_booking_questions(self):
        try:
            return clean_booking_questions(
                self.cleaned_data.get("booking_questions") or []
            )
        except DomainError as error:
            raise forms.ValidationError(error.render()) from error


class MotiveInline(admin.TabularInline):
    model = VisitMotive
    form = VisitMotiveAdminForm
    extra = 0


class OpeningRuleInline(admin.TabularInline):
    model = OpeningRule
    extra = 0


@admin.register(Agenda)
class AgendaAdmin(RefreshesAgendaAdmin):
    list_display = ["__str__", "practice", "time_zone", "subdivision", "is_active"]
    list_filter = ["time_zone", "is_active"]
    search_fields = ["name", "practitioner__last_name", "practice__name"]
    raw_id_fields = ["practice", "practitioner", "location"]
    inlines = [MotiveInline, OpeningRuleInline]

    def agenda_id_of(self, obj) -> int | None:
        return obj.pk if obj is not None else None

    def delete_model(self, request, obj):
        # The agenda's index rows and search entry go with it (CASCADE).
        admin.ModelAdmin.delete_model(self, request, obj)

    def delete_queryset(self, request, queryset):
        admin.ModelAdmin.delete_queryset(self, request, queryset)


@admin.register(VisitMotive)
class VisitMotiveAdmin(RefreshesAgendaAdmin):
    form = VisitMotiveAdminForm
    list_display = [
        "name",
        "agenda",
        "duration_minutes",
        "channel",
        "open_to_new_patients",
        "colour",
        "price_minor",
        "is_active",
    ]
    list_filter = ["channel", "open_to_new_patients", "is_active"]
    raw_id_fields = ["agenda"]


@admin.register(OpeningRule)
class OpeningRuleAdmin(RefreshesAgendaAdmin):
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
class AbsenceAdmin(RefreshesAgendaAdmin):
    list_display = ["agenda", "starts_at", "ends_at", "label", "holiday_on"]
    raw_id_fields = ["agenda"]


@admin.register(AgendaFeed)
class AgendaFeedAdmin(admin.ModelAdmin):
    """Feeds are created from the practice settings (the token is shown once there)."""

    list_display = [
        "prefix",
        "agenda",
        "name",
        "show_patient_names",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["show_patient_names"]
    fields = list_display
    readonly_fields = list_display
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected calendar feeds"))
    def revoke(self, request, queryset):
        for feed_id in queryset.values_list("pk", flat=True):
            try:
                revoke_feed(actor=request.user, feed_id=feed_id, request=request)
            except DomainError as error:
                self.message_user(request, error.render(), messages.ERROR)
                return
