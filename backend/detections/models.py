from django.db import models
from django.utils.translation import gettext_lazy as _

from backend.common import tracing
from backend.common.hourly_counts import AbstractHourlyCount, AbstractHourlyCountsState


class Detection(models.Model):
    """One speed violation reported by a camera, from arrival to plate read."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        PROCESSING = "processing", _("processing")
        COMPLETED = "completed", _("completed")
        FAILED = "failed", _("failed")

    FINAL_STATUSES = (Status.COMPLETED, Status.FAILED)

    # The edge's idempotency key: the same event delivered twice is one detection.
    event_id = models.CharField(verbose_name=_("event ID"), max_length=36, unique=True)
    vehicle_id = models.BigIntegerField(verbose_name=_("vehicle ID"), null=True, blank=True)  # vehicles_db id, no FK
    # What the camera stands behind (after its uncertainty and tolerance were deducted),
    # and, when the edge sent them, the measurement itself: km/h.
    detected_speed = models.FloatField(verbose_name=_("detected speed"))
    measured_speed = models.FloatField(verbose_name=_("measured speed"), null=True, blank=True)
    speed_uncertainty = models.FloatField(verbose_name=_("speed uncertainty"), null=True, blank=True)
    speed_tolerance = models.FloatField(verbose_name=_("speed tolerance"), null=True, blank=True)
    speed_limit = models.FloatField(verbose_name=_("speed limit"), default=60.0)
    location = models.CharField(verbose_name=_("location"), max_length=255, null=True, blank=True)
    camera_id = models.CharField(verbose_name=_("camera ID"), max_length=50, null=True, blank=True)
    image_gcs_uri = models.CharField(verbose_name=_("image GCS URI"), max_length=500)
    image_sha256 = models.CharField(verbose_name=_("image SHA-256"), max_length=64)
    # When the OCR worker found the object's hash equal to the event's. Retention deletes
    # only verified evidence: an event pointing at someone else's object never verifies.
    image_verified_at = models.DateTimeField(verbose_name=_("image verified at"), null=True, blank=True)
    # [x, y, width, height] of the plate in the snapshot, when the edge found it.
    plate_bbox = models.JSONField(verbose_name=_("plate box"), null=True, blank=True)
    # The engine's read, kept as it was: a person's correction goes to reviewed_plate.
    ocr_result = models.CharField(verbose_name=_("OCR result"), max_length=20, null=True, blank=True)
    ocr_confidence = models.FloatField(verbose_name=_("OCR confidence"), null=True, blank=True)
    # [x, y, width, height] of the region the engine read the plate from.
    ocr_bbox = models.JSONField(verbose_name=_("OCR box"), null=True, blank=True)
    detected_at = models.DateTimeField(verbose_name=_("detected at"))
    processed_at = models.DateTimeField(verbose_name=_("processed at"), null=True, blank=True)
    status = models.CharField(verbose_name=_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # A person should look at this one: no valid plate read, a low-confidence read, or an
    # ambiguous match. No push goes out for it until someone does.
    needs_review = models.BooleanField(verbose_name=_("needs review"), default=False)
    review_reason = models.CharField(verbose_name=_("review reason"), max_length=255, null=True, blank=True)
    # The review, next to the engine's read: the plate a person confirmed or typed, who
    # (the admin user's name; users live in another database) and when.
    reviewed_plate = models.CharField(verbose_name=_("reviewed plate"), max_length=20, null=True, blank=True)
    reviewed_by = models.CharField(verbose_name=_("reviewed by"), max_length=150, null=True, blank=True)
    reviewed_at = models.DateTimeField(verbose_name=_("reviewed at"), null=True, blank=True)
    # How the vehicle was matched: "exact", "fuzzy" (one registered plate a measured
    # confusion away), "reviewed" (a person confirmed or corrected the plate), or null.
    plate_match = models.CharField(verbose_name=_("plate match"), max_length=10, null=True, blank=True)
    error_message = models.TextField(verbose_name=_("error message"), null=True, blank=True)
    # When the OCR task was handed to the broker; a redelivered event with this set
    # publishes nothing, one without it (publish lost before the ack) publishes again.
    ocr_dispatched_at = models.DateTimeField(verbose_name=_("OCR dispatched at"), null=True, blank=True)
    # Main's record of the alert hand-over, and the stale-work sweeper's: when the
    # alert task was last published, when a final notification was seen for it, and
    # how often the sweeper had to re-dispatch this detection.
    alert_dispatched_at = models.DateTimeField(verbose_name=_("alert dispatched at"), null=True, blank=True)
    alert_settled_at = models.DateTimeField(verbose_name=_("alert settled at"), null=True, blank=True)
    sweep_count = models.PositiveSmallIntegerField(verbose_name=_("sweep count"), default=0)
    # Retention removed the evidence image and the personal data (plate, vehicle);
    # the rest of the row stays for statistics.
    # The W3C traceparent of ingest's span for this detection: where its trace is, and
    # what a re-dispatch links to (backend.common.tracing). Null when tracing is off.
    traceparent = models.CharField(verbose_name=_("trace"), max_length=55, null=True, blank=True)
    personal_data_purged_at = models.DateTimeField(verbose_name=_("personal data purged at"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("detection")
        verbose_name_plural = _("detections")
        db_table = "detections"
        indexes = [
            models.Index(fields=["vehicle_id"], name="idx_vehicle_id"),
            models.Index(fields=["detected_at"], name="idx_detected_at"),
            models.Index(fields=["status", "created_at"], name="idx_status_created"),
            models.Index(fields=["camera_id", "detected_at"], name="idx_camera_detected"),
            # The operators' list: newest first, usually narrowed by status or plate.
            models.Index(fields=["status", "detected_at"], name="idx_status_detected"),
            models.Index(fields=["ocr_result", "detected_at"], name="idx_plate_detected"),
            models.Index(fields=["reviewed_plate", "detected_at"], name="idx_reviewed_plate_detected"),
            models.Index(fields=["needs_review", "detected_at"], name="idx_review_detected"),
            models.Index(fields=["status", "alert_settled_at"], name="idx_status_alert_settled"),
            models.Index(fields=["personal_data_purged_at", "detected_at"], name="idx_purged_detected"),
            models.Index(fields=["image_gcs_uri"], name="idx_image_uri"),
            # What changed since the hourly counts were last refreshed (see HourlyCount).
            models.Index(fields=["updated_at"], name="idx_updated_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "processing", "completed", "failed"]),
                name="detections_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"detection {self.pk} ({self.status})"

    @property
    def plate(self) -> str | None:
        """The plate this violation is about: a reviewer's over the engine's."""
        return self.reviewed_plate or self.ocr_result

    @property
    def plate_box(self) -> list[int] | None:
        """Where the plate is in the snapshot: where the engine read it, else the edge's box."""
        return self.ocr_bbox or self.plate_bbox

    @property
    def trace_id(self) -> str | None:
        return tracing.trace_id_of(self.traceparent)

    @property
    def trace_sampled(self) -> bool:
        return tracing.is_sampled(self.traceparent)

    @property
    def overspeed_kmh(self) -> float:
        return self.detected_speed - self.speed_limit


