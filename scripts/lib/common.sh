# shellcheck shell=bash
# Shared by up.sh, down.sh, test.sh and services.sh: install what is missing and
# start/stop the backing services (MariaDB, RabbitMQ + MQTT + management, the GCS
# emulator) as private processes on 127.0.0.1. No Docker, no systemd.
#
# SPEEDCAM_PROFILE selects a port set and a state directory, so the test suite
# never touches a running demo:  dev -> .state/dev  (./scripts/up.sh)
#                                test -> .state/test (./scripts/test.sh)
#                                bench -> .state/bench (scripts/bench/*)
#                                drill -> .state/drill (scripts/drills/run)
#                                tls -> .state/tls (./scripts/up.sh --tls: production-like,
#                                       TLS-only broker, Caddy in front, generated secrets)

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SPEEDCAM_PROFILE="${SPEEDCAM_PROFILE:-dev}"
STATE_DIR="$REPO_ROOT/.state/$SPEEDCAM_PROFILE"
VENV="$REPO_ROOT/.venv"
PY="$VENV/bin/python"

case "$SPEEDCAM_PROFILE" in
  dev)  _base=0 ;;
  test) _base=10 ;;
  bench) _base=20 ;;
  drill) _base=30 ;;
  tls) _base=40 ;;
  *) echo "SPEEDCAM_PROFILE must be dev, test, bench, drill or tls, got '$SPEEDCAM_PROFILE'" >&2; exit 2 ;;
esac
DB_PORT="${DB_PORT:-$((3307 + _base))}"
RMQ_AMQP_PORT="${RMQ_AMQP_PORT:-$((5673 + _base))}"
RMQ_MQTT_PORT="${RMQ_MQTT_PORT:-$((1884 + _base))}"
RMQ_MGMT_PORT="${RMQ_MGMT_PORT:-$((15673 + _base))}"
RMQ_EPMD_PORT="${RMQ_EPMD_PORT:-$((4370 + _base))}"
RMQ_PROMETHEUS_PORT="${RMQ_PROMETHEUS_PORT:-$((15792 + _base))}"
GCS_PORT="${GCS_PORT:-$((9023 + _base))}"
FCM_PORT="${FCM_PORT:-$((9099 + _base))}"
OTLP_PORT="${OTLP_PORT:-$((4318 + _base))}"
API_PORT="${API_PORT:-$((8000 + _base))}"
FLOWER_PORT="${FLOWER_PORT:-$((5555 + _base))}"
INGEST_METRICS_PORT="${INGEST_METRICS_PORT:-$((9108 + _base))}"
OCR_METRICS_PORT="${OCR_METRICS_PORT:-$((9112 + _base))}"
ALERT_METRICS_PORT="${ALERT_METRICS_PORT:-$((9113 + _base))}"
MAINTENANCE_METRICS_PORT="${MAINTENANCE_METRICS_PORT:-$((9114 + _base))}"

HTTPS_PORT="${HTTPS_PORT:-$((8443 + _base))}"

# The tls profile runs production settings, which refuse the fixed local passwords: each of
# its secrets is derived from one random profile secret kept in the state directory.
if [ "$SPEEDCAM_PROFILE" = tls ]; then
  mkdir -p "$STATE_DIR"
  if [ ! -s "$STATE_DIR/profile.secret" ]; then
    (umask 077; head -c 32 /dev/urandom | sha256sum | cut -c1-64 >"$STATE_DIR/profile.secret")
  fi
  _profile_secret=$(cat "$STATE_DIR/profile.secret")
  profile_secret() { printf '%s:%s' "$_profile_secret" "$1" | sha256sum | cut -c1-40; }
else
  profile_secret() { echo "speedcam-$1-local-pass"; }
fi

DB_USER=speedcam
RMQ_USER=speedcam
if [ "$SPEEDCAM_PROFILE" = tls ]; then
  DB_PASSWORD="${DB_PASSWORD:-$(profile_secret db)}"
  RMQ_PASSWORD="${RMQ_PASSWORD:-$(profile_secret broker)}"
