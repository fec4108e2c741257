from django.contrib import admin
from django.urls import include, path

from backend.api.metrics import metrics

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics", metrics, name="prometheus-metrics"),
    path("", include("backend.api.urls")),
]
