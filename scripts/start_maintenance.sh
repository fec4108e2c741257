#!/usr/bin/env bash
# Entry point of the main role's periodic jobs (stale-work sweeper, retention).
#   start_maintenance.sh worker   runs the jobs: Celery solo pool on maintenance_queue
#   start_maintenance.sh beat     the schedule (backend.messaging.topology.beat_schedule);
#                                 exactly ONE per deployment, or every job runs twice
set -euo pipefail
cd "$(dirname "$0")/.."
# The checkout's .venv when there is one; in an image, the python on PATH.
PY="${PYTHON:-python}"; [ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && PY=.venv/bin/python
case "${1:-worker}" in
  worker)
    exec "$PY" -m celery -A backend.maintenance.worker worker --pool=solo -Q maintenance_queue \
      -n "${MAINTENANCE_WORKER_NAME:-maintenance@%h}" --without-mingle ;;
  beat)
    schedule="${BEAT_SCHEDULE_FILE:-${TMPDIR:-/tmp}/speedcam-celerybeat-schedule}"
    exec "$PY" -m celery -A backend.maintenance.worker beat --schedule="$schedule" ;;
  *) echo "usage: $0 [worker|beat]" >&2; exit 2 ;;
esac
