#!/usr/bin/env bash
# Stop everything ./scripts/up.sh started: supervisord and its roles, then the services.
# Data stays in .state/dev (./scripts/down.sh --tls: what ./scripts/up.sh --tls started;
# data in .state/tls).
SPEEDCAM_PROFILE=dev
[ "${1:-}" = --tls ] && SPEEDCAM_PROFILE=tls
. "$(dirname "$0")/lib/common.sh"
stop_roles
stop_services
log "stopped"