class RejectedEvent(models.Model):
    """A message ingest could not store, parked with its reason instead of retried forever.

    Kept whole (up to the contract's size limit) so an operator can replay it once the
    cause is fixed (`manage.py rejected replay`, or the admin).
    """

    topic = models.CharField(verbose_name=_("topic"), max_length=255)
    # From the topic, never from the payload: the broker vouches for the topic.
    camera_id = models.CharField(verbose_name=_("camera ID"), max_length=50, null=True, blank=True)
    reason = models.CharField(verbose_name=_("reason"), max_length=100)
    detail = models.TextField(verbose_name=_("detail"), blank=True, default="")
    payload = models.BinaryField(verbose_name=_("payload"), max_length=16 * 1024)
    payload_size = models.PositiveIntegerField(verbose_name=_("payload size"))
    payload_truncated = models.BooleanField(verbose_name=_("payload truncated"), default=False)
    attempts = models.PositiveSmallIntegerField(verbose_name=_("attempts"), default=1)
    received_at = models.DateTimeField(verbose_name=_("received at"), auto_now_add=True)
    replayed_at = models.DateTimeField(verbose_name=_("replayed at"), null=True, blank=True)
    replay_outcome = models.CharField(verbose_name=_("replay outcome"), max_length=255, null=True, blank=True)

    class Meta:
        verbose_name = _("rejected message")
        verbose_name_plural = _("rejected messages")
        db_table = "rejected_events"
        indexes = [
            models.Index(fields=["received_at"], name="idx_rejected_received"),
            models.Index(fields=["reason", "received_at"], name="idx_rejected_reason"),
            models.Index(fields=["camera_id", "received_at"], name="idx_rejected_camera"),
        ]

    def __str__(self) -> str:
        return f"rejected {self.pk} ({self.reason})"

    @property
    def payload_excerpt(self) -> str:
        return bytes(self.payload[:500]).decode("utf-8", "replace")


class ReviewItem(Detection):
    """The review queue in the admin: completed detections a person must decide on."""

    class Meta:
        proxy = True
        verbose_name = _("detection to review")
        verbose_name_plural = _("review queue")


class HourlyCount(AbstractHourlyCount):
    """Detections per UTC hour of `detected_at` along one facet (backend.detections.counts):
    `camera` (key: the camera id), `band` (km/h over the limit floored to 10, as "20") and
    `outcome` (the status; "completed:review" for a read held for review)."""

    class Meta:
        verbose_name = _("hourly count")
        verbose_name_plural = _("hourly counts")
        db_table = "detection_hourly_counts"
        constraints = [
            models.UniqueConstraint(fields=["facet", "hour", "key"], name="hourly_count_unique"),
        ]
        # Covers the statistics' sums: they never read the table's rows.
        indexes = [models.Index(fields=["facet", "hour", "key", "count"], name="idx_detection_counts_sum")]


class HourlyCountsState(AbstractHourlyCountsState):
    class Meta:
        verbose_name = _("hourly counts state")
        verbose_name_plural = _("hourly counts states")
        db_table = "detection_hourly_counts_state"
