from django.contrib import admin

from backend.detections.models import Detection


@admin.register(Detection)
class DetectionAdmin(admin.ModelAdmin):
    list_display = ("id", "camera_id", "detected_speed", "speed_limit", "ocr_result", "status", "detected_at")
    list_filter = ("status", "camera_id")
    search_fields = ("ocr_result", "event_id")
    readonly_fields = ("event_id", "image_sha256", "ocr_dispatched_at", "created_at", "updated_at")
