from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from backend.common.admin import PipelineRecordAdmin
from backend.detections.models import RejectedEvent
from backend.ingest.handling import replay_rejected


@admin.register(RejectedEvent)
class RejectedEventAdmin(PipelineRecordAdmin):
    """Messages ingest parked instead of storing: read-only evidence of what arrived."""

    list_display = ("id", "received_at", "camera_id", "reason", "topic", "attempts", "replayed_at", "replay_outcome")
    list_filter = ("reason", "camera_id")
    search_fields = ("reason", "camera_id", "detail")
    date_hierarchy = "received_at"
    fields = (
        "received_at",
        "topic",
        "camera_id",
        "reason",
        "detail",
        "payload_excerpt",
        "payload_size",
        "payload_truncated",
        "attempts",
        "replayed_at",
        "replay_outcome",
    )
    readonly_fields = fields
    actions = ["replay"]

    def has_replay_permission(self, request: HttpRequest) -> bool:
        # Replaying writes detections and dispatches work: admins only.
        return request.user.is_superuser

    @admin.action(description=_("Replay: apply the selected messages again"), permissions=["replay"])
    def replay(self, request: HttpRequest, queryset: QuerySet) -> None:
        outcomes = [replay_rejected(rejected.pk) for rejected in queryset[:1000]]
        applied = sum(outcome.startswith("applied") for outcome in outcomes)
        messages.info(
            request,
            _("%(applied)d of %(total)d applied; the rest stay parked with their new reason.")
            % {"applied": applied, "total": len(outcomes)},
        )
