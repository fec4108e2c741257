from django.apps import AppConfig


class OcrConfig(AppConfig):
    name = "backend.ocr"
    label = "ocr"
    verbose_name = "OCR"
