from django.db import models
from django.utils.translation import gettext_lazy as _

from backend.common.hourly_counts import AbstractHourlyCount, AbstractHourlyCountsState


class Notification(models.Model):
    """One push to a vehicle owner about one detection, and what became of it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    # How a failure begins when the push may have reached the phone before the worker died:
    # it is never retried automatically, and a resend needs the operator's confirmation.
    DELIVERY_UNKNOWN = "delivery unknown"

    detection_id = models.BigIntegerField(verbose_name=_("detection ID"))  # detections_db id, no FK
    # One automatic violation alert per detection: the alert worker claims this key
    # before sending, so a redelivered or duplicated task finds the claim.
    dedupe_key = models.CharField(verbose_name=_("dedupe key"), max_length=64, unique=True)
    # Equals detection_id once sent, NULL otherwise: the unique index allows at most
    # one *sent* notification per detection (MariaDB has no partial indexes).
    sent_detection_id = models.BigIntegerField(
        verbose_name=_("sent detection ID"), null=True, blank=True, unique=True, editable=False
    )
    fcm_token = models.CharField(verbose_name=_("FCM token"), max_length=255, null=True, blank=True)
    title = models.CharField(verbose_name=_("title"), max_length=255, null=True, blank=True)
    body = models.TextField(verbose_name=_("body"), null=True, blank=True)
    sent_at = models.DateTimeField(verbose_name=_("sent at"), null=True, blank=True)
    status = models.CharField(verbose_name=_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    retry_count = models.IntegerField(verbose_name=_("retry count"), default=0)
    error_message = models.TextField(verbose_name=_("error message"), null=True, blank=True)
    # Set by the worker that is sending right now; a claim that is never released
    # means the outcome of that send is unknown and it must not be repeated blindly.
    claim_token = models.CharField(verbose_name=_("claim token"), max_length=36, null=True, blank=True)
    claimed_at = models.DateTimeField(verbose_name=_("claimed at"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        db_table = "notifications"
        indexes = [
            models.Index(fields=["detection_id"], name="idx_detection_id"),
            models.Index(fields=["status", "retry_count"], name="idx_status_retry"),
            models.Index(fields=["sent_at"], name="idx_sent_at"),
            # The hourly counts (backend.notifications.counts): by hour created, and what changed.
            models.Index(fields=["created_at"], name="idx_notification_created"),
            models.Index(fields=["updated_at"], name="idx_notification_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "sent", "failed"]),
                name="notifications_status_valid",
            ),
            models.CheckConstraint(
                condition=(
                    # Spelled out: a CHECK that evaluates to NULL passes.
                    models.Q(status="sent", sent_detection_id__isnull=False, sent_detection_id=models.F("detection_id"))
                    | (~models.Q(status="sent") & models.Q(sent_detection_id__isnull=True))
                ),
                name="notifications_sent_guard_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"notification {self.pk} for detection {self.detection_id} ({self.status})"

    @property
    def delivery_unknown(self) -> bool:
        return (self.error_message or "").startswith(self.DELIVERY_UNKNOWN)


class HourlyCount(AbstractHourlyCount):
    """Notifications per UTC hour of `created_at` by status (backend.notifications.counts)."""

    class Meta:
        verbose_name = _("hourly count")
        verbose_name_plural = _("hourly counts")
        db_table = "notification_hourly_counts"
        constraints = [
            models.UniqueConstraint(fields=["facet", "hour", "key"], name="notification_hourly_count_unique"),
        ]
        # Covers the statistics' sums: they never read the table's rows.
        indexes = [models.Index(fields=["facet", "hour", "key", "count"], name="idx_notification_counts_sum")]


class HourlyCountsState(AbstractHourlyCountsState):
    class Meta:
        verbose_name = _("hourly counts state")
        verbose_name_plural = _("hourly counts states")
        db_table = "notification_hourly_counts_state"
