from __future__ import annotations

from celery import shared_task
from django.conf import settings

from backend.common import log_context
from backend.common.task_policy import reject_invalid_arguments, retry_or_dead_letter
from backend.contracts.tasks import InvalidTaskArguments, parse_detection_task_args
from backend.detections.services import fail_detection
from backend.messaging.topology import OCR_TASK
from backend.ocr import engine
from backend.ocr.evidence import EvidenceError
from backend.ocr.services import DetectionNotFound, process_detection


@shared_task(name=OCR_TASK, bind=True, max_retries=settings.OCR_MAX_RETRIES)
def process_detection_task(self, **kwargs: object) -> None:
    try:
        args = parse_detection_task_args(kwargs)
    except InvalidTaskArguments as error:
        reject_invalid_arguments(self, error)
    with log_context.bound(**args.log_fields()):
        try:
            process_detection(args.detection_id, reader=engine.plate_reader())
        except DetectionNotFound as error:
            reject_invalid_arguments(self, error)
        except EvidenceError as error:
            # Permanent: retrying cannot make a missing or altered image valid.
            fail_detection(args.detection_id, reason=str(error))
        except Exception as error:
            retry_or_dead_letter(
                self,
                error,
                base=settings.OCR_RETRY_BACKOFF_S,
                cap=settings.OCR_RETRY_BACKOFF_MAX_S,
                on_exhausted=lambda reason: fail_detection(args.detection_id, reason=reason),
            )
