"""The main role's periodic jobs: the stale-work sweeper, retention and the hourly counts.

All three are idempotent and safe to run from several maintenance workers at once: a
sweep or retention run holds a named database lock and a second concurrent run does
nothing; a refresh of the counts locks their state row, so a second one waits.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone

from backend.common import log_context
from backend.common.events_log import log_transition
from backend.common.gcs import delete_object
from backend.detections import selectors as detection_selectors
from backend.detections import services as detection_services
from backend.detections.handover import hand_to_alert, hand_to_ocr, linked_to_its_trace
from backend.detections.models import Detection
from backend.maintenance import metrics
from backend.maintenance.models import MaintenanceRun
from backend.notifications import selectors as notification_selectors
from backend.notifications import services as notification_services
from backend.notifications.models import Notification

logger = logging.getLogger(__name__)
MAX_IDS_PER_ACTION = 200  # kept in a run's details


class _Run:
    """Counts and ids of one job run; saved as a MaintenanceRun when it ends."""

    def __init__(self, job: str) -> None:
        self.job = job
        self.started_at = timezone.now()
        self.counts: Counter[str] = Counter()
        self.ids: dict[str, list[int]] = {}

    def record(self, action: str, detection_id: int | None = None) -> None:
        self.counts[action] += 1
        metrics.ACTIONS.labels(self.job, action).inc()
        if detection_id is not None:
            ids = self.ids.setdefault(action, [])
            if len(ids) < MAX_IDS_PER_ACTION:
                ids.append(detection_id)

    def save(self) -> MaintenanceRun:
        run = MaintenanceRun.objects.create(
            job=self.job,
            started_at=self.started_at,
            finished_at=timezone.now(),
            summary=dict(self.counts),
            details=self.ids,
        )
        logger.info("%s run finished", self.job, extra={"job": self.job, "summary": run.summary})
        return run


@contextmanager
def _exclusive(name: str) -> Iterator[bool]:
    """A MariaDB/MySQL named lock on the default database: True when this run holds it."""
    connection = connections["default"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT GET_LOCK(%s, 0)", [name])
        acquired = cursor.fetchone()[0] == 1
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT RELEASE_LOCK(%s)", [name])


def _run_exclusively(job: str, lock: str, body: Callable[[_Run], None]) -> MaintenanceRun | None:
    """Run one job under its named lock, timed and recorded; None when another run holds it."""
    with _exclusive(lock) as acquired:
        if not acquired:
            logger.info("%s skipped: another run is in progress", job, extra={"job": job})
            return None
        started = time.monotonic()
        run = _Run(job)
        body(run)
        metrics.RUN_SECONDS.labels(job).observe(time.monotonic() - started)
        return run.save()


def _batches(fetch, batch_size: int) -> Iterator[list[Detection]]:
    after_id = 0
    while True:
        batch = fetch(after_id=after_id, limit=batch_size)
        if not batch:
            return
        yield batch
        after_id = batch[-1].pk


def sweep_stale_work(now: datetime | None = None) -> MaintenanceRun | None:
    """Re-dispatch work that a lost message or a dead worker left behind.

    * pending/processing detections untouched for SWEEP_OCR_STALE_S: the OCR task
      again (the OCR task is idempotent); after SWEEP_MAX_ATTEMPTS, failed;
    * completed detections with no final notification SWEEP_ALERT_STALE_S after the
      alert hand-over: the alert task again (its claim makes a repeat harmless);
      after SWEEP_MAX_ATTEMPTS, given up and logged for an operator.
    Returns the run's record, or None when another sweep holds the lock.
    """
    now = now or timezone.now()

    def sweep(run: _Run) -> None:
        _sweep_ocr(run, cutoff=now - timedelta(seconds=settings.SWEEP_OCR_STALE_S))
        _sweep_alerts(run, cutoff=now - timedelta(seconds=settings.SWEEP_ALERT_STALE_S))

    return _run_exclusively(MaintenanceRun.Job.SWEEP, "speedcam.sweep_stale_work", sweep)


def _sweep_ocr(run: _Run, *, cutoff: datetime) -> None:
    def fetch(**page: int) -> list[Detection]:
        return detection_selectors.stale_ocr_work(cutoff=cutoff, **page)

    for batch in _batches(fetch, settings.SWEEP_BATCH_SIZE):
        for detection in batch:
            with log_context.bound(event_id=detection.event_id, detection_id=detection.pk):
                _sweep_one_ocr(run, detection)


def _sweep_one_ocr(run: _Run, detection: Detection) -> None:
    if detection.sweep_count >= settings.SWEEP_MAX_ATTEMPTS:
        detection_services.fail_detection(
            detection.pk,
            reason=f"stuck in {detection.status}: re-dispatched {detection.sweep_count} times without a result",
        )
        run.record("ocr_given_up", detection.pk)
        return
    detection_services.count_redispatch(detection)
    with linked_to_its_trace("sweeper re-dispatch to ocr", detection):
        hand_to_ocr(detection)
    run.record("ocr_redispatched", detection.pk)
    log_transition(logger, "stale detection re-dispatched to OCR", level=logging.WARNING, status=detection.status)


def _sweep_alerts(run: _Run, *, cutoff: datetime) -> None:
    def fetch(**page: int) -> list[Detection]:
        return detection_selectors.unsettled_alerts(cutoff=cutoff, **page)

    final = {Notification.Status.SENT, Notification.Status.FAILED}
    for batch in _batches(fetch, settings.SWEEP_BATCH_SIZE):
        notifications = notification_selectors.alert_states([detection.pk for detection in batch])
        settled = []
        for detection in batch:
            notification = notifications.get(detection.pk)
            if notification is not None and notification.status in final:
                settled.append(detection.pk)
                continue
            if notification is not None and notification.updated_at >= cutoff:
                continue  # being worked on (a retry is scheduled): leave it alone
            with log_context.bound(event_id=detection.event_id, detection_id=detection.pk):
                if detection.sweep_count >= settings.SWEEP_MAX_ATTEMPTS:
                    settled.append(detection.pk)
                    run.record("alerts_given_up", detection.pk)
                    log_transition(
                        logger,
                        "alert given up after re-dispatches: resend from the admin once the cause is fixed",
                        level=logging.ERROR,
                    )
                    continue
                detection_services.count_redispatch(detection)
                with linked_to_its_trace("sweeper re-dispatch to alert", detection):
                    hand_to_alert(detection)
                run.record("alerts_redispatched", detection.pk)
                log_transition(logger, "stale alert re-dispatched", level=logging.WARNING)
        run.counts["alerts_settled"] += detection_services.mark_alert_settled(settled)


def apply_retention(now: datetime | None = None) -> MaintenanceRun | None:
    """Delete evidence images and personal data past their retention period.

    Unmatched violations (no registered vehicle) are kept RETENTION_UNMATCHED_DAYS,
    matched (notified) ones RETENTION_NOTIFIED_DAYS, counted from detection time.
    The detection row stays without plate, vehicle or image for statistics; the
    notification keeps its status and times. An image that cannot be deleted now
    (storage down) keeps its detection for the next run.
    """
    now = now or timezone.now()

    def purge(run: _Run) -> None:
        for matched, days, label in (
            (False, settings.RETENTION_UNMATCHED_DAYS, "unmatched"),
            (True, settings.RETENTION_NOTIFIED_DAYS, "notified"),
        ):
            _purge(run, cutoff=now - timedelta(days=days), matched=matched, label=label)

    return _run_exclusively(MaintenanceRun.Job.RETENTION, "speedcam.apply_retention", purge)


def _purge(run: _Run, *, cutoff: datetime, matched: bool, label: str) -> None:
    def fetch(**page: int) -> list[Detection]:
        return detection_selectors.retention_due(cutoff=cutoff, matched=matched, **page)

    for batch in _batches(fetch, settings.SWEEP_BATCH_SIZE):
        purgeable = []
        for detection in batch:
            if detection.image_gcs_uri and detection.image_verified_at is None:
                # Never verified as this event's evidence (hash mismatch, a foreign object):
                # it may be someone else's, so it is not ours to delete.
                run.record("images_kept_unverified", detection.pk)
            elif detection.image_gcs_uri and detection_selectors.evidence_shared(
                detection.image_gcs_uri, besides=detection.pk
            ):
                run.record("images_kept_shared", detection.pk)
            elif detection.image_gcs_uri:
                try:
                    deleted = delete_object(detection.image_gcs_uri)
                except Exception as error:  # storage trouble: try this one again next run
                    run.record("image_delete_errors", detection.pk)
                    logger.warning("evidence image not deleted: %s", error, extra={"detection_id": detection.pk})
                    continue
                run.record("images_deleted" if deleted else "images_already_gone", detection.pk)
            purgeable.append(detection.pk)
        # Notifications first: a crash in between leaves the detection due, and the next run finishes it.
        run.counts["notifications_scrubbed"] += notification_services.scrub_personal_data(purgeable)
        purged = detection_services.purge_personal_data(purgeable)
        run.counts[f"{label}_purged"] += purged
        if purged:
            logger.info(
                "personal data purged",
                extra={"kind": label, "detections": purged, "cutoff": cutoff.isoformat()},
            )


def refresh_hourly_counts() -> int:
    """Take what changed into the statistics' hourly counts (detections and pushes). Runs
    every minute, so it is timed and counted but not recorded as a MaintenanceRun."""
    started = time.monotonic()
    hours = detection_services.refresh_hourly_counts() + notification_services.refresh_hourly_counts()
    metrics.RUN_SECONDS.labels("hourly_counts").observe(time.monotonic() - started)
    metrics.ACTIONS.labels("hourly_counts", "hours_recounted").inc(hours)
    logger.debug("hourly counts refreshed", extra={"hours_recounted": hours})
    return hours
