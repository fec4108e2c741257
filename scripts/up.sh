#!/usr/bin/env bash
# Set up and run the whole SpeedCam system on this machine (Debian, root, no Docker):
# MariaDB, RabbitMQ (+MQTT, +management), the GCS emulator, gunicorn, the MQTT
# subscriber, the OCR worker (prefork), the alert worker (gevent) and Flower, all on
# 127.0.0.1. Then it publishes sample detections through the real pipeline and shows
# how they ended. Safe to run again: services are reused, the roles restarted on the
# current code. Stop everything with ./scripts/down.sh.
#
# ./scripts/up.sh --tls: the same, production-like: production settings with generated
# secrets, TLS only from outside (Caddy serves the API, admin and /flower/ over HTTPS; the
# broker speaks AMQPS and MQTTS only), its own ports and data (.state/tls). A local CA signs
# the certificates unless TLS_CA_FILE, TLS_CERT_FILE and TLS_KEY_FILE name yours.
# Stop it with ./scripts/down.sh --tls.
SPEEDCAM_PROFILE=dev
[ "${1:-}" = --tls ] && SPEEDCAM_PROFILE=tls
. "$(dirname "$0")/lib/common.sh"
cd "$REPO_ROOT"
TLS=""; [ "$SPEEDCAM_PROFILE" = tls ] && TLS=1
# The settings file of this system: .env at the root for the demo (read by manage.py in any
# shell); the TLS profile keeps its own and the roles ignore the root .env.
ENV_FILE=.env; PUBLIC_URL="http://127.0.0.1:$API_PORT"; FLOWER_URL="http://127.0.0.1:$FLOWER_PORT/"; CURL="curl"
if [ -n "$TLS" ]; then
  ENV_FILE="$STATE_DIR/speedcam.env"; export SPEEDCAM_SKIP_DOTENV=true
  PUBLIC_URL="https://127.0.0.1:$HTTPS_PORT"; FLOWER_URL="$PUBLIC_URL/flower/"; CURL="curl --cacert $TLS_CA_FILE"
fi

ensure_system_packages
ensure_venv test
start_services

# --- .env: the settings this system runs with, for `python manage.py ...` in any shell
secret=""; flower_password=""; admin_password=""; client_id=""; metrics_token=""
if [ -f "$ENV_FILE" ]; then
  secret=$(sed -n 's/^DJANGO_SECRET_KEY=//p' "$ENV_FILE")
  flower_password=$(sed -n 's/^FLOWER_PASSWORD=//p' "$ENV_FILE")
  admin_password=$(sed -n 's/^ADMIN_PASSWORD=//p' "$ENV_FILE")
  client_id=$(sed -n 's/^MQTT_CLIENT_ID=//p' "$ENV_FILE")
  metrics_token=$(sed -n 's/^METRICS_TOKEN=//p' "$ENV_FILE")
