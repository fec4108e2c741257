#!/usr/bin/env bash
# Container entry point of the OCR role: Celery prefork pool on ocr_queue.
set -euo pipefail
cd "$(dirname "$0")/.."
CELERY="${CELERY:-celery}"; [ -x .venv/bin/celery ] && [ "$CELERY" = celery ] && CELERY=.venv/bin/celery
exec "$CELERY" -A backend.ocr.worker worker --pool=prefork --concurrency="${OCR_CONCURRENCY:-2}" \
  -Q ocr_queue -n "${OCR_WORKER_NAME:-ocr@%h}" --loglevel="${LOG_LEVEL:-INFO}" --without-mingle "$@"
