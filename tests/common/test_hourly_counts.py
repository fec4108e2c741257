"""The statistics' hourly counts stay exact: before the first refresh, right after one,
and with changes the refresh has not taken in yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from backend.detections.counts import DETECTION_COUNTS
from backend.detections.models import Detection, HourlyCount
from backend.detections.selectors import detection_status_counts, violation_figures
from backend.maintenance.services import refresh_hourly_counts
from backend.notifications.models import Notification
from backend.notifications.selectors import notification_status_counts
from tests.factories import DetectionFactory, NotificationFactory

pytestmark = pytest.mark.django_db(databases="__all__")
HOUR = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _detection(at: datetime, *, camera: str = "cam-01", speed: float = 75.0, **fields: Any) -> Detection:
    return DetectionFactory(
        **{"camera_id": camera, "detected_speed": speed, "speed_limit": 60.0, "detected_at": at, **fields}
    )


def _age(model: type, hours: int = 3) -> None:
    """As if every row was last changed a while ago (older than the refresh's slack)."""
    model.objects.update(updated_at=timezone.now() - timedelta(hours=hours))


def _seed() -> list[Detection]:
    detections = [
        _detection(HOUR + timedelta(minutes=5)),
        _detection(HOUR + timedelta(minutes=50), camera="cam-02", speed=95.0, needs_review=True),
        _detection(HOUR + timedelta(hours=1, minutes=1), status="failed"),
        _detection(HOUR + timedelta(hours=2), camera="", status="pending"),
    ]
    _age(Detection)
    return detections


def _expected() -> dict:
    return {
        "per_hour": {HOUR: 2, HOUR + timedelta(hours=1): 1, HOUR + timedelta(hours=2): 1},
        "per_camera": {"cam-01": 2, "cam-02": 1, "": 1},
        "per_band": {10: 3, 30: 1},
        "per_outcome": {"completed": 1, "completed:review": 1, "failed": 1, "pending": 1},
    }


def _figures(start: datetime | None = None, end: datetime | None = None) -> dict:
    return {name: dict(counter) for name, counter in violation_figures(start, end)._asdict().items()}


def test_the_figures_are_the_same_before_and_after_the_first_refresh() -> None:
    _seed()
    assert _figures() == _expected()
    assert refresh_hourly_counts() == 3
    assert HourlyCount.objects.filter(facet="outcome").count() == 4
    assert _figures() == _expected()
    assert _figures(HOUR + timedelta(minutes=30), HOUR + timedelta(hours=1, minutes=30))["per_hour"] == {
        HOUR: 2,
        HOUR + timedelta(hours=1): 1,
    }  # whole hours
    assert detection_status_counts() == {"pending": 1, "processing": 0, "completed": 2, "failed": 1}


def test_a_change_not_yet_refreshed_is_counted_and_only_its_hour_is_recounted() -> None:
    first, *_ = _seed()
    refresh_hourly_counts()
    # Stored counts are what readers use for unchanged hours: make one visibly wrong.
    HourlyCount.objects.filter(hour=HOUR + timedelta(hours=2), facet="camera").update(count=99)
    assert _figures()["per_camera"][""] == 99

    Detection.objects.filter(pk=first.pk).update(status="failed", updated_at=timezone.now())
    _detection(HOUR + timedelta(minutes=20), camera="cam-03")  # a late arrival for an old hour
    expected = _expected()
    expected["per_hour"][HOUR] = 3
    expected["per_camera"].update({"cam-03": 1, "": 99})
    expected["per_band"][10] = 4
    expected["per_outcome"].update({"completed": 1, "failed": 2})
    assert _figures() == expected  # exact without a refresh

    assert refresh_hourly_counts() == 1  # only the changed hour
    assert _figures() == expected  # the untouched hour keeps its stored (tampered) count


def test_pushes_are_counted_by_status() -> None:
    for number, status in enumerate(["sent", "sent", "failed", "pending"]):
        NotificationFactory(
            detection_id=number + 1, dedupe_key=f"k{number}", status=status,
            sent_detection_id=number + 1 if status == "sent" else None,
        )  # fmt: skip
    _age(Notification)
    expected = {"pending": 1, "sent": 2, "failed": 1}
    assert notification_status_counts() == expected
    refresh_hourly_counts()
    assert notification_status_counts() == expected
    Notification.objects.filter(status="pending").update(status="failed", updated_at=timezone.now())
    assert notification_status_counts() == {"pending": 0, "sent": 2, "failed": 2}


def test_consecutive_hours_are_one_range() -> None:
    condition = DETECTION_COUNTS.in_hours([HOUR + timedelta(hours=n) for n in (0, 1, 2, 5)])
    assert str(condition).count("detected_at__gte") == 2
