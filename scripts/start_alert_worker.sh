#!/usr/bin/env bash
# Container entry point of the alert role: Celery gevent pool on fcm_queue.
set -euo pipefail
cd "$(dirname "$0")/.."
# Settings own the greenlets (ALERT_CONCURRENCY), the database pool and the heartbeat
# (backend/config/settings, backend/config/celery.py): nothing here overrides them.
# The checkout's .venv when there is one; in an image, the python on PATH.
PY="${PYTHON:-python}"; [ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && PY=.venv/bin/python
exec "$PY" -m celery -A backend.alert.worker worker --pool=gevent \
  -Q fcm_queue -n "${ALERT_WORKER_NAME:-alert@%h}" --without-mingle "$@"
