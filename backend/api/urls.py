from django.urls import include, path
from drf_yasg.views import get_schema_view
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from backend.api import views
from backend.api.dashboard import dashboard
from backend.api.schema import API_INFO

router = DefaultRouter()
router.register("violations", views.ViolationViewSet, basename="violation")
router.register("vehicles", views.VehicleViewSet, basename="vehicle")
router.register("notifications", views.NotificationViewSet, basename="notification")

schema_view = get_schema_view(API_INFO, public=True, permission_classes=[AllowAny])

api_v1 = [
    path("", include(router.urls)),
    path("stats", views.StatsView.as_view(), name="stats"),
    path("auth/token", views.ObtainBearerToken.as_view(), name="auth-token"),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("swagger.json", schema_view.without_ui(cache_timeout=0), {"format": "json"}, name="schema-json"),
    path("swagger/", schema_view.with_ui("swagger", cache_timeout=0), name="schema-swagger-ui"),
    path("redoc/", schema_view.with_ui("redoc", cache_timeout=0), name="schema-redoc"),
    path("dashboard/", dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]
