#!/usr/bin/env bash
# Stop everything ./scripts/up.sh started (by PID, nothing else). Data stays in .state/dev.
SPEEDCAM_PROFILE=dev
. "$(dirname "$0")/lib/common.sh"
for role in flower beat maintenance-worker web subscriber ocr-worker alert-worker; do stop_role "$role"; done
stop_services
log "stopped"
