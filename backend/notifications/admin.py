from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from backend.common.admin import PipelineRecordAdmin
from backend.detections.handover import ResendRefused, resend_alert
from backend.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(PipelineRecordAdmin):
    list_display = ("id", "detection_id", "status", "retry_count", "sent_at", "created_at")
    list_filter = ("status",)
    search_fields = ("detection_id",)
    readonly_fields = ("sent_detection_id", "claim_token", "claimed_at", "created_at", "updated_at")
    actions = ["resend", "resend_even_if_delivery_unknown"]

    # The row is the exactly-once record of a push: a status set back to failed, a row
    # deleted or one typed in would let the same alert go out twice, or one go to a token
    # nobody registered. Operators resend through the actions, which check all that.
    def has_delete_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False

    @admin.action(description=_("Resend the selected failed notifications"), permissions=["operate"])
    def resend(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._resend(request, queryset, confirm_delivery_unknown=False)

    @admin.action(
        description=_("Resend, including 'delivery unknown' ones (the owner may get the alert twice)"),
        permissions=["operate"],
    )
    def resend_even_if_delivery_unknown(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._resend(request, queryset, confirm_delivery_unknown=True)

    def _resend(self, request: HttpRequest, queryset: QuerySet, *, confirm_delivery_unknown: bool) -> None:
        resent, refused, skipped = 0, 0, 0
        for notification in queryset:
            try:
                if resend_alert(notification, confirm_delivery_unknown=confirm_delivery_unknown):
                    resent += 1
                else:
                    skipped += 1
            except ResendRefused:
                refused += 1
        messages.success(
            request,
            _("Resending %(resent)d; %(skipped)d skipped (only failed notifications are resent).")
            % {"resent": resent, "skipped": skipped},
        )
        if refused:
            messages.warning(
                request,
                _(
                    "%(refused)d not resent: their delivery is unknown and the owner may already have the alert. "
                    "Use the 'including delivery unknown' action if a second push is acceptable."
                )
                % {"refused": refused},
            )
