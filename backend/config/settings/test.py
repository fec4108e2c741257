"""Tests: the real services on the private test ports started by tests/conftest.py.

The defaults below match `scripts/services.sh` with SPEEDCAM_PROFILE=test, so a
test run never touches the databases or broker of a running `./scripts/up.sh`.
"""

import os

for _name, _value in {
    "DB_PORT": "3317",
    "DB_SSL_MODE": "disabled",
    "CELERY_BROKER_URL": "amqp://speedcam:speedcam-pass@127.0.0.1:5683/speedcam",
    "MQTT_PORT": "1894",
    "RABBITMQ_MANAGEMENT_URL": "http://127.0.0.1:15683",
    "STORAGE_EMULATOR_HOST": "http://127.0.0.1:9033",
    "GCS_BUCKET_NAME": "speedcam-test-images",
    "INGEST_METRICS_PORT": "0",
    "LOG_FORMAT": "text",
    # The .env written by ./scripts/up.sh describes the demo system, not the test one.
    "SPEEDCAM_SKIP_DOTENV": "true",
}.items():
    os.environ.setdefault(_name, _value)

from .base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
