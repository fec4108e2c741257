"""The figures `/api/v1/stats` serves and `/dashboard/` draws: one function over the apps'
selectors, so the page and the API never disagree."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from backend.cameras.selectors import camera_liveness
from backend.config.celery import app as celery_app
from backend.detections.selectors import (
    detection_status_counts,
    overspeed_histogram,
    read_outcomes,
    violations_per_camera,
    violations_per_day,
    violations_per_hour,
)
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
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime.combine(date_from, time.min, zone)
    end = datetime.combine(date_to + timedelta(days=1), time.min, zone)
    now = timezone.now()
    first_hour = (now - timedelta(hours=HOURS_SHOWN - 1)).replace(minute=0, second=0, microsecond=0)
    depths = every_queue_depth()
    return {
        "date_from": date_from,
        "date_to": date_to,
        "per_day": [
            {"date": row["day"].isoformat() if row["day"] else None, "count": row["count"]}
            for row in violations_per_day(start, end, zone)
        ],
        "per_hour": [
            {"hour": row["hour"].astimezone(zone).isoformat(), "count": row["count"]}
            for row in violations_per_hour(first_hour, now)
        ],
        "per_camera": violations_per_camera(start, end),
        "overspeed": overspeed_histogram(start, end),
        "reads": read_outcomes(start, end),
        "pipeline": {
            "detections": detection_status_counts(),
            "notifications": notification_status_counts(),
            "dlq_depth": depths.get("dlq_queue"),
            "queues": depths,
        },
        "cameras": camera_liveness(seen_before=now - timedelta(seconds=settings.CAMERA_SILENT_AFTER_S)),
    }
