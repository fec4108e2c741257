from __future__ import annotations

from celery import shared_task
from django.conf import settings

from backend.alert import engine
from backend.alert.senders import TransientPushError
from backend.alert.services import DetectionNotReady, send_violation_alert
from backend.common import log_context
from backend.common.task_policy import reject_invalid_arguments, retry_or_dead_letter
from backend.contracts.tasks import InvalidTaskArguments, parse_detection_task_args
from backend.messaging.topology import ALERT_TASK
from backend.notifications.services import ClaimHeld, fail_pending_alert


# ignore_result: the notification row is this task's result. Celery would store retries
# and rejections from outside the task's greenlet, where pooled connections leak.
@shared_task(name=ALERT_TASK, bind=True, max_retries=settings.ALERT_MAX_RETRIES, ignore_result=True)
def send_notification_task(self, **kwargs: object) -> None:
    try:
        args = parse_detection_task_args(kwargs)
    except InvalidTaskArguments as error:
        reject_invalid_arguments(self, error)

    def retry_later(error: Exception, at_least: float = 0.0) -> None:
        retry_or_dead_letter(
            self,
            error,
            at_least=at_least,
            base=settings.ALERT_RETRY_BACKOFF_S,
            cap=settings.ALERT_RETRY_BACKOFF_MAX_S,
            on_exhausted=lambda reason: fail_pending_alert(detection_id=args.detection_id, reason=reason),
        )

    with log_context.bound(**args.log_fields()):
        try:
            send_violation_alert(args.detection_id, sender=engine.push_sender())
        except DetectionNotReady as error:
            reject_invalid_arguments(self, error)
        except ClaimHeld as held:
            # Come back when the holder has either recorded its send or is considered dead.
            retry_later(held, at_least=settings.ALERT_CLAIM_STALE_S - held.age_s + 0.5)
        except TransientPushError as error:
            retry_later(error, at_least=error.retry_after_s or 0.0)
        except Exception as error:
            retry_later(error)
