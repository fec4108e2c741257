#!/usr/bin/env bash
# Start, stop or show the backing services of a profile (dev or test):
#   SPEEDCAM_PROFILE=test ./scripts/services.sh start|stop|status|env
. "$(dirname "$0")/lib/common.sh"

case "${1:-}" in
  start) ensure_system_packages; ensure_venv; start_services ;;
  stop) stop_services ;;
  status)
    for pair in "MariaDB:$DB_PORT" "RabbitMQ-AMQP:$RMQ_AMQP_PORT" "RabbitMQ-MQTT:$RMQ_MQTT_PORT" \
                "RabbitMQ-management:$RMQ_MGMT_PORT" "GCS-emulator:$GCS_PORT" \
                "FCM-emulator:$FCM_PORT" "OTLP-receiver:$OTLP_PORT"; do
      if port_open "${pair#*:}"; then state=up; else state=down; fi
      printf '%-22s 127.0.0.1:%-6s %s\n' "${pair%%:*}" "${pair#*:}" "$state"
    done ;;
  env) service_env ;;
  *) echo "usage: SPEEDCAM_PROFILE=dev|test $0 start|stop|status|env" >&2; exit 2 ;;
esac
