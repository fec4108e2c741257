from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from django.db.models import Count, F
from django.db.models.functions import Coalesce, Floor, TruncDate, TruncHour

from backend.detections.models import Detection, RejectedEvent


def detection_by_id(detection_id: int) -> Detection | None:
    return Detection.objects.filter(pk=detection_id).first()


def detection_by_event_id(event_id: str) -> Detection | None:
    return Detection.objects.filter(event_id=event_id).first()


def detection_status_counts() -> dict[str, int]:
    counts = dict(Detection.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return {status: counts.get(status, 0) for status in Detection.Status.values}


def violations_per_day(start: datetime, end: datetime, tz: tzinfo) -> list[dict]:
    return list(
        Detection.objects.filter(detected_at__gte=start, detected_at__lt=end)
        .annotate(day=TruncDate("detected_at", tzinfo=tz))
        .values("day")
        .annotate(count=Count("id"))
        .order_by("day")
    )


def violations_per_hour(start: datetime, end: datetime) -> list[dict]:
    """Counts per hour. Truncated in UTC, which keeps the index scan free of a time-zone
    conversion per row; Korea's offset is whole hours with no daylight saving."""
    return list(
        Detection.objects.filter(detected_at__gte=start, detected_at__lt=end)
        .annotate(hour=TruncHour("detected_at", tzinfo=UTC))
        .values("hour")
        .annotate(count=Count("id"))
        .order_by("hour")
    )


def overspeed_histogram(start: datetime, end: datetime, *, bucket_kmh: int = 10) -> list[dict]:
    """Violations per band of km/h over the limit: {"from_kmh": 0, "count": ...}, ..."""
    rows = (
        Detection.objects.filter(detected_at__gte=start, detected_at__lt=end)
        .annotate(band=Floor((F("detected_speed") - F("speed_limit")) / bucket_kmh))
        .values("band")
        .annotate(count=Count("id"))
        .order_by("band")
    )
    return [{"from_kmh": int(row["band"]) * bucket_kmh, "count": row["count"]} for row in rows]


def read_outcomes(start: datetime, end: datetime) -> dict[str, int]:
    """What became of the plate reads: read (completed, no review), review, failed, and
    waiting (pending or processing)."""
    outcomes = {"read": 0, "review": 0, "failed": 0, "waiting": 0}
    rows = (
        Detection.objects.filter(detected_at__gte=start, detected_at__lt=end)
        .values("status", "needs_review")
        .annotate(count=Count("id"))
    )
    for row in rows:
        if row["status"] == Detection.Status.FAILED:
            outcomes["failed"] += row["count"]
        elif row["status"] == Detection.Status.COMPLETED:
            outcomes["review" if row["needs_review"] else "read"] += row["count"]
        else:
            outcomes["waiting"] += row["count"]
    return outcomes


def violations_per_camera(start: datetime, end: datetime) -> list[dict]:
    return list(
        Detection.objects.filter(detected_at__gte=start, detected_at__lt=end)
        .values("camera_id")
        .annotate(count=Count("id"))
        .order_by("-count", "camera_id")
    )


def stale_ocr_work(*, cutoff: datetime, after_id: int, limit: int) -> list[Detection]:
    """Detections still waiting for a plate read whose last hand-over (or arrival) and last
    change are older than `cutoff`: their OCR task was lost or its worker died."""
    return list(
        Detection.objects.filter(
            status__in=[Detection.Status.PENDING, Detection.Status.PROCESSING],
            pk__gt=after_id,
            updated_at__lt=cutoff,
        )
        .annotate(last_handover=Coalesce("ocr_dispatched_at", "created_at"))
        .filter(last_handover__lt=cutoff)
        .order_by("pk")[:limit]
    )


def unsettled_alerts(*, cutoff: datetime, after_id: int, limit: int) -> list[Detection]:
    """Completed detections with no final notification seen yet, whose alert hand-over
    (or completion) is older than `cutoff`. Those waiting for review get no alert."""
    return list(
        Detection.objects.filter(
            status=Detection.Status.COMPLETED, alert_settled_at__isnull=True, needs_review=False, pk__gt=after_id
        )
        .annotate(last_handover=Coalesce("alert_dispatched_at", "processed_at"))
        .filter(last_handover__lt=cutoff)
        .order_by("pk")[:limit]
    )


def retention_due(*, cutoff: datetime, matched: bool, after_id: int, limit: int) -> list[Detection]:
    """Final detections detected before `cutoff` whose personal data is still held;
    `matched` picks those linked to a registered vehicle (notified) or the unmatched."""
    return list(
        Detection.objects.filter(
            personal_data_purged_at__isnull=True,
            detected_at__lt=cutoff,
            status__in=Detection.FINAL_STATUSES,
            vehicle_id__isnull=not matched,
            pk__gt=after_id,
        ).order_by("pk")[:limit]
    )


def rejected_event_by_id(rejected_id: int) -> RejectedEvent | None:
    return RejectedEvent.objects.filter(pk=rejected_id).first()


def rejected_events(
    *, reason: str | None = None, camera_id: str | None = None, pending_only: bool = False, limit: int = 100
) -> list[RejectedEvent]:
    """Newest first; `pending_only`: not replayed successfully yet."""
    events = RejectedEvent.objects.order_by("-received_at", "-pk")
    if reason:
        events = events.filter(reason=reason)
    if camera_id:
        events = events.filter(camera_id=camera_id)
    if pending_only:
        events = events.exclude(replay_outcome__startswith="applied")
    return list(events[:limit])


def evidence_shared(image_gcs_uri: str, *, besides: int) -> bool:
    """Another detection points at the same object (a camera that reused or borrowed it)."""
    return Detection.objects.filter(image_gcs_uri=image_gcs_uri).exclude(pk=besides).exists()
