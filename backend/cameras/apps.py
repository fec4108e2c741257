from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CamerasConfig(AppConfig):
    name = "backend.cameras"
    label = "cameras"
    verbose_name = _("Cameras")
