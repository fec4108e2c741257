"""A realistic stream of detections for drills and benchmarks run from scripts/.

Plates cycle through a fixed list; `registered_share` of them belong to registered
vehicles with FCM tokens, so those detections end in a push. Every plate's snapshot
is rendered once; each detection uploads it under its own camera's object name, as a
camera would (ingest refuses evidence outside the camera's prefix).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from django.db import connections
from google.api_core.exceptions import NotFound
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from kombu import Connection

from backend.cameras.services import register_camera
from backend.messaging.topology import ALL_QUEUES, declare_topology
from backend.vehicles.models import Vehicle
from edge.sample import render_snapshot
from edge.uplink import evidence_object_name
from harness.services import FcmEmulator

PLATES = [f"{10 + i}가{1000 + i * 7:04d}" for i in range(40)]


def empty_tables() -> None:
    """Vehicles, detections and notifications, in their own databases."""
    for alias, table in (
        ("vehicles_db", "vehicles"),
        ("detections_db", "detections"),
        ("notifications_db", "notifications"),
        ("detections_db", "rejected_events"),
    ):
        with connections[alias].cursor() as cursor:
            cursor.execute(f"TRUNCATE TABLE {table}")


# Evidence uploaded by events() since the last reset: the GCS emulator keeps every object
# in memory and slows down as they pile up, until a long benchmark stalls on it.
_uploaded: list[str] = []


def _evidence_bucket() -> storage.Bucket:
    return storage.Client(project="speedcam-load", credentials=AnonymousCredentials()).bucket(
        os.environ["GCS_BUCKET_NAME"]
    )


def forget_uploaded() -> None:
    """The bucket was emptied another way (the emulator restarted): nothing to delete."""
    _uploaded.clear()


def delete_uploaded() -> None:
    bucket = _evidence_bucket()

    def delete(name: str) -> None:
        with contextlib.suppress(NotFound):  # retention, or a drill itself, deleted it already
            bucket.blob(name).delete()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(delete, _uploaded))
    _uploaded.clear()


def reset(*, registered_every: int = 2) -> None:
    """Empty tables, queues, the evidence bucket and the FCM record; register every n-th plate."""
    empty_tables()
    delete_uploaded()
    FcmEmulator(os.environ["FCM_ENDPOINT"]).reset()
    with Connection(os.environ["CELERY_BROKER_URL"]) as connection:
        declare_topology(connection)
        for queue in ALL_QUEUES:
            connection.default_channel.queue_purge(queue.name)
    Vehicle.objects.bulk_create(
        Vehicle(plate_number=plate, owner_name="시험", fcm_token=f"load-{i}-{uuid.uuid4().hex}")
        for i, plate in enumerate(PLATES[::registered_every])
    )


def upload_images() -> dict[str, tuple[bytes, str]]:
    """One snapshot per plate: plate -> (JPEG bytes, sha256)."""
    images = {}
    for plate in PLATES:
        image = render_snapshot(plate, width=640, height=360)
        images[plate] = (image, hashlib.sha256(image).hexdigest())
    return images


def events(count: int, images: dict[str, tuple[bytes, str]], *, camera_id: str = "cam-load") -> list[dict]:
    """`count` violations of a registered camera, each with its evidence uploaded."""
    register_camera(camera_id, location="시험 도로", speed_limit=60.0, mqtt_username=f"camera-{camera_id}")
    bucket = _evidence_bucket()
    detected_at = datetime.now(UTC)
    result = []
    uploads = []
    for index in range(count):
        image, sha = images[PLATES[index % len(PLATES)]]
        event_id = uuid.uuid4()
        name = evidence_object_name(camera_id, detected_at, event_id)
        uploads.append((name, image))
        result.append(
            {
                "event_id": str(event_id),
                "camera_id": camera_id,
                "location": "시험 도로",
                "detected_speed": 70.0 + index % 50,
                "speed_limit": 60.0,
                "detected_at": detected_at.isoformat(),
                "image_gcs_uri": f"gs://{bucket.name}/{name}",
                "image_sha256": sha,
            }
        )
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(lambda item: bucket.blob(item[0]).upload_from_string(item[1], content_type="image/jpeg"), uploads)
        )
    _uploaded.extend(name for name, _ in uploads)
    return result
