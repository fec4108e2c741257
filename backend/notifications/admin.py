from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from backend.detections.selectors import detection_by_id
from backend.messaging.dispatch import dispatch_alert
from backend.notifications import services
from backend.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "detection_id", "status", "retry_count", "sent_at", "created_at")
    list_filter = ("status",)
    search_fields = ("detection_id",)
    readonly_fields = ("sent_detection_id", "claim_token", "claimed_at", "created_at", "updated_at")
    actions = ["resend"]

    @admin.action(description="Resend the selected failed notifications")
    def resend(self, request: HttpRequest, queryset: QuerySet) -> None:
        resent = 0
        for notification in queryset:
            if services.reopen_failed(notification):
                detection = detection_by_id(notification.detection_id)
                dispatch_alert(
                    detection_id=notification.detection_id, event_id=detection.event_id if detection else None
                )
                resent += 1
        skipped = queryset.count() - resent
        messages.success(request, f"Resending {resent}; {skipped} skipped (only failed notifications are resent).")