else
  DB_PASSWORD="${DB_PASSWORD:-speedcam-pass}"
  RMQ_PASSWORD="${RMQ_PASSWORD:-speedcam-pass}"
fi
RMQ_VHOST=speedcam
# Each backend role's own database and broker login (least privilege; local passwords).
WORKER_ROLES="ocr alert maintenance"
BACKEND_ROLES="main $WORKER_ROLES"
role_db_user() { echo "speedcam_$1"; }
role_broker_user() { echo "speedcam-$1"; }
role_password() { profile_secret "$1"; }
GCS_BUCKET_NAME="${GCS_BUCKET_NAME:-speedcam-images}"
[ "$SPEEDCAM_PROFILE" = test ] && GCS_BUCKET_NAME=speedcam-test-images

log() { printf '[speedcam %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { log "ERROR: $*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() {  # port seconds what
  local deadline=$((SECONDS + $2))
  until port_open "$1"; do
    [ $SECONDS -lt $deadline ] || die "$3 did not open port $1 within $2 s"
    sleep 0.2
  done
}

# A process that has exited but is not yet reaped (a zombie) counts as gone: our daemons are
# adopted by PID 1, and a lazy init can leave them unreaped for seconds.
process_running() {  # pid
  local stat state
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  state=${stat##*) }  # the field after the command name, which may itself hold spaces
  state=${state%% *}
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}
pid_alive() { [ -f "$1" ] && process_running "$(cat "$1")"; }

# TERM the process in a pid file and wait for it to be gone, so an immediate restart
# does not find it still holding its port.
kill_and_wait() {  # pid_file
  local pid; pid=$(cat "$1")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do process_running "$pid" || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# --- installation ------------------------------------------------------------------

_apt_updated=""
apt_install() {  # package...
  [ "$(id -u)" -eq 0 ] || die "need root to apt-get install $*"
  log "installing $* (apt)"
  if [ -z "$_apt_updated" ]; then apt-get update -qq; _apt_updated=1; fi
  # The image's policy-rc.d keeps apt from starting system-wide daemons; ours are private.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_system_packages() {
  local missing=()
  command -v mariadbd >/dev/null 2>&1 || missing+=(mariadb-server)
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
  if [ "$SPEEDCAM_PROFILE" = tls ]; then command -v caddy >/dev/null 2>&1 || missing+=(caddy); fi
  command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)  # compilemessages
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

ensure_venv() {  # lock of a role (default: test, every role), from requirements/locks/
  local req="$REPO_ROOT/requirements/locks/${1:-test}.txt" stamp
  stamp="$VENV/.installed-$(cat "$REPO_ROOT"/requirements/locks/*.txt | sha256sum | cut -c1-16)-${1:-test}"
  if [ -f "$stamp" ]; then
    [ "${1:-test}" = edge ] || compile_translations
    return 0
  fi
  if [ ! -x "$PY" ]; then
    local python=""
    for candidate in python3 python3.13 python3.12 python3.11; do
      if "$candidate" -c "import sys; sys.exit(sys.version_info < (3, 11))" >/dev/null 2>&1; then
        python="$candidate"; break
      fi
    done
    [ -n "$python" ] || die "Python 3.11+ is required"
    log "creating virtualenv .venv with $($python --version)"
    "$python" -m venv "$VENV"
  fi
  log "installing Python requirements (locks/$(basename "$req"), hashes checked)"
  if ! "$VENV/bin/pip" install -q --disable-pip-version-check --require-hashes -r "$req" >"$VENV/pip.log" 2>&1; then
    grep -v "is ignored" "$VENV/pip.log" >&2
    die "pip could not install $req"
  fi
  "$VENV/bin/pip" check >/dev/null || die "pip check found broken requirements"
  rm -f "$VENV"/.installed-*
  touch "$stamp"
  [ "${1:-test}" = edge ] || compile_translations
}

# The Korean translations: backend/locale/*/LC_MESSAGES/django.po -> .mo (not committed),
# whenever a .po is newer than its .mo.
compile_translations() {
  local po stale=""
  for po in "$REPO_ROOT"/backend/locale/*/LC_MESSAGES/*.po; do
    [ "$po" -nt "${po%.po}.mo" ] && stale=1
  done
  [ -n "$stale" ] || return 0
  command -v msgfmt >/dev/null 2>&1 || apt_install gettext
  (cd "$REPO_ROOT/backend" && "$PY" -m django compilemessages -v0) || die "compilemessages failed"
}

# --- MariaDB -------------------------------------------------------------------------

MARIADB_DIR="$STATE_DIR/mariadb"
MARIADB_SOCKET="$MARIADB_DIR/mysqld.sock"

mariadb_root() { mariadb --no-defaults --socket="$MARIADB_SOCKET" -uroot "$@"; }

start_mariadb() {
  if pid_alive "$MARIADB_DIR/mariadbd.pid" && port_open "$DB_PORT"; then
    log "MariaDB already running on 127.0.0.1:$DB_PORT"; return 0
  fi
  port_open "$DB_PORT" && die "port $DB_PORT is taken by another process"
  mkdir -p "$MARIADB_DIR"
  if [ ! -d "$MARIADB_DIR/data/mysql" ]; then
    log "initialising MariaDB data directory"
    mariadb-install-db --no-defaults --datadir="$MARIADB_DIR/data" --user=root \
      --auth-root-authentication-method=normal --skip-test-db >"$MARIADB_DIR/install.log" 2>&1 \
      || die "mariadb-install-db failed: see $MARIADB_DIR/install.log"
  fi
  log "starting MariaDB on 127.0.0.1:$DB_PORT"
  # --no-defaults keeps /etc/mysql/my.cnf (and its /run/mysqld socket) out.
  nohup mariadbd --no-defaults --datadir="$MARIADB_DIR/data" --socket="$MARIADB_SOCKET" \
    --port="$DB_PORT" --bind-address=127.0.0.1 --pid-file="$MARIADB_DIR/mariadbd.pid" \
    --log-error="$MARIADB_DIR/error.log" --user=root \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 --skip-name-resolve \
    --max-connections=500 >"$MARIADB_DIR/mariadbd.out" 2>&1 &
  local deadline=$((SECONDS + 60))
  until mariadb-admin --no-defaults --socket="$MARIADB_SOCKET" -uroot ping >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "MariaDB did not start: see $MARIADB_DIR/error.log"
    sleep 0.2
  done
  # '_' is a wildcard in GRANT, hence the escapes; test_speedcam% covers pytest's test databases.
  mariadb_root <<SQL
CREATE DATABASE IF NOT EXISTS speedcam CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS speedcam_vehicles CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS speedcam_detections CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS speedcam_notifications CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON \`speedcam\`.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
GRANT ALL PRIVILEGES ON \`speedcam\_vehicles\`.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
GRANT ALL PRIVILEGES ON \`speedcam\_detections\`.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
GRANT ALL PRIVILEGES ON \`speedcam\_notifications\`.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
GRANT ALL PRIVILEGES ON \`test\_speedcam%\`.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
SQL
  # The workers' users; their table grants follow each migration (grant_db_roles).
  local role
  for role in $WORKER_ROLES; do
    mariadb_root -e "CREATE USER IF NOT EXISTS '$(role_db_user "$role")'@'127.0.0.1' IDENTIFIED BY '$(role_password "$role")';
                     CREATE USER IF NOT EXISTS '$(role_db_user "$role")'@'localhost' IDENTIFIED BY '$(role_password "$role")';"
  done
  # Named time zones (Asia/Seoul) for per-day statistics in local time: loaded once.
  if [ "$(mariadb_root -N -e 'SELECT COUNT(*) FROM mysql.time_zone_name')" = 0 ]; then
    mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null | mariadb_root mysql
  fi
}

stop_mariadb() {
  pid_alive "$MARIADB_DIR/mariadbd.pid" || return 0
  log "stopping MariaDB"
  mariadb-admin --no-defaults --socket="$MARIADB_SOCKET" -uroot shutdown >/dev/null 2>&1 \
    || kill "$(cat "$MARIADB_DIR/mariadbd.pid")" 2>/dev/null || true
}

# --- RabbitMQ (private node, private epmd) -------------------------------------------

RMQ_DIR="$STATE_DIR/rabbitmq"

rabbitmq_env() {
  export PATH="/usr/lib/rabbitmq/bin:$PATH"   # not /usr/sbin/rabbitmq*: those su to the rabbitmq user
  export HOME="$RMQ_DIR/home"                 # the .erlang.cookie shared by server and CLI
  export RABBITMQ_CONF_ENV_FILE="$RMQ_DIR/rabbitmq-env.conf"
  export RABBITMQ_CONFIG_FILE="$RMQ_DIR/rabbitmq.conf"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins"
  export RABBITMQ_MNESIA_BASE="$RMQ_DIR/mnesia" RABBITMQ_LOG_BASE="$RMQ_DIR/log"
  export RABBITMQ_PID_FILE="$RMQ_DIR/rabbit.pid"
  export RABBITMQ_NODENAME="speedcam-$SPEEDCAM_PROFILE@localhost"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$RMQ_AMQP_PORT"
  export RABBITMQ_DIST_PORT=$((RMQ_AMQP_PORT + 20000))
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="$RMQ_EPMD_PORT"
  export ERL_CRASH_DUMP="$RMQ_DIR/erl_crash.dump"
}

rmq() { (rabbitmq_env; "$@"); }

start_rabbitmq() {
  if pid_alive "$RMQ_DIR/server.pid" && port_open "$RMQ_AMQP_PORT" && port_open "$RMQ_MQTT_PORT"; then
    log "RabbitMQ already running (AMQP $RMQ_AMQP_PORT, MQTT $RMQ_MQTT_PORT)"; return 0
  fi
  # A node stopped a moment ago may still hold its distribution port: give it time.
  local deadline=$((SECONDS + 30))
  while port_open $((RMQ_AMQP_PORT + 20000)) && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
  for port in "$RMQ_AMQP_PORT" "$RMQ_MQTT_PORT" "$RMQ_MGMT_PORT" $((RMQ_AMQP_PORT + 20000)); do
    port_open "$port" && die "port $port is taken by another process"
  done
  (
    rabbitmq_env
    mkdir -p "$HOME" "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
    : >"$RABBITMQ_CONF_ENV_FILE"
    # default_* take effect on the first boot only (empty mnesia): user, vhost, rights.
    if [ "$SPEEDCAM_PROFILE" = tls ]; then
      # TLS only: the AMQP and MQTT ports are AMQPS and MQTTS, nothing listens in clear text
      # but the management API and metrics on loopback.
      cat >"$RABBITMQ_CONFIG_FILE" <<CONF
listeners.tcp = none
listeners.ssl.default = 127.0.0.1:$RMQ_AMQP_PORT
mqtt.listeners.tcp = none
mqtt.listeners.ssl.default = 127.0.0.1:$RMQ_MQTT_PORT
ssl_options.cacertfile = $TLS_CA_FILE
ssl_options.certfile = $TLS_CERT_FILE
ssl_options.keyfile = $TLS_KEY_FILE
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
ssl_options.versions.1 = tlsv1.3
ssl_options.versions.2 = tlsv1.2
CONF
    else
      cat >"$RABBITMQ_CONFIG_FILE" <<CONF
listeners.tcp.default = 127.0.0.1:$RMQ_AMQP_PORT
mqtt.listeners.tcp.default = 127.0.0.1:$RMQ_MQTT_PORT
CONF
    fi
    cat >>"$RABBITMQ_CONFIG_FILE" <<CONF
mqtt.allow_anonymous = false
# Larger messages are refused by the broker (the event contract allows 16 KiB).
max_message_size = 65536
mqtt.vhost = $RMQ_VHOST
mqtt.exchange = amq.topic
# Unacknowledged messages per MQTT subscription: room for the subscriber's batches
# (INGEST_BATCH_SIZE, 100). RabbitMQ's default is 10.
mqtt.prefetch = 200
management.tcp.ip = 127.0.0.1
management.tcp.port = $RMQ_MGMT_PORT
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = $RMQ_PROMETHEUS_PORT
prometheus.return_per_object_metrics = true
default_vhost = $RMQ_VHOST
default_user = $RMQ_USER
default_pass = $RMQ_PASSWORD
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
CONF
    echo '[rabbitmq_management,rabbitmq_mqtt,rabbitmq_prometheus].' >"$RABBITMQ_ENABLED_PLUGINS_FILE"
    log "starting RabbitMQ (AMQP $RMQ_AMQP_PORT, MQTT $RMQ_MQTT_PORT, management $RMQ_MGMT_PORT)"
    nohup rabbitmq-server >"$RMQ_DIR/server.out" 2>&1 &
    echo $! >"$RMQ_DIR/server.pid"
  )
  wait_for_port "$RMQ_AMQP_PORT" 90 RabbitMQ
  wait_for_port "$RMQ_MQTT_PORT" 60 "RabbitMQ MQTT"
  local deadline=$((SECONDS + 60))
  # await_startup fails at once until the node has registered with epmd: poll it.
  until rmq rabbitmqctl -q await_startup --timeout 30 >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "RabbitMQ did not finish starting: see $RMQ_DIR/log"
    sleep 0.5
  done
  provision_broker_roles
}

# Each backend role's broker user, through the management API (idempotent).
provision_broker_roles() {
  local specs=() role
  for role in $BACKEND_ROLES; do specs+=("$role=$(role_broker_user "$role"):$(role_password "$role")"); done
  wait_for_port "$RMQ_MGMT_PORT" 60 "RabbitMQ management"
  (cd "$REPO_ROOT" && "$PY" -m backend.messaging.broker_admin "http://127.0.0.1:$RMQ_MGMT_PORT" \
    "$RMQ_USER" "$RMQ_PASSWORD" "$RMQ_VHOST" "${specs[@]}") || die "could not create the roles' broker users"
}

stop_rabbitmq() {
  if pid_alive "$RMQ_DIR/server.pid"; then
    log "stopping RabbitMQ"
    rmq rabbitmqctl -q shutdown >/dev/null 2>&1 || kill "$(cat "$RMQ_DIR/server.pid")" 2>/dev/null || true
  fi
  # epmd outlives the node; ours listens on a private port.
  if [ -d "$RMQ_DIR" ]; then rmq epmd -port "$RMQ_EPMD_PORT" -kill >/dev/null 2>&1 || true; fi
}

# --- local daemons (the emulators and the receiver): <path>.pid, <path>.log ------------

start_daemon() {  # path port label command...: start it unless it already runs, wait for its port
  local path=$1 port=$2 label=$3; shift 3
  if pid_alive "$path.pid" && port_open "$port"; then
    log "$label already running on 127.0.0.1:$port"; return 0
  fi
  port_open "$port" && die "port $port is taken by another process"
  mkdir -p "$(dirname "$path")"
  log "starting $label on 127.0.0.1:$port"
  nohup "$@" >"$path.log" 2>&1 &
  echo $! >"$path.pid"
  wait_for_port "$port" 30 "$label"
}

stop_daemon() {  # path label
  pid_alive "$1.pid" || return 0
  log "stopping $2"
  kill_and_wait "$1.pid"
}

# --- GCS emulator --------------------------------------------------------------------

GCS_DIR="$STATE_DIR/gcs"

start_gcs() {
  start_daemon "$GCS_DIR/gcs" "$GCS_PORT" "GCS emulator (bucket $GCS_BUCKET_NAME)" \
    "$PY" "$REPO_ROOT/scripts/gcs_emulator.py" start --host=127.0.0.1 --port="$GCS_PORT" \
    --default-bucket="$GCS_BUCKET_NAME" --in-memory
}

stop_gcs() { stop_daemon "$GCS_DIR/gcs" "GCS emulator"; }

# --- FCM emulator (firebase-admin talks to it through FCM_ENDPOINT) -------------------

FCM_DIR="$STATE_DIR/fcm"
FIREBASE_PROJECT_ID=speedcam-local

start_fcm() {
  mkdir -p "$FCM_DIR"
  if [ ! -s "$FCM_DIR/service-account.json" ]; then
    "$PY" "$REPO_ROOT/scripts/fcm_emulator.py" service-account --out "$FCM_DIR/service-account.json" \
      --project "$FIREBASE_PROJECT_ID" --token-uri "http://127.0.0.1:$FCM_PORT/token"
  fi
  start_daemon "$FCM_DIR/fcm" "$FCM_PORT" "FCM emulator" \
    "$PY" "$REPO_ROOT/scripts/fcm_emulator.py" serve --host 127.0.0.1 --port "$FCM_PORT" \
    --service-account "$FCM_DIR/service-account.json"
}

stop_fcm() { stop_daemon "$FCM_DIR/fcm" "FCM emulator"; }

# --- OTLP receiver (the roles' traces; compose runs Jaeger instead) --------------------

OTLP_DIR="$STATE_DIR/otlp"

start_otlp() {
  start_daemon "$OTLP_DIR/otlp" "$OTLP_PORT" "OTLP receiver" \
    "$PY" "$REPO_ROOT/scripts/otlp_receiver.py" serve --host 127.0.0.1 --port "$OTLP_PORT"
}

stop_otlp() { stop_daemon "$OTLP_DIR/otlp" "OTLP receiver"; }

# --- TLS (the tls profile): a local CA and a server certificate for 127.0.0.1 -----------
# TLS_CA_FILE, TLS_CERT_FILE and TLS_KEY_FILE name your own instead.

TLS_DIR="$STATE_DIR/tls"
TLS_CA_FILE="${TLS_CA_FILE:-$TLS_DIR/ca.crt}"
TLS_CERT_FILE="${TLS_CERT_FILE:-$TLS_DIR/server.crt}"
TLS_KEY_FILE="${TLS_KEY_FILE:-$TLS_DIR/server.key}"

ensure_tls_files() {
  [ -s "$TLS_CA_FILE" ] && [ -s "$TLS_CERT_FILE" ] && [ -s "$TLS_KEY_FILE" ] && return 0
  [ "$TLS_CA_FILE" = "$TLS_DIR/ca.crt" ] || die "TLS_CA_FILE, TLS_CERT_FILE or TLS_KEY_FILE is missing"
  log "creating a local CA and a server certificate for 127.0.0.1 and localhost ($TLS_DIR)"
  mkdir -p "$TLS_DIR"
  (
    umask 077; cd "$TLS_DIR"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
      -subj "/CN=SpeedCam local CA" -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
      -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
      -extfile server.ext -out server.crt 2>/dev/null
    chmod 644 ca.crt server.crt
  ) || die "openssl could not create the local certificates"
}

# --- Caddy: the TLS front of the API, admin and Flower (tls profile) -----------------

CADDY_DIR="$STATE_DIR/caddy"

start_caddy() {
  if pid_alive "$CADDY_DIR/caddy.pid" && port_open "$HTTPS_PORT"; then
    log "Caddy already running on https://127.0.0.1:$HTTPS_PORT"; return 0
  fi
  port_open "$HTTPS_PORT" && die "port $HTTPS_PORT is taken by another process"
  mkdir -p "$CADDY_DIR"
  log "starting Caddy on https://127.0.0.1:$HTTPS_PORT (-> gunicorn $API_PORT, Flower $FLOWER_PORT)"
  SPEEDCAM_SITE_ADDRESS="https://127.0.0.1:$HTTPS_PORT" TLS_CERT_FILE="$TLS_CERT_FILE" TLS_KEY_FILE="$TLS_KEY_FILE" \
    WEB_UPSTREAM="127.0.0.1:$API_PORT" FLOWER_UPSTREAM="127.0.0.1:$FLOWER_PORT" \
    XDG_DATA_HOME="$CADDY_DIR" XDG_CONFIG_HOME="$CADDY_DIR" \
    nohup caddy run --config "$REPO_ROOT/deploy/caddy/Caddyfile" --adapter caddyfile \
    >"$CADDY_DIR/caddy.log" 2>&1 &
  echo $! >"$CADDY_DIR/caddy.pid"
  wait_for_port "$HTTPS_PORT" 30 Caddy
}

stop_caddy() {
  pid_alive "$CADDY_DIR/caddy.pid" || return 0
  log "stopping Caddy"
  kill_and_wait "$CADDY_DIR/caddy.pid"
}

start_services() {
  if [ "$SPEEDCAM_PROFILE" = tls ]; then ensure_tls_files; start_caddy; fi
  start_mariadb & local db=$!
  start_gcs & local gcs=$!
  start_fcm & local fcm=$!
  start_otlp & local otlp=$!
  start_rabbitmq & local mq=$!
  wait $db && wait $gcs && wait $fcm && wait $otlp && wait $mq || die "a service failed to start"
}

stop_services() {
  stop_caddy; stop_gcs; stop_fcm; stop_otlp; stop_mariadb & stop_rabbitmq; wait
}

# Environment for Django and the workers, matching this profile's services.
service_env() {
  local amqp_scheme=amqp
  if [ "$SPEEDCAM_PROFILE" = tls ]; then
    amqp_scheme=amqps
    echo "MQTT_TLS=true"
    echo "BROKER_TLS_CA_FILE=$TLS_CA_FILE"
  fi
  cat <<ENV
DB_HOST=127.0.0.1
DB_PORT=$DB_PORT
DB_USER=$DB_USER
DB_PASSWORD=$DB_PASSWORD
DB_SSL_MODE=disabled
RABBITMQ_HOST=127.0.0.1
CELERY_BROKER_URL=$amqp_scheme://$RMQ_USER:$RMQ_PASSWORD@127.0.0.1:$RMQ_AMQP_PORT/$RMQ_VHOST
MQTT_HOST=127.0.0.1
MQTT_PORT=$RMQ_MQTT_PORT
MQTT_USERNAME=$RMQ_USER
MQTT_PASSWORD=$RMQ_PASSWORD
RABBITMQ_MANAGEMENT_URL=http://127.0.0.1:$RMQ_MGMT_PORT
GCS_BUCKET_NAME=$GCS_BUCKET_NAME
STORAGE_EMULATOR_HOST=http://127.0.0.1:$GCS_PORT
FIREBASE_CREDENTIALS=$FCM_DIR/service-account.json
FIREBASE_PROJECT_ID=$FIREBASE_PROJECT_ID
FCM_ENDPOINT=http://127.0.0.1:$FCM_PORT
OTLP_RECEIVER_URL=http://127.0.0.1:$OTLP_PORT
ENV
  # Traced in development and tests (benchmarks and drills measure without, unless asked).
  if [ "$SPEEDCAM_PROFILE" = dev ] || [ "$SPEEDCAM_PROFILE" = test ]; then
    echo "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$OTLP_PORT"
    echo "OTEL_BSP_SCHEDULE_DELAY=500"
    echo "TRACE_URL_TEMPLATE=http://127.0.0.1:$OTLP_PORT/_control/timeline?trace_id={trace_id}"
  fi
  local role upper
  for role in $BACKEND_ROLES; do
    upper=$(echo "$role" | tr '[:lower:]' '[:upper:]')
    echo "BROKER_USER_$upper=$(role_broker_user "$role")"
    echo "BROKER_PASSWORD_$upper=$(role_password "$role")"
  done
  for role in $WORKER_ROLES; do
    upper=$(echo "$role" | tr '[:lower:]' '[:upper:]')
    echo "DB_USER_$upper=$(role_db_user "$role")"
    echo "DB_PASSWORD_$upper=$(role_password "$role")"
  done
}

# --- the SpeedCam roles, under supervisord (deploy/supervisor/speedcam.conf) -----------

LOG_DIR="$STATE_DIR/logs"
RUN_DIR="$STATE_DIR/run"
SUPERVISOR_CONF="$REPO_ROOT/deploy/supervisor/speedcam.conf"

supervisor_paths() { env SPEEDCAM_ROOT="$REPO_ROOT" SPEEDCAM_RUN_DIR="$RUN_DIR" SPEEDCAM_LOG_DIR="$LOG_DIR" "$@"; }
roles_ctl() { supervisor_paths "$VENV/bin/supervisorctl" -c "$SUPERVISOR_CONF" "$@"; }

start_roles() {  # every role, on this shell's exported environment (restarts running ones)
  stop_roles
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  log "starting the roles under supervisord (logs: ${LOG_DIR#"$REPO_ROOT"/}/<role>.log)"
  supervisor_paths "$VENV/bin/supervisord" -c "$SUPERVISOR_CONF"
}

stop_roles() {  # supervisord stops each role's process group, then exits
  pid_alive "$RUN_DIR/supervisord.pid" || return 0
  log "stopping the roles (supervisord)"
  roles_ctl shutdown >/dev/null || true
  for _ in $(seq 1 900); do pid_alive "$RUN_DIR/supervisord.pid" || return 0; sleep 0.1; done
  die "supervisord did not stop: see ${LOG_DIR#"$REPO_ROOT"/}/supervisord.log"
}

migrate_all() {
  local alias
  for alias in default vehicles_db detections_db notifications_db; do
    "$PY" "$REPO_ROOT/manage.py" migrate --database="$alias" --noinput -v0
  done
  grant_db_roles
}

# The workers' table grants (backend/config/db_roles.py); table grants need the tables,
# so after every migration. $1: a database name prefix (test_ for pytest's databases).
grant_db_roles() {
  (cd "$REPO_ROOT" && env $(service_env | xargs) SPEEDCAM_SKIP_DOTENV=true \
     DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-backend.config.settings.dev}" \
     "$PY" manage.py db_role_grants --host 127.0.0.1 --host localhost --database-prefix "${1:-}") | mariadb_root
}

# --- Benchmarks and drills ----------------------------------------------------------
# run_with_services SCRIPT.py ARGS...: the one wrapper of every benchmark and drill. It
# starts this profile's services, migrates, runs the script with the services' variables
# (and any the caller exported), then stops the services unless ARGS has --keep.
run_with_services() {
  local script=$1 status=0; shift
  cd "$REPO_ROOT"
  ensure_system_packages
  ensure_venv test
  start_services >/dev/null
  set -a; eval "$(service_env)"; set +a
  export DJANGO_SETTINGS_MODULE=backend.config.settings.dev DJANGO_DEBUG=false SPEEDCAM_SKIP_DOTENV=true \
    LOG_LEVEL=WARNING
  migrate_all
  "$PY" "$script" "$@" || status=$?
  case " $* " in *" --keep "*) ;; *) stop_services >/dev/null ;; esac
  return $status
}

