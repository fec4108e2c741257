from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DetectionsConfig(AppConfig):
    name = "backend.detections"
    label = "detections"
    verbose_name = _("Detections")
