"""Vault fixtures: a private key file per test, a sealed model with a real table."""

import os

import pytest
from django.db import connection

from carnet.vault import registry
from carnet.vault.backends import get_backend
from carnet.vault.services import clear_key_cache
from carnet.vault.tests.sealed_note import SealedNote


@pytest.fixture(autouse=True)
def key_file(settings, tmp_path):
    """Every vault test gets its own local key file (never var/vault/kek.json)."""
    settings.VAULT_BACKEND = "local"
    settings.VAULT_KEY_FILE = tmp_path / "vault" / "kek.json"
    clear_key_cache()
    yield settings.VAULT_KEY_FILE
    clear_key_cache()


@pytest.fixture
def local_backend(key_file):
    """The local key-file backend of this test."""
    return get_backend()


@pytest.fixture(scope="session")
def sealed_note_table(django_db_setup, django_db_blocker):
    """The table of SealedNote, for the session; its sealed columns are registered.

    The table name is unique to the session: test runs sharing one test database
    (--reuse-db) never drop each other's table.
    """
    SealedNote._meta.db_table = f"vault_test_sealed_note_{os.getpid()}"
    with django_db_blocker.unblock():
        if SealedNote._meta.db_table in connection.introspection.table_names():
            with connection.schema_editor() as editor:
                editor.delete_model(SealedNote)
        with connection.schema_editor() as editor:
            editor.create_model(SealedNote)
    for field in SealedNote._meta.concrete_fields:
        if hasattr(field, "plaintext_attname"):
            registry.register(SealedNote, field)
    yield SealedNote
    registry.unregister(SealedNote)
    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        editor.delete_model(SealedNote)


@pytest.fixture
def note_model(sealed_note_table, db):
    """SealedNote, inside the test's transaction."""
    return sealed_note_table


@pytest.fixture(autouse=True)
def _english():
    """These tests assert the English messages; the site's default language is French."""
    from django.utils import translation

    with translation.override("en"):
        yield
