from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProConfig(AppConfig):
    name = "carnet.pro"
    label = "pro"
    verbose_name = _("Practitioner workspace")
