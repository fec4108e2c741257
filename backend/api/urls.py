from django.urls import include, path
from drf_yasg import openapi
from drf_yasg.views import get_schema_view
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from backend.api import views

router = DefaultRouter()
router.register("violations", views.ViolationViewSet, basename="violation")
router.register("vehicles", views.VehicleViewSet, basename="vehicle")
router.register("notifications", views.NotificationViewSet, basename="notification")

schema_view = get_schema_view(
    openapi.Info(
        title="SpeedCam API",
        default_version="v1",
        description=(
            "Speed violations read from Korean licence plates (e.g. 12가3456), the registered vehicles and the "
            "pushes sent to their owners. Authenticate with `Authorization: Bearer <token>` "
            "(`python manage.py create_api_token USER --role admin|operator|owner`)."
        ),
    ),
    public=True,
    permission_classes=[AllowAny],
)

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
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]
