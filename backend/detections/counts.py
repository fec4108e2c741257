"""The detections' hourly counts (backend.common.hourly_counts): what /stats and the
dashboard read instead of scanning the detections table."""

from __future__ import annotations

from django.db.models import F
from django.db.models.functions import Floor

from backend.common.hourly_counts import Facet, HourlyCounts
from backend.detections.models import Detection, HourlyCount, HourlyCountsState

OVERSPEED_BAND_KMH = 10
CAMERA, BAND, OUTCOME = "camera", "band", "outcome"


def outcome_key(status: str, needs_review: bool) -> str:
    return f"{status}:review" if needs_review else status


DETECTION_COUNTS = HourlyCounts(
    source=Detection,
    time_field="detected_at",
    facets=(
        # The outcome first: the fewest keys, so the sums per hour come from it.
        Facet(
            OUTCOME,
            {"status": "status", "needs_review": "needs_review"},
            lambda row: outcome_key(row["status"], row["needs_review"]),
        ),
        Facet(CAMERA, {"camera_id": "camera_id"}, lambda row: row["camera_id"] or ""),
        Facet(
            BAND,
            {"band": Floor((F("detected_speed") - F("speed_limit")) / OVERSPEED_BAND_KMH)},
            lambda row: str(int(row["band"]) * OVERSPEED_BAND_KMH),
        ),
    ),
    counts=HourlyCount,
    state=HourlyCountsState,
    database="detections_db",
)
