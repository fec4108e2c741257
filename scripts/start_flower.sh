#!/usr/bin/env bash
# Container entry point of Flower, the Celery monitor (main image). Needs FLOWER_BASIC_AUTH
# (user:password) and FLOWER_BROKER_API (the management API with a login, for queue
# lengths); Flower reads every FLOWER_* variable itself. FLOWER_URL_PREFIX=flower when it is served under /flower/ by the TLS proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
# The checkout's .venv when there is one; in an image, the python on PATH.
PY="${PYTHON:-python}"; [ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && PY=.venv/bin/python
[ -n "${FLOWER_BASIC_AUTH:-}" ] || { echo "start_flower.sh: FLOWER_BASIC_AUTH (user:password) is not set" >&2; exit 2; }
exec "$PY" -m celery -A backend.config.celery flower --address="${FLOWER_ADDRESS:-0.0.0.0}" \
  --port="${FLOWER_PORT:-5555}"
