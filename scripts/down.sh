#!/usr/bin/env bash
# Stop everything ./scripts/up.sh started (by PID, nothing else). Data stays in .state/dev
# (./scripts/down.sh --tls: what ./scripts/up.sh --tls started; data in .state/tls).
SPEEDCAM_PROFILE=dev
[ "${1:-}" = --tls ] && SPEEDCAM_PROFILE=tls
. "$(dirname "$0")/lib/common.sh"
for role in flower beat maintenance-worker web subscriber ocr-worker alert-worker; do stop_role "$role"; done
stop_services
log "stopped"
