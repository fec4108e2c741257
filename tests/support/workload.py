"""A realistic stream of detections for drills and benchmarks run from scripts/.

Plates cycle through a fixed list; `registered_share` of them belong to registered
vehicles with FCM tokens, so those detections end in a push. Every plate's snapshot
is uploaded once to the profile's GCS emulator and shared by its detections.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import UTC, datetime

from django.db import connections
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from kombu import Connection

from backend.messaging.topology import ALL_QUEUES, declare_topology
from backend.vehicles.models import Vehicle
from edge.sample import render_snapshot
from tests.support.services import FcmEmulator

PLATES = [f"{10 + i}가{1000 + i * 7:04d}" for i in range(40)]


def empty_tables() -> None:
    """Vehicles, detections and notifications, in their own databases."""
    for alias, table in (
        ("vehicles_db", "vehicles"),
        ("detections_db", "detections"),
        ("notifications_db", "notifications"),
    ):
        with connections[alias].cursor() as cursor:
            cursor.execute(f"TRUNCATE TABLE {table}")


def reset(*, registered_every: int = 2) -> None:
    """Empty tables, queues and the FCM record; register every n-th plate."""
    empty_tables()
    FcmEmulator(os.environ["FCM_ENDPOINT"]).reset()
    with Connection(os.environ["CELERY_BROKER_URL"]) as connection:
        declare_topology(connection)
        for queue in ALL_QUEUES:
            connection.default_channel.queue_purge(queue.name)
    Vehicle.objects.bulk_create(
        Vehicle(plate_number=plate, owner_name="시험", fcm_token=f"load-{i}-{uuid.uuid4().hex}")
        for i, plate in enumerate(PLATES[::registered_every])
    )


def upload_images() -> dict[str, tuple[str, str]]:
    """One snapshot per plate in the emulator: plate -> (gs:// URI, sha256)."""
    client = storage.Client(project="speedcam-load", credentials=AnonymousCredentials())
    bucket = client.bucket(os.environ["GCS_BUCKET_NAME"])
    images = {}
    for plate in PLATES:
        image = render_snapshot(plate, width=640, height=360)
        name = f"load/{uuid.uuid4()}.jpg"
        bucket.blob(name).upload_from_string(image, content_type="image/jpeg")
        images[plate] = (f"gs://{bucket.name}/{name}", hashlib.sha256(image).hexdigest())
    return images


def events(count: int, images: dict[str, tuple[str, str]], *, camera_id: str = "cam-load") -> list[dict]:
    now = datetime.now(UTC).isoformat()
    result = []
    for index in range(count):
        uri, sha = images[PLATES[index % len(PLATES)]]
        result.append(
            {
                "event_id": str(uuid.uuid4()),
                "camera_id": camera_id,
                "location": "시험 도로",
                "detected_speed": 70.0 + index % 50,
                "speed_limit": 60.0,
                "detected_at": now,
                "image_gcs_uri": uri,
                "image_sha256": sha,
            }
        )
    return result
