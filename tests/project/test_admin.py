"""The Django admin lists and opens the form of every Carnet model."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from carnet.accounts.models import User

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
def test_admin_changelist_and_add_page_open(model, agenda, motive):
    User.objects.create_superuser("root@example.test", "pw")
    client = Client()
    client.force_login(User.objects.get(email="root@example.test"))
    meta = model._meta

    changelist = client.get(
        reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    )
    add = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))

    assert changelist.status_code == 200
    assert add.status_code == 200
