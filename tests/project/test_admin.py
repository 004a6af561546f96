"""The Django admin lists and opens the form of every Carnet model."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from carnet.accounts.models import User
from conftest import login_with_totp

CARNET_MODELS = [
    model
    for model in apps.get_models()
    if model.__module__.startswith("carnet.") and not model._meta.abstract
]


def test_every_carnet_model_is_registered():
    missing = [m.__name__ for m in CARNET_MODELS if not admin.site.is_registered(m)]
    assert missing == []


@pytest.mark.django_db
@pytest.mark.parametrize("model", CARNET_MODELS, ids=lambda m: m.__name__)
def test_admin_changelist_and_add_page_open(
    model, agenda, motive, enroll_totp, totp_secret
):
    enroll_totp(User.objects.create_superuser("root@example.test", "a-long-pw-123"))
    client = Client()
    login_with_totp(
        client, email="root@example.test", password="a-long-pw-123", secret=totp_secret
    )
    meta = model._meta

    changelist = client.get(
        reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    )
    add = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))

    assert changelist.status_code == 200
    # Append-only models (the audit trail) refuse the add form to everyone.
    expected_add = (
        200
        if admin.site._registry[model].has_add_permission(changelist.wsgi_request)
        else 403
    )
    assert add.status_code == expected_add
