"""Production: behind a TLS proxy; refuses to start with development or example secrets."""

from django.core.exceptions import ImproperlyConfigured

from backend.config.env import boolean, env, positive_int
from backend.config.secrets import url_password, weak_secret_reason

from .base import *  # noqa: F403
from .base import (
    CELERY_BROKER_URL,
    DB_PASSWORD,
    DEBUG,
    METRICS_TOKEN,
    MQTT_PASSWORD,
    RABBITMQ_ADMIN_PASSWORD,
    SECRET_KEY,
)

_SECRETS = {
    # name: (value, minimum length); an empty optional secret is not checked.
    "DJANGO_SECRET_KEY": (SECRET_KEY, 50),
    "DB_PASSWORD": (DB_PASSWORD, 16),
    "MQTT_PASSWORD": (MQTT_PASSWORD, 16),
    "CELERY_BROKER_URL password": (url_password(CELERY_BROKER_URL), 16),
    "RABBITMQ_ADMIN_PASSWORD": (RABBITMQ_ADMIN_PASSWORD, 16),
}
_OPTIONAL_SECRETS = {
    "FLOWER_PASSWORD": (env.str("FLOWER_PASSWORD", default=""), 16),
    "METRICS_TOKEN": (METRICS_TOKEN, 32),
}
_problems = [
    f"{name} {reason}"
    for name, (value, length) in _SECRETS.items()
    if (reason := weak_secret_reason(value, min_length=length))
] + [
    f"{name} {reason}"
    for name, (value, length) in _OPTIONAL_SECRETS.items()
    if value and (reason := weak_secret_reason(value, min_length=length))
]
if _problems:
    raise ImproperlyConfigured(
        "production refuses weak or example secrets; generate each one, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`: " + "; ".join(_problems)
    )
if DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be false in production")

# The reverse proxy terminates TLS and says so in X-Forwarded-Proto; it is the only client
# that can reach gunicorn, so the header can be trusted (and NUM_PROXIES counts it).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = boolean("SECURE_SSL_REDIRECT", True)
# Probes and the metrics scraper speak plain HTTP inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = positive_int("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = boolean("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
