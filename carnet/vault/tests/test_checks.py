from django.contrib import admin

from carnet.vault.checks import (
    check_admin_does_not_show_sealed_values,
    check_key_backend_for_production,
)
from carnet.vault.tests.sealed_note import SealedNote


def test_the_local_key_file_fails_the_deployment_check(settings):
    settings.VAULT_BACKEND = "local"

    assert [e.id for e in check_key_backend_for_production()] == ["vault.E010"]
    settings.VAULT_BACKEND = "pkcs11"
    assert check_key_backend_for_production() == []


def test_an_admin_listing_a_sealed_field_is_reported(sealed_note_table):
    class NoteAdmin(admin.ModelAdmin):
        list_display = ["owner", "reason"]
        search_fields = ["born_on__year"]
        readonly_fields = ["title"]

    site = admin.site
    site.register(SealedNote, NoteAdmin)
    try:
        warnings = check_admin_does_not_show_sealed_values()
    finally:
        site.unregister(SealedNote)

    assert sorted(w.msg for w in warnings) == [
        "NoteAdmin.list_display names the sealed field 'reason'.",
        "NoteAdmin.search_fields names the sealed field 'born_on'.",
    ]
    assert {w.id for w in warnings} == {"vault.W001"}
