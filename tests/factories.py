"""factory_boy factories: one place that knows what a valid row of each model looks like.

Tests name only the fields their behaviour depends on; the rest is a plausible default
(a Korean plate, a registered test camera, a read completed at 0.97).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import factory

from backend.cameras.models import Camera
from backend.detections.models import Detection
from backend.notifications.models import Notification
from backend.vehicles.models import Vehicle


class VehicleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vehicle

    plate_number = factory.Sequence(lambda n: f"{10 + n % 90}가{1000 + n % 9000:04d}")
    owner_name = "홍길동"
    fcm_token = factory.LazyFunction(lambda: f"fcm-{uuid.uuid4().hex}")


class CameraFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Camera

    camera_id = factory.Sequence(lambda n: f"cam-f{n:03d}")
    mqtt_username = factory.LazyAttribute(lambda camera: f"camera-{camera.camera_id}")
    location = "경부고속도로 서울방향 12km"
    speed_limit = 80.0


class DetectionFactory(factory.django.DjangoModelFactory):
    """A violation read and matched: 101 km/h in an 80 zone, completed at 0.97."""

    class Meta:
        model = Detection

    event_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    camera_id = "cam-02"
    location = "경부고속도로 서울방향 12km"
    detected_speed = 101.0
    speed_limit = 80.0
    image_gcs_uri = "gs://speedcam-test-images/o.jpg"
    image_sha256 = "0" * 64
    detected_at = datetime(2026, 11, 23, 1, 2, 3, tzinfo=UTC)
    status = Detection.Status.COMPLETED
    ocr_result = "12가3456"
    ocr_confidence = 0.97


class PendingDetectionFactory(DetectionFactory):
    """Just stored by ingest: no read yet."""

    status = Detection.Status.PENDING
    ocr_result = None
    ocr_confidence = None


class NotificationFactory(factory.django.DjangoModelFactory):
    """The violation alert of a detection (one per detection: its dedupe key)."""

    class Meta:
        model = Notification

    detection_id = factory.LazyFunction(lambda: DetectionFactory().pk)
    dedupe_key = factory.LazyAttribute(lambda notification: f"violation:{notification.detection_id}")
    status = Notification.Status.PENDING
