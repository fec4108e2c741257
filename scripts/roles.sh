#!/usr/bin/env bash
# supervisorctl for the roles ./scripts/up.sh runs under supervisord, e.g.
#   ./scripts/roles.sh status            ./scripts/roles.sh restart ocr-worker
#   ./scripts/roles.sh tail -f web       ./scripts/roles.sh --tls status   (the TLS profile)
SPEEDCAM_PROFILE=dev
[ "${1:-}" = --tls ] && { SPEEDCAM_PROFILE=tls; shift; }
. "$(dirname "$0")/lib/common.sh"
roles_ctl "$@"
