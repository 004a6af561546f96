"""A model that uses sealed fields, kept out of the project's app registry.

It lives in its own `Apps`, so makemigrations, the admin and other suites never see
it; conftest.py creates its table for the test session and registers its sealed
columns with the vault (as a real model's fields do on their own).
"""

import uuid

from django.apps.registry import Apps
from django.db import models

from carnet.vault.fields import SealedDateField, SealedTextField

test_apps = Apps()


class SealedNote(models.Model):
    vault_row = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    owner = models.CharField(max_length=64)
    title = models.CharField(max_length=64, blank=True)
    reason = SealedTextField("reason", blank=True, max_length=50)
    born_on = SealedDateField("born on", blank=True)

    class Meta:
        app_label = "vault"
        apps = test_apps
        db_table = "vault_test_sealed_note"

    def __str__(self) -> str:
        return f"note {self.pk}"

    def vault_subject(self) -> str:
        return f"patient:{self.owner}"


class NotAdopted(models.Model):
    """Uses a sealed field without the contract (no vault_row, no vault_subject)."""

    secret = SealedTextField("secret", blank=True)

    class Meta:
        app_label = "vault"
        apps = test_apps
        db_table = "vault_test_not_adopted"

    def __str__(self) -> str:
        return f"not adopted {self.pk}"
