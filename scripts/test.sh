#!/usr/bin/env bash
# Set up whatever is missing (apt packages, .venv) and run the whole test suite, in steps:
# lint (ruff, import-linter's layer contracts, mypy), the tests, then the fault drills.
# The tests start the real services (MariaDB, RabbitMQ + MQTT, GCS emulator) once, on the
# private test ports of SPEEDCAM_PROFILE=test, and stop them at the end; the drills run on
# their own profile. Extra arguments go to pytest and skip the drill step, e.g.
#   ./scripts/test.sh -k pipeline       ./scripts/test.sh -m drill   (the drills alone)
SPEEDCAM_PROFILE=test
. "$(dirname "$0")/lib/common.sh"
cd "$REPO_ROOT"

ensure_system_packages
# Validates docker/docker-compose.yml (no Docker engine is needed for `config`).
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then
  apt_install docker-compose
fi
# Korean faces for the plate renderer (the training smoke test renders plates).
if ! fc-list 2>/dev/null | grep -q "Noto Sans CJK KR" || ! fc-list 2>/dev/null | grep -q "UnDotum" \
   || ! fc-list 2>/dev/null | grep -q "NanumGothic" || ! fc-list 2>/dev/null | grep -q "Baekmuk"; then
  apt_install fontconfig fonts-nanum fonts-nanum-extra fonts-unfonts-core fonts-baekmuk fonts-noto-cjk
fi
# Debian's chromium and its driver, for the browser tests of the admin (selenium).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  apt_install chromium chromium-driver
fi
# The production kit's real parts: Prometheus + promtool (monitoring tests) and Caddy (the
# TLS profile). The cluster manifests are rendered with the machine's kubectl (its built-in
# kustomize v5; Debian's kubernetes-client is too old for it).
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 \
  || apt_install --no-install-recommends prometheus
command -v caddy >/dev/null 2>&1 || apt_install caddy
ensure_venv test

log "ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
log "import-linter"
"$VENV/bin/lint-imports"
log "mypy"
"$VENV/bin/mypy"

run_pytest() {
  local status=0
  "$PY" -m pytest "$@" || status=$?
  # pytest exits 5 when nothing was collected: a step that ran no test is a failure here too.
  [ $status -eq 5 ] && log "pytest collected no tests" && return 1
  return $status
}
log "pytest"
run_pytest "$@"
if [ $# -eq 0 ]; then
  log "pytest: fault drills"
  run_pytest -m drill
fi
