from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from django.db.models.functions import Coalesce

from backend.detections.counts import BAND, CAMERA, DETECTION_COUNTS, OUTCOME
from backend.detections.models import Detection, RejectedEvent


def detection_by_id(detection_id: int) -> Detection | None:
    # get(), not first(): first() orders by pk, and compiling that ORDER BY cost the alert
    # worker a tenth of its CPU per push.
    try:
        return Detection.objects.get(pk=detection_id)
    except Detection.DoesNotExist:
        return None


def detections_by_id(detection_ids: Iterable[int]) -> dict[int, Detection]:
    return Detection.objects.in_bulk(set(detection_ids))


def detection_by_event_id(event_id: str) -> Detection | None:
    return Detection.objects.filter(event_id=event_id).first()


class Figures(NamedTuple):
    per_hour: Counter[datetime]
    per_camera: Counter[str]
    per_band: Counter[int]
    per_outcome: Counter[str]


def violation_figures(
    start: datetime | None = None, end: datetime | None = None, *, facets: Iterable[str] | None = None
) -> Figures:
    """Detections in the whole hours of [start, end), counted per UTC hour and per facet
    (camera, overspeed band, outcome; every one by default)."""
    sums = DETECTION_COUNTS.sums(start, end, facets)
    return Figures(
        per_hour=sums.per_hour,
        per_camera=sums.of_facet(CAMERA),
        per_band=Counter({int(band): count for band, count in sums.of_facet(BAND).items()}),
        per_outcome=sums.of_facet(OUTCOME),
    )


def detection_status_counts() -> dict[str, int]:
    per_status: Counter[str] = Counter()
    for key, count in violation_figures(facets=[OUTCOME]).per_outcome.items():
        per_status[key.split(":")[0]] += count
    return {status: per_status[status] for status in Detection.Status.values}


def read_outcomes(per_outcome: Counter[str]) -> dict[str, int]:
    """What became of the plate reads: read (completed, no review), review, failed, and
    waiting (pending or processing)."""
    return {
        "read": per_outcome[Detection.Status.COMPLETED],
        "review": sum(count for key, count in per_outcome.items() if key.endswith(":review")),
        "failed": per_outcome[Detection.Status.FAILED],
        "waiting": per_outcome[Detection.Status.PENDING] + per_outcome[Detection.Status.PROCESSING],
    }


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