fi
[ -n "$secret" ] || secret=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')
[ -n "$flower_password" ] || flower_password=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(24))')
[ -n "$metrics_token" ] || metrics_token=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')
[ -n "$admin_password" ] || admin_password=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(12))')
# Unguessable: whoever connects with the subscriber's client id closes its connection.
[ -n "$client_id" ] || client_id="speedcam-main-$("$PY" -c 'import secrets; print(secrets.token_hex(8))')"
# Secrets inside: readable by this user only.
umask 077
rm -f "$ENV_FILE"
{
  echo "# Written by ./scripts/up.sh on $(date -Iseconds). See backend.env.example for every variable."
  if [ -n "$TLS" ]; then
    echo "DJANGO_SETTINGS_MODULE=backend.config.settings.prod"
    echo "SPEEDCAM_SKIP_DOTENV=true"
    echo "DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost"
    echo "CSRF_TRUSTED_ORIGINS=https://127.0.0.1:$HTTPS_PORT,https://localhost:$HTTPS_PORT"
    echo "NUM_PROXIES=1"
    echo "STATIC_ROOT=$STATE_DIR/static"
    echo "RABBITMQ_ADMIN_PASSWORD=$RMQ_PASSWORD"
    echo "EDGE_MQTT_TLS=true"
    echo "EDGE_TLS_CA_FILE=$TLS_CA_FILE"
    echo "FLOWER_URL_PREFIX=flower"
  else
    echo "DJANGO_SETTINGS_MODULE=backend.config.settings.dev"
  fi
  echo "DJANGO_SECRET_KEY=$secret"
  echo "METRICS_TOKEN=$metrics_token"
  service_env
  echo "OCR_MOCK=${OCR_MOCK:-false}"   # the real EasyOCR engine with the shipped plate model
  echo "FCM_MOCK=${FCM_MOCK:-false}"   # the real firebase-admin SDK, against the FCM emulator
  echo "INGEST_METRICS_PORT=$INGEST_METRICS_PORT"
  echo "OCR_METRICS_PORT=$OCR_METRICS_PORT"
  echo "ALERT_METRICS_PORT=$ALERT_METRICS_PORT"
  echo "MAINTENANCE_METRICS_PORT=$MAINTENANCE_METRICS_PORT"
  echo "API_URL=$PUBLIC_URL"
  echo "FLOWER_URL=$FLOWER_URL"
  echo "FLOWER_USER=admin"
  echo "FLOWER_PASSWORD=$flower_password"
  echo "ADMIN_USER=admin"
  echo "ADMIN_PASSWORD=$admin_password"
  echo "LOG_FORMAT=json"
  echo "MQTT_CLIENT_ID=$client_id"
  echo "EDGE_MQTT_PORT=$RMQ_MQTT_PORT"
} >"$ENV_FILE"
chmod 600 "$ENV_FILE"
umask 022
set -a; . "$ENV_FILE"; set +a
[ -z "$TLS" ] || "$PY" manage.py collectstatic --noinput -v0

log "migrating the four databases"
migrate_all
"$PY" manage.py shell -v0 -c "
from django.contrib.auth import get_user_model
User = get_user_model()
user, _ = User.objects.get_or_create(username='admin', defaults={'is_staff': True, 'is_superuser': True})
user.set_password('$admin_password'); user.save()"
"$PY" manage.py seed_demo_vehicles >/dev/null
# The demo camera, provisioned as a real one is: registry entry plus its own broker user,
# which may publish on its own topics only. Its secret goes to a mode-600 file.
CAMERA_ENV="$STATE_DIR/edge/cam-01.env"
"$PY" manage.py provision_camera cam-01 --location "서울 강남구 테헤란로 123" --limit 60 \
  --lat 37.5009 --lon 127.0363 --away 강남역 --towards 선릉역 --env-file "$CAMERA_ENV" \
  >/dev/null 2>"$STATE_DIR/provision_camera.log" || die "provisioning cam-01 failed: see $STATE_DIR/provision_camera.log"
operator_token=$("$PY" manage.py create_api_token demo-operator --role operator)

# The roles run this checkout's code under supervisord, which restarts one that dies:
# restart any left from an earlier run (data and backing services stay).
export GUNICORN_BIND="127.0.0.1:$API_PORT" BEAT_SCHEDULE_FILE="$STATE_DIR/celerybeat-schedule" \
  FLOWER_ADDRESS=127.0.0.1 FLOWER_PORT="$FLOWER_PORT" FLOWER_BASIC_AUTH="admin:$flower_password" \
  FLOWER_BROKER_API="http://$RMQ_USER:$RMQ_PASSWORD@127.0.0.1:$RMQ_MGMT_PORT/api/"
start_roles

