from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from carnet.vault.models import SYSTEM_SUBJECT_PREFIX, DataKey
from carnet.vault.services import provision_data_key


class ProvisionForm(forms.ModelForm):
    class Meta:
        model = DataKey
        fields = ["subject"]

    def clean_subject(self) -> str:
        subject = self.cleaned_data["subject"].strip()
        if subject.startswith(SYSTEM_SUBJECT_PREFIX):
            raise forms.ValidationError(_("This subject belongs to the vault itself."))
        if DataKey.objects.filter(subject=subject).exists():
            raise forms.ValidationError(_("This subject already has a data key."))
        return subject


@admin.register(DataKey)
class DataKeyAdmin(admin.ModelAdmin):
    """Read-only: keys change through the services and vault_* commands only.

    The add form only provisions a subject's first key (the same as a first seal).
    """

    list_display = [
        "subject",
        "version",
        "kek_id",
        "created_at",
        "retired_at",
        "destroyed_at",
    ]
    list_filter = ["kek_id"]
    search_fields = ["subject"]
    fields = [
        "subject",
        "version",
        "kek_id",
        "created_at",
        "retired_at",
        "destroyed_at",
    ]
    readonly_fields = ["version", "kek_id", "created_at", "retired_at", "destroyed_at"]

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ProvisionForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields if obj is not None else ["subject"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*self.readonly_fields, "subject"] if obj is not None else []

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        key = provision_data_key(subject=obj.subject)
        obj.__dict__.update(
            {f.attname: getattr(key, f.attname) for f in DataKey._meta.concrete_fields}
        )
        obj._state.adding = False
