#!/usr/bin/env bash
# Container entry point of the main role.
#   start_main.sh web         gunicorn: REST API + admin
#   start_main.sh subscriber  ingest: the MQTT subscriber (exactly one per MQTT_CLIENT_ID), or
#                             with INGEST_MODE=amqp one of any number of ingest_queue consumers
#   start_main.sh             both, in one container; exits when either exits
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python}"; [ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && PY=.venv/bin/python
BIN="$(dirname "$PY")"

web() {
  exec "$BIN/gunicorn" backend.config.wsgi:application \
    --bind "${GUNICORN_BIND:-0.0.0.0:8000}" \
    --workers "${GUNICORN_WORKERS:-2}" --threads "${GUNICORN_THREADS:-4}" \
    --timeout "${GUNICORN_TIMEOUT:-30}" --access-logfile - --error-logfile -
}
# INGEST_MODE=mqtt: the one MQTT subscriber; amqp: a competing consumer of ingest_queue
# (start as many as the load needs, each with its own INGEST_METRICS_PORT or 0).
subscriber() {
  case "${INGEST_MODE:-mqtt}" in
    amqp) exec "$PY" manage.py run_amqp_ingest ;;
    *) exec "$PY" manage.py run_mqtt_subscriber ;;
  esac
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
