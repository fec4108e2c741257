from django.apps import AppConfig


class DetectionsConfig(AppConfig):
    name = "backend.detections"
    label = "detections"
