#!/usr/bin/env bash
# Container entry point of the OCR role: Celery prefork pool on ocr_queue.
set -euo pipefail
cd "$(dirname "$0")/.."
# Prefork children run the tasks: they share one metrics endpoint through prometheus_client's
# multiprocess mode, whose sample files must start empty.
if [ "${OCR_METRICS_PORT:-9112}" != 0 ]; then
  export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${TMPDIR:-/tmp}/speedcam-ocr-metrics-$$}"
  rm -rf "$PROMETHEUS_MULTIPROC_DIR"; mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
fi
CELERY="${CELERY:-celery}"; [ -x .venv/bin/celery ] && [ "$CELERY" = celery ] && CELERY=.venv/bin/celery
exec "$CELERY" -A backend.ocr.worker worker --pool=prefork --concurrency="${OCR_CONCURRENCY:-2}" \
  -Q ocr_queue -n "${OCR_WORKER_NAME:-ocr@%h}" --loglevel="${LOG_LEVEL:-INFO}" --without-mingle "$@"
