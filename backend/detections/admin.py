from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from backend.detections import services
from backend.detections.evidence_urls import evidence_url
from backend.detections.handover import hand_to_alert, hand_to_ocr
from backend.detections.models import Detection


@admin.register(Detection)
class DetectionAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "camera_id",
        "detected_speed",
        "speed_limit",
        "ocr_result",
        "status",
        "needs_review",
        "review_reason",
        "plate_match",
        "detected_at",
    )
    list_filter = ("status", "needs_review", "plate_match", "camera_id")
    search_fields = ("ocr_result", "event_id")
    date_hierarchy = "detected_at"
    readonly_fields = (
        "snapshot",
        "event_id",
        "image_gcs_uri",
        "image_sha256",
        "plate_bbox",
        "ocr_dispatched_at",
        "alert_dispatched_at",
        "alert_settled_at",
        "sweep_count",
        "personal_data_purged_at",
        "created_at",
        "updated_at",
    )
    actions = ["rerun_ocr", "approve_review"]

    @admin.display(description="snapshot")
    def snapshot(self, detection: Detection) -> str:
        try:
            url, _ = evidence_url(detection, "")
        except Exception as exc:  # no signing credentials: say so instead of breaking the page
            return f"(no preview: {exc})"
        return format_html('<a href="{0}"><img src="{0}" style="max-width: 640px" alt="snapshot"></a>', url)

    @admin.action(description="Reviewed: the read is right, notify the owner")
    def approve_review(self, request: HttpRequest, queryset: QuerySet) -> None:
        approved = 0
        for detection in queryset.filter(needs_review=True, status=Detection.Status.COMPLETED):
            hand_to_alert(services.approve_review(detection))
            approved += 1
        messages.success(request, f"{approved} detection(s) approved; their alerts are on the way.")

    @admin.action(description="Re-run OCR for the selected detections")
    def rerun_ocr(self, request: HttpRequest, queryset: QuerySet) -> None:
        for detection in queryset:
            hand_to_ocr(services.reset_for_ocr(detection))
        messages.success(request, f"OCR queued again for {queryset.count()} detection(s).")
