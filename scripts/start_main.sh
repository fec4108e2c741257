#!/usr/bin/env bash
# Container entry point of the main role.
#   start_main.sh web         gunicorn: REST API + admin
#   start_main.sh subscriber  ingest: the MQTT subscriber (exactly one per MQTT_CLIENT_ID), or
#                             with INGEST_MODE=amqp one of any number of ingest_queue consumers
#   start_main.sh             both, in one container; exits when either exits
set -euo pipefail
cd "$(dirname "$0")/.."
# The checkout's .venv when there is one; in an image, the python on PATH. Every tool runs
# as `python -m`, so it is the one installed for that interpreter.
PY="${PYTHON:-python}"; [ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && PY=.venv/bin/python
command -v "$PY" >/dev/null || { echo "start_main.sh: no python interpreter ($PY) on PATH" >&2; exit 127; }

web() {
  # Each gunicorn worker is a process: they share one /metrics through prometheus_client's
  # multiprocess mode, whose sample files must start empty (gunicorn.conf.py cleans up after
  # a worker that exits).
  export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${TMPDIR:-/tmp}/speedcam-web-metrics-$$}"
  rm -rf "$PROMETHEUS_MULTIPROC_DIR"; mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
  exec "$PY" -m gunicorn backend.config.wsgi:application --config python:backend.config.gunicorn \
    --bind "${GUNICORN_BIND:-0.0.0.0:8000}" \
    --workers "${GUNICORN_WORKERS:-2}" --threads "${GUNICORN_THREADS:-4}" \
    --timeout "${GUNICORN_TIMEOUT:-30}" --access-logfile - --error-logfile -
}
# The settings' INGEST_MODE picks it: mqtt, the one MQTT subscriber; amqp, a competing
# consumer of ingest_queue (start as many as the load needs, each with its own
# INGEST_METRICS_PORT or 0).
subscriber() {
  exec "$PY" manage.py run_ingest
}

case "${1:-all}" in
  web) web ;;
  subscriber) subscriber ;;
  all)
    web & web_pid=$!
    subscriber & sub_pid=$!
    trap 'kill -TERM $web_pid $sub_pid 2>/dev/null' TERM INT
    wait -n; status=$?
    kill -TERM $web_pid $sub_pid 2>/dev/null || true
    wait || true
    exit $status ;;
  *) echo "usage: $0 [web|subscriber|all]" >&2; exit 2 ;;
esac
