"""Short-lived links to a detection's snapshot.

Production: a V4 signed GCS URL (needs service-account credentials). With the GCS
emulator, which cannot sign, the equivalent is a signed link to the API's own image
endpoint, which checks the signature and its age and streams the object.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from backend.common.gcs import storage_client
from backend.contracts.events import parse_gcs_uri
from backend.detections.models import Detection

_SALT = "speedcam.evidence"


def evidence_url(detection: Detection, request_base: str) -> tuple[str, datetime]:
    ttl = timedelta(seconds=settings.EVIDENCE_URL_TTL_S)
    expires_at = timezone.now() + ttl
    if settings.STORAGE_EMULATOR_HOST:
        signature = signing.TimestampSigner(salt=_SALT).sign(str(detection.pk))
        path = reverse("violation-image", args=[detection.pk])
        return f"{request_base}{path}?signature={signature}", expires_at
    bucket, name = parse_gcs_uri(detection.image_gcs_uri)
    blob = storage_client().bucket(bucket).blob(name)
    return blob.generate_signed_url(version="v4", expiration=ttl, method="GET"), expires_at


def verify_evidence_signature(detection_id: int, signature: str) -> bool:
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(signature, max_age=settings.EVIDENCE_URL_TTL_S)
    except signing.BadSignature:
        return False
    return value == str(detection_id)


def read_evidence(detection: Detection) -> bytes:
    bucket, name = parse_gcs_uri(detection.image_gcs_uri)
    return storage_client().bucket(bucket).blob(name).download_as_bytes(timeout=30)
