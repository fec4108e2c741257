#!/usr/bin/env bash
# Container entry point of the alert role: Celery gevent pool on fcm_queue.
set -euo pipefail
cd "$(dirname "$0")/.."
# Under gevent each task is a new greenlet; a shared pool keeps connections reused.
export DB_POOL_SIZE="${DB_POOL_SIZE:-20}"
# Celery's green consumer loop (synloop) drains the idle event connection for 100 ms per
# cycle while AMQP heartbeats are on, taking in at most ~10 tasks/s. TCP keepalive still
# detects a dead broker connection.
export BROKER_HEARTBEAT_S="${BROKER_HEARTBEAT_S:-0}"
# The checkout's .venv when there is one; in an image, the python on PATH.
PY="${PYTHON:-python}"; [ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && PY=.venv/bin/python
exec "$PY" -m celery -A backend.alert.worker worker --pool=gevent --concurrency="${ALERT_CONCURRENCY:-100}" \
  -Q fcm_queue -n "${ALERT_WORKER_NAME:-alert@%h}" --loglevel="${LOG_LEVEL:-INFO}" --without-mingle "$@"
