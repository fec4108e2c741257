"""Fetch and verify the snapshot a detection points at."""

from __future__ import annotations

import hashlib
import io

import requests
from django.conf import settings
from google.api_core import exceptions as gcs_errors
from google.cloud.storage.retry import DEFAULT_RETRY
from PIL import Image, UnidentifiedImageError

from backend.common.gcs import storage_client
from backend.contracts.events import parse_gcs_uri

MAX_IMAGE_BYTES = 20 * 1024 * 1024
# A snapshot is at most a few megapixels; a small file that decodes to more is a
# decompression bomb, and is refused before anything allocates its pixels.
MAX_IMAGE_PIXELS = 40_000_000


class EvidenceError(Exception):
    """The evidence is wrong for good (missing, altered, not an image): no retry."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


# Worth retrying: the storage service or the network is having a bad moment.
TRANSIENT_STORAGE_ERRORS: tuple[type[BaseException], ...] = (
    gcs_errors.ServiceUnavailable,
    gcs_errors.InternalServerError,
    gcs_errors.TooManyRequests,
    gcs_errors.GatewayTimeout,
    gcs_errors.RetryError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    ConnectionError,
    TimeoutError,
)


def fetch_evidence(gcs_uri: str, expected_sha256: str) -> bytes:
    try:
        bucket_name, object_name = parse_gcs_uri(gcs_uri)
    except ValueError as exc:
        raise EvidenceError("image_uri_invalid", str(exc)) from exc
    if bucket_name != settings.GCS_BUCKET_NAME:
        raise EvidenceError("image_wrong_bucket", f"{bucket_name!r} is not {settings.GCS_BUCKET_NAME!r}")
    bucket = storage_client().bucket(bucket_name)
    # A short in-client retry rides out blips; longer outages are the task's retry policy.
    retry = DEFAULT_RETRY.with_timeout(settings.GCS_RETRY_DEADLINE_S)
    try:
        # The size first, from the object's metadata: nothing large is downloaded to find out.
        blob = bucket.get_blob(object_name, timeout=30, retry=retry)
        if blob is None:
            raise EvidenceError("image_missing", f"{gcs_uri} does not exist")
        if blob.size is not None and blob.size > MAX_IMAGE_BYTES:
            raise EvidenceError("image_too_large", f"{blob.size} bytes, limit {MAX_IMAGE_BYTES}")
        # Capped as well: the object may be replaced between the two calls.
        data = blob.download_as_bytes(end=MAX_IMAGE_BYTES, timeout=30, retry=retry)
    except gcs_errors.NotFound as exc:
        raise EvidenceError("image_missing", f"{gcs_uri} does not exist") from exc
    if len(data) > MAX_IMAGE_BYTES:
        raise EvidenceError("image_too_large", f"more than {MAX_IMAGE_BYTES} bytes")
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise EvidenceError("image_sha256_mismatch", f"expected {expected_sha256}, object has {actual}")
    check_decodable(data)
    return data


def check_decodable(data: bytes) -> None:
    """A real image of a sane size; raise EvidenceError (permanent) otherwise.

    Only the header is read for the size, so a decompression bomb is refused before its
    pixels exist; PIL's own bomb check (which raises DecompressionBombError, not an
    OSError) is covered too.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise EvidenceError(
                    "image_too_many_pixels", f"{width}x{height} = {width * height} pixels, limit {MAX_IMAGE_PIXELS}"
                )
            image.verify()
    except Image.DecompressionBombError as exc:
        raise EvidenceError("image_too_many_pixels", str(exc)) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise EvidenceError("image_unreadable", f"not a decodable image: {exc}") from exc
