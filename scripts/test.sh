#!/usr/bin/env bash
# Set up whatever is missing (apt packages, .venv) and run the whole test suite, in steps:
# lint (ruff, import-linter's layer contracts, mypy), then the tests and, beside them, the
# standalone tests and the fault drills.
# The tests start the real services (MariaDB, RabbitMQ + MQTT, GCS emulator) once, on the
# private test ports of SPEEDCAM_PROFILE=test, and stop them at the end; the drills run on
# their own profile. Extra arguments go to one pytest session instead, e.g.
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
# Three pytest sessions side by side: the tests that need the services, the standalone
# ones (rendering, plate models: CPU-bound, no service or database), and the fault drills
# on their own service profile (.state/drill: own services, ports and databases). The
# service tests mostly wait on other processes and would leave about half of 2 CPUs idle.
# The side sessions' output follows the main one's; any session failing fails the run.
side_logs="$REPO_ROOT/.state"
mkdir -p "$side_logs"
log "pytest: standalone tests and fault drills, beside the tests (output in .state/*-step.log)"
# Niced: they take the CPU the service tests leave idle, not the CPU those are waiting for.
side_session() {  # name pytest-args...
  local name=$1; shift
  renice -n 10 "$BASHPID" >/dev/null
  run_pytest "$@" --basetemp="$side_logs/$name-pytest" >"$side_logs/$name-step.log" 2>&1
}
side_session standalone -m standalone &
standalone=$!
side_session drill -m drill &
drills=$!
trap 'kill "$standalone" "$drills" 2>/dev/null || true' INT TERM
log "pytest"
tests_status=0
run_pytest -m "not drill and not standalone" || tests_status=$?
standalone_status=0
wait "$standalone" || standalone_status=$?
log "pytest: standalone tests (exit $standalone_status)"
cat "$side_logs/standalone-step.log"
drills_status=0
wait "$drills" || drills_status=$?
log "pytest: fault drills (exit $drills_status)"
cat "$side_logs/drill-step.log"
[ $tests_status -eq 0 ] || die "the tests failed (exit $tests_status)"
[ $standalone_status -eq 0 ] || die "the standalone tests failed (exit $standalone_status)"
[ $drills_status -eq 0 ] || die "the fault drills failed (exit $drills_status)"
