"""The figures `/api/v1/stats` serves and `/dashboard/` draws: one function over the apps'
selectors, so the page and the API never disagree."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from backend.cameras.selectors import camera_liveness
from backend.config.celery import app as celery_app
from backend.detections.counts import OUTCOME
from backend.detections.selectors import detection_status_counts, read_outcomes, violation_figures
from backend.messaging.metrics import queue_depths
from backend.messaging.topology import ALL_QUEUES
from backend.notifications.selectors import notification_status_counts

HOURS_SHOWN = 48
logger = logging.getLogger(__name__)


def every_queue_depth() -> dict[str, int | None]:
    """Messages ready per queue; None where the broker cannot say (down, or not declared)."""
    depths: dict[str, int | None] = {queue.name: None for queue in ALL_QUEUES}
    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
            depths.update(queue_depths(connection, depths))
    except Exception as error:  # the broker being down must not take the statistics with it
        logger.warning("queue depths unavailable: %s", error)
    return depths


def figures(date_from: date, date_to: date) -> dict:
    """Every figure of /api/v1/stats and /dashboard/ for the local days [date_from, date_to],
    from the hourly counts (whole hours: days are assembled from them, so a time zone off
    UTC by a fraction of an hour would shift its days by that fraction)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime.combine(date_from, time.min, zone)
    end = datetime.combine(date_to + timedelta(days=1), time.min, zone)
    now = timezone.now()
    first_hour = (now - timedelta(hours=HOURS_SHOWN - 1)).replace(minute=0, second=0, microsecond=0)
    window = violation_figures(start, end)
    recent = violation_figures(first_hour, now, facets=[OUTCOME])
    per_day: Counter[date] = Counter()
    for hour, count in window.per_hour.items():
        per_day[hour.astimezone(zone).date()] += count
    depths = every_queue_depth()
    return {
        "date_from": date_from,
        "date_to": date_to,
        "per_day": [{"date": day.isoformat(), "count": per_day[day]} for day in sorted(per_day)],
        "per_hour": [
            {"hour": hour.astimezone(zone).isoformat(), "count": recent.per_hour[hour]}
            for hour in sorted(recent.per_hour)
        ],
        "per_camera": [
            {"camera_id": camera_id or None, "count": count}
            for camera_id, count in sorted(window.per_camera.items(), key=lambda item: (-item[1], item[0]))
        ],
        "overspeed": [{"from_kmh": band, "count": window.per_band[band]} for band in sorted(window.per_band)],
        "reads": read_outcomes(window.per_outcome),
        "pipeline": {
            "detections": detection_status_counts(),
            "notifications": notification_status_counts(),
            "dlq_depth": depths.get("dlq_queue"),
            "queues": depths,
        },
        "cameras": camera_liveness(seen_before=now - timedelta(seconds=settings.CAMERA_SILENT_AFTER_S)),
    }
