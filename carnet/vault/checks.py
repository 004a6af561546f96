"""System checks: production key custody, and no plaintext in admin pages."""

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def check_key_backend_for_production(**kwargs: Any) -> list[checks.CheckMessage]:
    """`check --deploy`: the local key file is for development only."""
    if settings.VAULT_BACKEND == "local":
        return [
            checks.Error(
                "CARNET_VAULT_BACKEND=local keeps the key-encryption keys in a file on"
                " the application host.",
                hint="Use CARNET_VAULT_BACKEND=pkcs11 with an HSM in production.",
                id="vault.E010",
            )
        ]
    return []


@checks.register(checks.Tags.admin)
def check_admin_does_not_show_sealed_values(**kwargs: Any) -> list[checks.CheckMessage]:
    """A sealed field in list_display, readonly_fields, search_fields, list_filter or
    ordering would decrypt (or try to query) it in admin pages."""
    from django.contrib import admin

    from carnet.vault.registry import sealed_columns

    sealed: dict[type, set[str]] = {}
    for column in sealed_columns():
        sealed.setdefault(column.model, set()).update(
            {column.field.name, column.field.attname}
        )
    warnings: list[checks.CheckMessage] = []
    for model, model_admin in admin.site._registry.items():
        names = sealed.get(model)
        if not names:
            continue
        for option in (
            "list_display",
            "readonly_fields",
            "search_fields",
            "list_filter",
            "ordering",
        ):
            used = {
                str(entry).lstrip("-^=@").split("__")[0]
                for entry in getattr(model_admin, option, ()) or ()
                if isinstance(entry, str)
            }
            warnings.extend(
                checks.Warning(
                    f"{type(model_admin).__name__}.{option} names the sealed field {name!r}.",
                    hint="Sealed values are not shown in the admin; remove it.",
                    obj=model_admin,
                    id="vault.W001",
                )
                for name in sorted(used & names)
            )
    return warnings
