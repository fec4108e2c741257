import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from backend.common import tracing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.dev")

settings.DEBUG  # noqa: B018  (loads the settings, and with them .env and its OTEL_* variables)
# Before the application loads: the Django instrumentation adds its middleware.
tracing.configure_tracing("speedcam-main", instrument=("django", *tracing.WORKER_INSTRUMENTATIONS))
application = get_wsgi_application()
