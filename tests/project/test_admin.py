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


@pytest.mark.django_db
def test_opening_a_patient_or_an_appointment_in_the_admin_is_audited(
    patient, enroll_totp, totp_secret, motive, frozen_now
):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from carnet.audit.models import AuditEvent
    from carnet.booking.services import book_appointment

    appointment = book_appointment(
        agenda_id=motive.agenda_id,
        motive_id=motive.pk,
        patient=patient,
        starts_at=datetime(2026, 3, 3, 9, 0, tzinfo=ZoneInfo("Europe/Paris")),
        booked_by=patient.account,
    )
    admin_user = User.objects.create_superuser("root@example.test", "a-long-pw-123")
    enroll_totp(admin_user)
    client = Client()
    login_with_totp(
        client, email="root@example.test", password="a-long-pw-123", secret=totp_secret
    )

    assert (
        client.get(
            reverse("admin:accounts_patient_change", args=[patient.pk])
        ).status_code
        == 200
    )
    assert (
        client.get(
            reverse("admin:booking_appointment_change", args=[appointment.pk])
        ).status_code
        == 200
    )

    events = list(
        AuditEvent.objects.order_by("pk").values_list(
            "actor_id", "purpose", "patient_ref"
        )
    )
    assert events == [(admin_user.pk, "administration", f"patient:{patient.pk}")] * 2
