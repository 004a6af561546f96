"""The DataKey admin, driven directly (the staff MFA middleware guards its pages)."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from carnet.vault.admin import DataKeyAdmin, ProvisionForm
from carnet.vault.models import DataKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def model_admin():
    return DataKeyAdmin(DataKey, admin.site)


def test_the_add_form_provisions_a_subjects_key(model_admin):
    request = RequestFactory().post("/")
    form = ProvisionForm(data={"subject": " patient:admin "})
    assert form.is_valid(), form.errors
    obj = form.save(commit=False)

    model_admin.save_model(request, obj, form, change=False)

    key = DataKey.objects.get(subject="patient:admin")
    assert obj.pk == key.pk
    assert key.wrapped_key is not None


def test_the_add_form_refuses_system_subjects_and_existing_ones():
    DataKey.objects.create(subject="patient:x", kek_id="k", wrapped_key=b"w" * 40)

    system = ProvisionForm(data={"subject": "system:blind-index"})
    existing = ProvisionForm(data={"subject": "patient:x"})

    assert not system.is_valid()
    assert not existing.is_valid()
    assert DataKey.objects.count() == 1


def test_keys_are_read_only_and_never_show_key_material(model_admin):
    request = RequestFactory().get("/")
    key = DataKey.objects.create(subject="patient:x", kek_id="k", wrapped_key=b"w" * 40)

    assert not model_admin.has_change_permission(request, key)
    assert not model_admin.has_delete_permission(request, key)
    assert "wrapped_key" not in model_admin.get_fields(request, key)
    assert "wrapped_key" not in model_admin.list_display
    assert model_admin.get_fields(request) == ["subject"]
