#!/usr/bin/env bash
# Set up whatever is missing (apt packages, .venv) and run the whole test suite, in steps:
# lint (ruff, import-linter's layer contracts, mypy), then the tests and, beside them, the fault drills.
# The tests start the real services (MariaDB, RabbitMQ + MQTT, GCS emulator) once, on the
# private test ports of SPEEDCAM_PROFILE=test, and stop them at the end; the drills run on
# their own profile, beside the tests. Extra arguments go to pytest and skip the drill step, e.g.
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
# (Read into a variable first: under pipefail, `fc-list | grep -q` fails when grep stops early.)
font_families=$(fc-list : family 2>/dev/null || true)
for face in "Noto Sans CJK KR" UnDotum NanumGothic Baekmuk; do
  if [[ $font_families != *"$face"* ]]; then
    apt_install fontconfig fonts-nanum fonts-nanum-extra fonts-unfonts-core fonts-baekmuk fonts-noto-cjk
    break
  fi
done
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
if [ $# -gt 0 ]; then
  log "pytest"
  run_pytest "$@"
  exit
fi
# The fault drills run beside the tests, on their own service profile (.state/drill: own
# services, ports and databases): the tests mostly wait on other processes and leave about
# half of 2 CPUs idle. Their output follows the tests'.
drill_log="$REPO_ROOT/.state/drill-step.log"
mkdir -p "$(dirname "$drill_log")"
log "pytest: fault drills (beside the tests; output in ${drill_log#"$REPO_ROOT"/})"
run_pytest -m drill --basetemp="$REPO_ROOT/.state/drill-pytest" >"$drill_log" 2>&1 &
drills=$!
trap 'kill "$drills" 2>/dev/null || true' INT TERM
log "pytest"
tests_status=0
run_pytest || tests_status=$?
drills_status=0
wait "$drills" || drills_status=$?
log "pytest: fault drills (exit $drills_status)"
cat "$drill_log"
[ $tests_status -eq 0 ] || die "the tests failed (exit $tests_status)"
[ $drills_status -eq 0 ] || die "the fault drills failed (exit $drills_status)"
