from django.apps import AppConfig
from django.core.signals import setting_changed
from django.utils.translation import gettext_lazy as _


class VaultConfig(AppConfig):
    name = "carnet.vault"
    label = "vault"
    verbose_name = _("Vault")

    def ready(self) -> None:
        from carnet.vault import checks  # noqa: F401  (registers the system checks)
        from carnet.vault.backends import reset_on_setting_change

        setting_changed.connect(reset_on_setting_change, dispatch_uid="carnet.vault")
