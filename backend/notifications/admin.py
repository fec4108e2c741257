from django.contrib import admin

from backend.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "detection_id", "status", "retry_count", "sent_at", "created_at")
    list_filter = ("status",)
    search_fields = ("detection_id",)
