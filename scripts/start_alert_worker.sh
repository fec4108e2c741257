#!/usr/bin/env bash
# Container entry point of the alert role: Celery gevent pool on fcm_queue.
set -euo pipefail
cd "$(dirname "$0")/.."
CELERY="${CELERY:-celery}"; [ -x .venv/bin/celery ] && [ "$CELERY" = celery ] && CELERY=.venv/bin/celery
exec "$CELERY" -A backend.alert.worker worker --pool=gevent --concurrency="${ALERT_CONCURRENCY:-100}" \
  -Q fcm_queue -n "${ALERT_WORKER_NAME:-alert@%h}" --loglevel="${LOG_LEVEL:-INFO}" --without-mingle "$@"
