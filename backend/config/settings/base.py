"""Settings shared by every role and environment.

Twelve-factor: every value comes from the environment (a `.env` file at the
repository root is honoured); `backend.env.example` documents each variable.
Values are validated here so a bad configuration fails at start-up with a clear
message instead of deep inside a worker.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import pymysql
from django.core.exceptions import ImproperlyConfigured

from backend.config.env import (
    REPO_ROOT,
    boolean,
    choice,
    env,
    existing_file,
    integer,
    number,
    port,
    positive_float,
    positive_int,
    read_dotenv,
    renamed,
    repo_path,
    repo_paths,
    role_text,
    url,
)
from backend.config.secrets import with_credentials

pymysql.install_as_MySQLdb()

BASE_DIR = REPO_ROOT / "backend"
read_dotenv()


SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-insecure-change-me")
DEBUG = boolean("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "backend.api.admin_config.SpeedCamAdminConfig",  # django.contrib.admin with the dead-letter page
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_yasg",
    "django_prometheus",
    "django_celery_results",
    "import_export",
    "backend.vehicles",
    "backend.cameras",
    "backend.detections",
    "backend.notifications",
    "backend.ingest",
    "backend.maintenance",
    "backend.ocr",  # management commands only (read_plate, ocr_eval, fetch_ocr_models)
    "backend.api",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "backend.config.urls"
WSGI_APPLICATION = "backend.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- The role of this process ---------------------------------------------------------
# Each worker module sets it (main: web, ingest, admin commands, migrations). Where a role
# has credentials of its own (DB_USER_OCR, BROKER_USER_OCR, ...), it uses them: each role
# holds only the grants it needs (backend.config.db_roles).
SPEEDCAM_ROLE = choice("SPEEDCAM_ROLE", "main", {"main", "ocr", "alert", "maintenance"})


# --- Databases: one server, four schemas, routed by app label -------------------
DB_HOST = env.str("DB_HOST", default="127.0.0.1")
DB_PORT = positive_int("DB_PORT", 3306, maximum=65535)
DB_USER = role_text("DB_USER", SPEEDCAM_ROLE, "speedcam")
DB_PASSWORD = role_text("DB_PASSWORD", SPEEDCAM_ROLE, "speedcam-pass")
DB_CONN_MAX_AGE = integer("DB_CONN_MAX_AGE", 60, minimum=0)
# TLS to the database. PyMySQL's own default ("preferred") builds a TLS context, CA bundle
# and all, for every new connection; on a loopback or private network say "disabled".
DB_SSL_MODE = choice("DB_SSL_MODE", "preferred", {"disabled", "preferred", "required"})
DB_SSL_CA = env.str("DB_SSL_CA", default="")
if DB_SSL_MODE == "required" and not DB_SSL_CA:
    raise ImproperlyConfigured("DB_SSL_MODE=required needs DB_SSL_CA (the server's CA certificate file)")
# Connections per database shared by all threads or greenlets of a process (0: Django's
# one connection per thread). The gevent alert worker needs it: there every task runs in
# a new greenlet, which would otherwise open (and leave behind) a connection of its own.
# The alert worker's default is a pool: under gevent each task is a new greenlet.
DB_POOL_SIZE = integer("DB_POOL_SIZE", 20 if SPEEDCAM_ROLE == "alert" else 0, minimum=0, maximum=1000)


def _tls_options() -> dict:
    if DB_SSL_MODE == "disabled":
        return {"ssl_disabled": True}
    if DB_SSL_MODE == "required":
        return {"ssl": {"ca": DB_SSL_CA}}
    return {}


def _database(name: str) -> dict:
    database = {
        "ENGINE": "django.db.backends.mysql",
        "NAME": name,
        "USER": DB_USER,
        "PASSWORD": DB_PASSWORD,
        "HOST": DB_HOST,
        "PORT": str(DB_PORT),
        "CONN_MAX_AGE": DB_CONN_MAX_AGE,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "charset": "utf8mb4",
            # READ COMMITTED, set once per connection here and not by Django: Django repeats
            # its isolation SET on every pool checkout, a round trip per database per task.
            # (tx_isolation: MariaDB 10.11's name; 11.x keeps it as an alias.)
            "isolation_level": None,
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES', time_zone='+00:00', tx_isolation='READ-COMMITTED'",
            "connect_timeout": 5,
            **_tls_options(),
        },
        "TEST": {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"},
    }
    if DB_POOL_SIZE:
        database["ENGINE"] = "backend.config.pooled_mysql"
        # Each task gives its connections back to the pool when it ends.
        database["CONN_MAX_AGE"] = 0
        database["POOL_OPTIONS"] = {
            "POOL_SIZE": DB_POOL_SIZE,
            "MAX_OVERFLOW": DB_POOL_SIZE,
            "RECYCLE": 3600,
        }
    return database


DATABASES = {
    "default": _database(env.str("DB_NAME", default="speedcam")),
    "vehicles_db": _database(env.str("DB_VEHICLES_NAME", default="speedcam_vehicles")),
    "detections_db": _database(env.str("DB_DETECTIONS_NAME", default="speedcam_detections")),
    "notifications_db": _database(env.str("DB_NOTIFICATIONS_NAME", default="speedcam_notifications")),
}
DATABASE_ROUTERS = ["backend.config.db_router.AppLabelRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Korean first: operators work in Korean, and so do pushes. English is the source
# language of every string (backend/locale holds the Korean); a browser that asks for
# English gets it (LocaleMiddleware).
LANGUAGE_CODE = "ko-kr"
LANGUAGES = [("ko", "한국어"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Seoul")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic writes (the Docker image sets it); unset, WhiteNoise serves from the apps.
STATIC_ROOT = env.str("STATIC_ROOT", default="") or None
# gunicorn serves the admin's static files through WhiteNoise; without collectstatic
# (development, tests) it finds them in the apps.
WHITENOISE_USE_FINDERS = True

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])

NUM_PROXIES = integer("NUM_PROXIES", 0, minimum=0, maximum=5)

REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "backend.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # Every list paged by a cursor (at most 500 rows a page); every error one body.
    "DEFAULT_PAGINATION_CLASS": "backend.api.pagination.CursorPage",
    "EXCEPTION_HANDLER": "backend.api.exceptions.api_exception_handler",
    # Every endpoint throttled per user (per address before login); scoped ones on top.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="600/minute"),
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "auth": env.str("API_THROTTLE_AUTH", default="10/minute"),
        "fcm_token": env.str("API_THROTTLE_FCM_TOKEN", default="30/hour"),
    },
    "DATETIME_FORMAT": "iso-8601",
    # Reverse proxies in front of gunicorn (1 behind the TLS proxy). Throttles take the
    # client's address that many hops from the right of X-Forwarded-For, so a client
    # cannot dodge the login throttle by sending that header itself.
    "NUM_PROXIES": NUM_PROXIES,
}
SWAGGER_SETTINGS = {
    "SECURITY_DEFINITIONS": {
        "Bearer": {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "description": "Bearer <token> (manage.py create_api_token)",
        },
    },
    "USE_SESSION_AUTH": False,
    "DEFAULT_INFO": "backend.api.schema.API_INFO",
    "DEFAULT_AUTO_SCHEMA_CLASS": "backend.api.schema.SpeedCamAutoSchema",
    # `manage.py generate_swagger` and /swagger.json describe the same document.
    "DEFAULT_API_URL": env.str("API_PUBLIC_URL", default="https://speedcam.example.go.kr"),
}
SWAGGER_USE_COMPAT_RENDERERS = False
# Prometheus scrapes /metrics with `Authorization: Bearer <METRICS_TOKEN>` (an admin or
# operator API token works too).
# METRICS_TOKEN_FILE: the same, read from a file (the scraper's secret, mounted for both).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="") or (
    Path(existing_file("METRICS_TOKEN_FILE")).read_text().strip() if env.str("METRICS_TOKEN_FILE", default="") else ""
)
# How long a snapshot link from the violation detail stays valid.
EVIDENCE_URL_TTL_S = positive_int("EVIDENCE_URL_TTL_S", 300, maximum=604_800)

# --- Broker, MQTT, storage, push ---------------------------------------------------
RABBITMQ_HOST = env.str("RABBITMQ_HOST", default="127.0.0.1")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=f"amqp://speedcam:speedcam-pass@{RABBITMQ_HOST}:5672/speedcam")
if not CELERY_BROKER_URL.startswith(("amqp://", "amqps://", "pyamqp://")):
    raise ImproperlyConfigured("CELERY_BROKER_URL must be an amqp:// URL (RabbitMQ)")
# This role's own broker login (AMQP and MQTT), when it has one.
BROKER_USER = role_text("BROKER_USER", SPEEDCAM_ROLE, "")
BROKER_PASSWORD = role_text("BROKER_PASSWORD", SPEEDCAM_ROLE, "")
if BROKER_USER:
    CELERY_BROKER_URL = with_credentials(CELERY_BROKER_URL, BROKER_USER, BROKER_PASSWORD)
# AMQP heartbeat, seconds (0: off). Off by default for the gevent alert worker: with
# heartbeats on, Celery's green consumer loop waits 100 ms on the event connection per
# cycle, which caps intake at about 10 tasks/s. TCP keepalive still detects a dead broker.
BROKER_HEARTBEAT_S = integer("BROKER_HEARTBEAT_S", 0 if SPEEDCAM_ROLE == "alert" else 60, minimum=0)

# TLS to the broker: an amqps:// CELERY_BROKER_URL, and MQTT_TLS for MQTTS (port 8883).
# BROKER_TLS_CA_FILE: the CA that signed the broker's certificate (empty: the system's
# trust store). The certificate's name is always checked against the host.
BROKER_TLS_CA_FILE = existing_file("BROKER_TLS_CA_FILE")
MQTT_TLS = boolean("MQTT_TLS", False)
BROKER_USE_SSL: dict | bool = (
    {"ca_certs": BROKER_TLS_CA_FILE or None, "cert_reqs": ssl.CERT_REQUIRED}
    if CELERY_BROKER_URL.startswith("amqps://")
    else False
)

MQTT_HOST = env.str("MQTT_HOST", default=RABBITMQ_HOST)
MQTT_PORT = positive_int("MQTT_PORT", 8883 if MQTT_TLS else 1883, maximum=65535)
MQTT_USERNAME = BROKER_USER or env.str("MQTT_USERNAME", default="speedcam")
MQTT_PASSWORD = BROKER_PASSWORD if BROKER_USER else env.str("MQTT_PASSWORD", default="speedcam-pass")
# The subscriber's fixed client id: RabbitMQ keeps its persistent session (and the
# QoS-1 messages published while it is down) under this id. One process per id.
MQTT_CLIENT_ID = env.str("MQTT_CLIENT_ID", default="speedcam-main-subscriber")
MQTT_KEEPALIVE_S = positive_int("MQTT_KEEPALIVE_S", 30)
MQTT_PUBLISH_TIMEOUT_S = positive_float("MQTT_PUBLISH_TIMEOUT_S", 10.0)
MQTT_RECONNECT_MAX_S = positive_int("MQTT_RECONNECT_MAX_S", 60)
# RabbitMQ's management API and an administrator's login: provision_camera creates each
# camera's broker user and topic permissions there.
RABBITMQ_MANAGEMENT_URL = env.str("RABBITMQ_MANAGEMENT_URL", default=f"http://{RABBITMQ_HOST}:15672")
RABBITMQ_VHOST = env.str("RABBITMQ_VHOST", default="speedcam")
RABBITMQ_ADMIN_USER = env.str("RABBITMQ_ADMIN_USER", default=env.str("MQTT_USERNAME", default="speedcam"))
RABBITMQ_ADMIN_PASSWORD = env.str("RABBITMQ_ADMIN_PASSWORD", default=env.str("MQTT_PASSWORD", default="speedcam-pass"))
# What provision_camera tells a new unit about where the backend is.
EDGE_MQTT_HOST = env.str("EDGE_MQTT_HOST", default=MQTT_HOST)
EDGE_MQTT_TLS = boolean("EDGE_MQTT_TLS", MQTT_TLS)
EDGE_MQTT_PORT = positive_int("EDGE_MQTT_PORT", 8883 if EDGE_MQTT_TLS else MQTT_PORT, maximum=65535)
# Where units keep the CA that signed the broker's certificate (empty: their trust store).
EDGE_TLS_CA_FILE = env.str("EDGE_TLS_CA_FILE", default="")
# Port of the subscriber's Prometheus endpoint (0 disables it).
INGEST_METRICS_PORT = port("INGEST_METRICS_PORT", 9108)
# mqtt: one MQTT subscriber (run_mqtt_subscriber). amqp: any number of competing
# consumers of the durable ingest_queue bound to amq.topic (run_amqp_ingest).
INGEST_MODE = choice("INGEST_MODE", "mqtt", {"mqtt", "amqp"})
INGEST_PREFETCH = positive_int("INGEST_PREFETCH", 200, maximum=1000)
# Micro-batches: up to this many messages are applied together (one transaction, one
# publish-confirm round), or what arrived within INGEST_BATCH_WAIT_MS of the first. 1 turns
# batching off. Keep it at most INGEST_PREFETCH and RabbitMQ's mqtt.prefetch.
INGEST_BATCH_SIZE = positive_int("INGEST_BATCH_SIZE", 100, maximum=1000)
INGEST_BATCH_WAIT_MS = positive_int("INGEST_BATCH_WAIT_MS", 10, maximum=1000)
# A violation older than this when it arrives is parked, not stored (a camera's spool may
# hold events through an outage, but not indefinitely); one more than 5 minutes ahead too.
INGEST_MAX_EVENT_AGE_S = positive_int("INGEST_MAX_EVENT_AGE_S", 7 * 86_400, maximum=365 * 86_400)
# Attempts at a message that fails for an unknown reason before it is parked.
INGEST_MAX_ATTEMPTS = positive_int("INGEST_MAX_ATTEMPTS", 5, maximum=100)
# A camera not heard from (heartbeat or event) for this long counts as silent.
CAMERA_SILENT_AFTER_S = positive_int("CAMERA_SILENT_AFTER_S", 300, maximum=86_400)
# Prometheus endpoints of the Celery workers (0 disables one). The OCR worker's children
# share one endpoint through prometheus_client's multiprocess mode.
OCR_METRICS_PORT = port("OCR_METRICS_PORT", 9112)
ALERT_METRICS_PORT = port("ALERT_METRICS_PORT", 9113)
MAINTENANCE_METRICS_PORT = port("MAINTENANCE_METRICS_PORT", 9114)
METRICS_ADDR = env.str("METRICS_ADDR", default="127.0.0.1")

GCS_BUCKET_NAME = env.str("GCS_BUCKET_NAME", default="speedcam-images")
STORAGE_EMULATOR_HOST = env.str("STORAGE_EMULATOR_HOST", default="")
GCS_RETRY_DEADLINE_S = positive_float("GCS_RETRY_DEADLINE_S", 10.0)
GOOGLE_APPLICATION_CREDENTIALS = env.str("GOOGLE_APPLICATION_CREDENTIALS", default="")
FIREBASE_CREDENTIALS = env.str("FIREBASE_CREDENTIALS", default="")
FIREBASE_PROJECT_ID = env.str("FIREBASE_PROJECT_ID", default="")
# Base URL of an FCM HTTP v1 endpoint other than Google's (the local emulator); empty: Google.
FCM_ENDPOINT = url("FCM_ENDPOINT", "", schemes=("http://", "https://"))
FCM_TIMEOUT_S = positive_float("FCM_TIMEOUT_S", 10.0)
# How long FCM keeps trying to reach an offline phone.
FCM_TTL_S = positive_int("FCM_TTL_S", 86_400, maximum=2_419_200)

OCR_MOCK = boolean("OCR_MOCK", False)
FCM_MOCK = boolean("FCM_MOCK", False)
# How long the OCR_MOCK stand-in takes per image (drills, benchmarks); 0 = instant.
OCR_MOCK_LATENCY_MS = integer("OCR_MOCK_LATENCY_MS", 0, minimum=0, maximum=60_000)
# The plate engine: "plate" (the recogniser this project trains and ships, EasyOCR's custom
# model path) or "stock" (EasyOCR's own detector and Korean recogniser, fetched beforehand
# with `manage.py fetch_ocr_models`). Never downloads at task time.
OCR_ENGINE = choice("OCR_ENGINE", "plate", {"plate", "stock"})
# The plate engine's models: each directory as `python -m backend.ocr.plate_model train`
# writes it; every model reads every view and their reads vote together (README "Reading plates").
renamed("OCR_MODEL_DIR", "OCR_MODEL_DIRS", "one or more model directories, separated by commas")
OCR_MODEL_DIRS = repo_paths("OCR_MODEL_DIRS", "backend/ocr/models/plate_ko,backend/ocr/models/plate_ko_2")
OCR_STOCK_MODEL_DIR = repo_path("OCR_STOCK_MODEL_DIR", ".state/easyocr")
OCR_GPU = boolean("OCR_GPU", False)
# Below this confidence a read plate is kept but the detection is flagged for review and
# no push goes out. Chosen from `manage.py ocr_eval`'s coverage/precision table on a
# held-out set of the real plate typeface (README "How plates are read").
OCR_REVIEW_CONFIDENCE = number("OCR_REVIEW_CONFIDENCE", 0.8, minimum=0.0, maximum=1.0)
# A read that matches no vehicle exactly is matched to one registered plate at most this
# many substituted characters away, when every substitution is a measured confusion of the
# engine (OCR_CONFUSIONS_FILE) and no other plate is as close. 0 turns fuzzy matching off.
OCR_FUZZY_MAX_CHARACTERS = integer("OCR_FUZZY_MAX_CHARACTERS", 1, minimum=0, maximum=2)
# Measured for the engine as a whole (all of OCR_MODEL_DIRS), so it lies beside them.
OCR_CONFUSIONS_FILE = repo_path("OCR_CONFUSIONS_FILE", "backend/ocr/models/confusions.json")
# Candidate plate regions tried per snapshot, best first.
OCR_MAX_CANDIDATES = positive_int("OCR_MAX_CANDIDATES", 4, maximum=20)
# Views of each plate line read and voted on (backend/ocr/voting.py); 1 reads it once.
OCR_LINE_VIEWS = positive_int("OCR_LINE_VIEWS", 4, maximum=4)
# torch threads per OCR process; 0: the cores divided by OCR_CONCURRENCY.
OCR_TORCH_THREADS = integer("OCR_TORCH_THREADS", 0, minimum=0, maximum=64)
# Worker processes of the OCR role, greenlets of the alert role: Celery takes them from
# here (backend/config/celery.py), never from the command line.
OCR_CONCURRENCY = positive_int("OCR_CONCURRENCY", 2, maximum=64)
ALERT_CONCURRENCY = positive_int("ALERT_CONCURRENCY", 100, maximum=10_000)
OCR_MAX_RETRIES = integer("OCR_MAX_RETRIES", 5, minimum=0, maximum=100)
OCR_RETRY_BACKOFF_S = positive_float("OCR_RETRY_BACKOFF_S", 2.0)
OCR_RETRY_BACKOFF_MAX_S = positive_float("OCR_RETRY_BACKOFF_MAX_S", 300.0)
OCR_TIME_LIMIT_S = positive_int("OCR_TIME_LIMIT_S", 60)
ALERT_MAX_RETRIES = integer("ALERT_MAX_RETRIES", 5, minimum=0, maximum=100)
ALERT_RETRY_BACKOFF_S = positive_float("ALERT_RETRY_BACKOFF_S", 2.0)
ALERT_RETRY_BACKOFF_MAX_S = positive_float("ALERT_RETRY_BACKOFF_MAX_S", 300.0)
ALERT_TIME_LIMIT_S = positive_int("ALERT_TIME_LIMIT_S", 30)
# A send claim older than this was left by a worker that died mid-send: its outcome is
# unknown, and the notification is failed rather than pushed a second time.
ALERT_CLAIM_STALE_S = positive_float("ALERT_CLAIM_STALE_S", 120.0)
if ALERT_CLAIM_STALE_S <= FCM_TIMEOUT_S:
    raise ImproperlyConfigured("ALERT_CLAIM_STALE_S must be longer than FCM_TIMEOUT_S")

# --- Periodic jobs (maintenance worker + beat) ------------------------------------
SWEEP_INTERVAL_S = positive_float("SWEEP_INTERVAL_S", 60.0)
# A pending/processing detection untouched this long has lost its OCR task.
SWEEP_OCR_STALE_S = positive_float("SWEEP_OCR_STALE_S", 600.0)
if SWEEP_OCR_STALE_S <= OCR_TIME_LIMIT_S:
    raise ImproperlyConfigured("SWEEP_OCR_STALE_S must be longer than OCR_TIME_LIMIT_S")
# A completed detection with no final notification this long after the alert hand-over.
SWEEP_ALERT_STALE_S = positive_float("SWEEP_ALERT_STALE_S", 600.0)
if SWEEP_ALERT_STALE_S <= ALERT_CLAIM_STALE_S:
    raise ImproperlyConfigured("SWEEP_ALERT_STALE_S must be longer than ALERT_CLAIM_STALE_S")
SWEEP_MAX_ATTEMPTS = positive_int("SWEEP_MAX_ATTEMPTS", 5, maximum=100)
SWEEP_BATCH_SIZE = positive_int("SWEEP_BATCH_SIZE", 500, maximum=10_000)
RETENTION_INTERVAL_S = positive_float("RETENTION_INTERVAL_S", 3600.0)
RETENTION_UNMATCHED_DAYS = positive_int("RETENTION_UNMATCHED_DAYS", 30, maximum=36_500)
RETENTION_NOTIFIED_DAYS = positive_int("RETENTION_NOTIFIED_DAYS", 365, maximum=36_500)
# How often the statistics' hourly counts take in what changed (they stay exact between
# refreshes; a longer interval only makes /stats and the dashboard recount more).
HOURLY_COUNTS_INTERVAL_S = positive_float("HOURLY_COUNTS_INTERVAL_S", 60.0)

# Where the admin links a detection's trace id, e.g. http://jaeger:16686/trace/{trace_id}
# (tracing itself is set up by the standard OTEL_* variables: backend/common/tracing.py).
TRACE_URL_TEMPLATE = env.str("TRACE_URL_TEMPLATE", default="")
if TRACE_URL_TEMPLATE and "{trace_id}" not in TRACE_URL_TEMPLATE:
    raise ImproperlyConfigured("TRACE_URL_TEMPLATE must contain {trace_id}")
LOG_LEVEL = choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
LOG_FORMAT = choice("LOG_FORMAT", "json", {"json", "text"})

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(created)f %(levelname)s %(name)s %(process)d %(message)s",
            # otel*: put on every record by the logging instrumentation when tracing is on.
            "rename_fields": {
                "asctime": "ts",
                "levelname": "level",
                "name": "logger",
                "process": "pid",
                "otelTraceID": "trace_id",
                "otelSpanID": "span_id",
                "otelServiceName": "service",
                "otelTraceSampled": "trace_sampled",
            },
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"},
    },
    # Every line carries the ids its message or task bound (backend.common.log_context).
    "filters": {"log_context": {"()": "backend.common.log_context.ContextFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["log_context"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "amqp": {"level": "WARNING"},
        "kombu": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "google": {"level": "WARNING"},
    },
}
