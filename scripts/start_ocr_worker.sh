#!/usr/bin/env bash
# Container entry point of the OCR role: Celery prefork pool on ocr_queue.
set -euo pipefail
cd "$(dirname "$0")/.."
# Prefork children run the tasks: they share one metrics endpoint (OCR_METRICS_PORT)
# through prometheus_client's multiprocess mode, whose sample files must start empty.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${TMPDIR:-/tmp}/speedcam-ocr-metrics-$$}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR"; mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
# Settings own the number of processes (OCR_CONCURRENCY, backend/config/celery.py).
# The checkout's .venv when there is one; in an image, the python on PATH.
PY="${PYTHON:-python}"; [ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && PY=.venv/bin/python
exec "$PY" -m celery -A backend.ocr.worker worker --pool=prefork \
  -Q ocr_queue -n "${OCR_WORKER_NAME:-ocr@%h}" --without-mingle "$@"