# Each worker role's endpoint answers /ready with 200 once it consumes its queue or topic.
role_ready() {  # port
  "$PY" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
    "http://127.0.0.1:$1/ready" 2>/dev/null
}
wait_for_port "$API_PORT" 30 gunicorn
wait_for_port "$FLOWER_PORT" 30 Flower
for role in "subscriber:$INGEST_METRICS_PORT" "ocr-worker:$OCR_METRICS_PORT" "alert-worker:$ALERT_METRICS_PORT" \
            "maintenance-worker:$MAINTENANCE_METRICS_PORT"; do
  deadline=$((SECONDS + 60))
  until role_ready "${role#*:}"; do
    [ $SECONDS -lt $deadline ] || die "${role%%:*} not ready ($(roles_ctl status "${role%%:*}")): see $LOG_DIR/${role%%:*}.log"
    sleep 0.3
  done
done
"$PY" -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=10)" "http://127.0.0.1:$API_PORT/readyz" || die "the API is not ready: see $LOG_DIR/web.log"

log "rendering sample snapshots in the real plate typeface"
SAMPLES_DIR="$STATE_DIR/samples"
samples=()
# plate:layout. Registered with a token, a green two-line plate, registered without a
# token, a read between two registered plates (review), and an unregistered car.
for sample in 12가3456:white-7 34나5678:green-2line 123다4567:white-8 56라7891:white-7 부산98배7654:yellow-2line; do
  plate=${sample%%:*}
  "$PY" -m backend.ocr.plate_model snapshot --plate "$plate" --layout "${sample##*:}" --seed 7 --out "$SAMPLES_DIR/$plate.jpg"
  samples+=(--image "$SAMPLES_DIR/$plate.jpg")
done
log "publishing sample detections over MQTT (edge uplink: GCS upload + detections/new)"
events=$(MQTT_USERNAME=camera-cam-01 MQTT_PASSWORD="$(sed -n 's/^SPEEDCAM_MQTT_PASSWORD=//p' "$CAMERA_ENV")" \
  "$PY" -m edge sample --camera-id cam-01 "${samples[@]}" \
  | "$PY" -c 'import json, sys; print(" ".join(json.loads(line)["event_id"] for line in sys.stdin))')
# shellcheck disable=SC2086
"$PY" manage.py show_detections $events --wait 60

cat <<INFO

SpeedCam is running (settings in ${ENV_FILE#"$REPO_ROOT"/}; logs in ${LOG_DIR#"$REPO_ROOT"/}/):
  API / admin   $PUBLIC_URL/admin/   (admin / $admin_password)
  review queue  $PUBLIC_URL/admin/detections/reviewitem/   (accept a read or type the plate)
  REST API      $PUBLIC_URL/swagger/   (docs; also /redoc/, /swagger.json)
                $CURL -H "Authorization: Bearer $operator_token" $PUBLIC_URL/api/v1/violations/
  health        $PUBLIC_URL/readyz   metrics http://127.0.0.1:$API_PORT/metrics (Bearer METRICS_TOKEN from ${ENV_FILE#"$REPO_ROOT"/})
  Flower        $FLOWER_URL      (admin / $flower_password)
  RabbitMQ UI   http://127.0.0.1:$RMQ_MGMT_PORT/    ($RMQ_USER / $RMQ_PASSWORD)
  MQTT${TLS:+S}         127.0.0.1:$RMQ_MQTT_PORT   AMQP${TLS:+S} 127.0.0.1:$RMQ_AMQP_PORT   MariaDB 127.0.0.1:$DB_PORT
  FCM emulator  http://127.0.0.1:$FCM_PORT/_control/messages   (the pushes it received)
  more samples  ${TLS:+set -a; . ${ENV_FILE#"$REPO_ROOT"/}; set +a; }MQTT_USERNAME=camera-cam-01 MQTT_PASSWORD=\$(sed -n 's/^SPEEDCAM_MQTT_PASSWORD=//p' ${CAMERA_ENV#"$REPO_ROOT"/}) \\
                  .venv/bin/python -m edge sample --count 5
  cameras       .venv/bin/python manage.py provision_camera cam-02 --location "..." --limit 80
  roles         ./scripts/roles.sh${TLS:+ --tls} status   (supervisorctl: restart ocr-worker, tail -f web, ...)
  stop          ./scripts/down.sh${TLS:+ --tls}
INFO
