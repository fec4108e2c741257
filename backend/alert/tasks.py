from __future__ import annotations

from celery import shared_task
from django.conf import settings

from backend.alert import engine
from backend.alert.services import DetectionNotReady, send_violation_alert
from backend.common.task_policy import reject_invalid_arguments, retry_or_dead_letter
from backend.contracts.tasks import InvalidTaskArguments, parse_detection_task_args
from backend.messaging.topology import ALERT_TASK
from backend.notifications.services import fail_pending_alert


@shared_task(name=ALERT_TASK, bind=True, max_retries=settings.ALERT_MAX_RETRIES)
def send_notification_task(self, **kwargs: object) -> None:
    try:
        args = parse_detection_task_args(kwargs)
    except InvalidTaskArguments as error:
        reject_invalid_arguments(self, error)
    try:
        send_violation_alert(args.detection_id, sender=engine.push_sender())
    except DetectionNotReady as error:
        reject_invalid_arguments(self, error)
    except Exception as error:
        retry_or_dead_letter(
            self,
            error,
            base=settings.ALERT_RETRY_BACKOFF_S,
            cap=300.0,
            on_exhausted=lambda reason: fail_pending_alert(detection_id=args.detection_id, reason=reason),
        )
