"""The operators' REST API (/api/v1/) and the health endpoints. Thin: selectors read,
services write, serializers shape."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django_filters.rest_framework import DjangoFilterBackend
from drf_yasg import openapi
from drf_yasg.utils import swagger_auto_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from backend.api import exports
from backend.api.exports import ViolationCSVRenderer, ViolationXLSXRenderer
from backend.api.figures import figures
from backend.api.filters import NotificationFilter, ViolationFilter
from backend.api.pagination import NewestFirst
from backend.api.permissions import HasRole
from backend.api.roles import Role
from backend.api.schema import StatsResponse, TokenRequest, TokenResponse
from backend.api.serializers import (
    FcmTokenSerializer,
    NotificationSerializer,
    VehicleSerializer,
    ViolationDetailSerializer,
    ViolationSerializer,
)
from backend.config.celery import app as celery_app
from backend.detections.evidence_urls import evidence_url, read_evidence, verify_evidence_signature
from backend.detections.models import Detection
from backend.notifications.models import Notification
from backend.notifications.selectors import notifications_by_detection
from backend.vehicles import services as vehicle_services
from backend.vehicles.models import Vehicle
from backend.vehicles.selectors import vehicle_ids_of_owner, vehicles_by_ids

STAFF = (Role.ADMIN, Role.OPERATOR)
EXPORT_FORMATS = ("csv", "xlsx")


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    for alias in connections:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
            checks[alias] = "ok"
        except Exception as exc:  # any failure means not ready; report it
            checks[alias] = f"error: {exc}"
    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"error: {exc}"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503)


class ViolationViewSet(viewsets.ReadOnlyModelViewSet):
    """Violations (detections). Owners see only their own vehicles' violations."""

    allowed_roles = (*STAFF, Role.OWNER)
    permission_classes = [HasRole]
    pagination_class = NewestFirst
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = ViolationFilter
    ordering_fields = ["detected_at", "detected_speed"]

    def get_renderers(self) -> list:
        renderers = super().get_renderers()
        if self.action == "list":  # the list also exports: ?format=csv|xlsx
            renderers += [ViolationCSVRenderer(), ViolationXLSXRenderer()]
        return renderers

    def handle_exception(self, exc: Exception) -> Response:
        # An export that fails (a bad filter, a forbidden role) answers with the JSON error body.
        renderer = getattr(self.request, "accepted_renderer", None)
        if renderer is not None and renderer.format in EXPORT_FORMATS:
            self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), "application/json"
        return super().handle_exception(exc)

    @swagger_auto_schema(
        manual_parameters=[
            openapi.Parameter(
                "format",
                openapi.IN_QUERY,
                "csv or xlsx: every matching violation as a file (staff only), with the same filters",
                type=openapi.TYPE_STRING,
                enum=["json", "csv", "xlsx"],
            )
        ],
    )
    def list(self, request: Request, *args: object, **kwargs: object) -> Response | HttpResponse:
        export = request.accepted_renderer.format
        if export not in EXPORT_FORMATS:
            return super().list(request, *args, **kwargs)
        if request.role not in STAFF:
            raise PermissionDenied(_("exports are for admins and operators"))
        queryset = self.filter_queryset(self.get_queryset())
        return exports.csv_response(queryset) if export == "csv" else exports.xlsx_response(queryset)

    def get_queryset(self):
        queryset = Detection.objects.all()
        if getattr(self.request, "role", None) == Role.OWNER:
            # An owner sees a violation once it is settled: read, matched and not waiting for
            # a person's review (a doubtful read may not even be theirs).
            queryset = queryset.filter(
                vehicle_id__in=vehicle_ids_of_owner(self.request.user.pk),
                status=Detection.Status.COMPLETED,
                needs_review=False,
            )
        return queryset

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return ViolationDetailSerializer if self.action == "retrieve" else ViolationSerializer

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        detection = self.get_object()
        context = {
            **self.get_serializer_context(),
            "role": request.role,
            "vehicles": vehicles_by_ids({detection.vehicle_id} - {None}),
            "notifications": notifications_by_detection([detection.pk]),
            "image": evidence_url(detection, request.build_absolute_uri("/").rstrip("/")),
            "own_vehicle": request.role == Role.OWNER,
        }
        return Response(ViolationDetailSerializer(detection, context=context).data)

    @swagger_auto_schema(auto_schema=None)
    @action(detail=True, methods=["get"], url_path="image", permission_classes=[AllowAny], authentication_classes=[])
    def image(self, request: Request, pk: str) -> HttpResponse:
        """The snapshot, for a link signed by the detail endpoint (the signature is the credential).

        Only with the GCS emulator, which cannot sign URLs; in production the detail endpoint
        hands out V4 signed GCS URLs and this route does not exist."""
        if not settings.STORAGE_EMULATOR_HOST:
            raise Http404
        if not pk.isdigit() or not verify_evidence_signature(int(pk), request.query_params.get("signature", "")):
            raise Http404
        detection = get_object_or_404(Detection, pk=int(pk))
        return HttpResponse(read_evidence(detection), content_type="image/jpeg")


class VehicleViewSet(viewsets.ModelViewSet):
    """Registered vehicles. Admins manage them; operators read (masked); owners read their own."""

    serializer_class = VehicleSerializer
    permission_classes = [HasRole]
    filter_backends = [SearchFilter, OrderingFilter]
    search_fields = ["^plate_number", "owner_name"]
    ordering_fields = ["plate_number", "created_at"]
    ordering = ["plate_number"]
    throttle_scope = "fcm_token"  # read by the fcm-token action's ScopedRateThrottle

    @property
    def allowed_roles(self) -> tuple[Role, ...]:
        if self.action in ("list", "retrieve"):
            return (*STAFF, Role.OWNER)
        if self.action == "fcm_token":
            return (Role.ADMIN, Role.OWNER)  # owners only ever see their own vehicles
        return (Role.ADMIN,)

    def get_queryset(self):
        queryset = Vehicle.objects.all()
        if getattr(self.request, "role", None) == Role.OWNER:
            queryset = queryset.filter(owner_user_id=self.request.user.pk)
        return queryset

    def get_serializer_context(self) -> dict:
        role = getattr(self.request, "role", None)
        return {**super().get_serializer_context(), "role": role, "own_vehicle": role == Role.OWNER}

    def perform_create(self, serializer: VehicleSerializer) -> None:
        serializer.instance = vehicle_services.register_vehicle(**serializer.validated_data)

    @swagger_auto_schema(method="put", request_body=FcmTokenSerializer, responses={204: "token stored"})
    @swagger_auto_schema(method="delete", responses={204: "token removed"})
    @action(detail=True, methods=["put", "delete"], url_path="fcm-token", throttle_classes=[ScopedRateThrottle])
    def fcm_token(self, request: Request, pk: str) -> Response:
        """The owner's app registers, refreshes (PUT) or removes (DELETE) its FCM token."""
        vehicle = self.get_object()
        if request.method == "DELETE":
            vehicle_services.set_fcm_token(vehicle, None)
        else:
            body = FcmTokenSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            vehicle_services.set_fcm_token(vehicle, body.validated_data["fcm_token"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Pushes and their outcome."""

    allowed_roles = STAFF
    permission_classes = [HasRole]
    serializer_class = NotificationSerializer
    queryset = Notification.objects.all()
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = NotificationFilter
    ordering_fields = ["created_at", "sent_at"]
    ordering = ["-created_at", "-id"]


class StatsView(APIView):
    """Violations per day (local time), per hour (last 48 h), per camera and per overspeed
    band in a date range; read outcomes; the pipeline's state (statuses, queues, dead
    letters) and each camera's liveness. The same figures /dashboard/ draws."""

    allowed_roles = STAFF
    permission_classes = [HasRole]

    class Query(serializers.Serializer):
        date_from = serializers.DateField(required=False, help_text="first local day (default: 6 days ago)")
        date_to = serializers.DateField(required=False, help_text="last local day, inclusive (default: today)")

        def validate(self, data: dict) -> dict:
            today = datetime.now(ZoneInfo(settings.TIME_ZONE)).date()
            data.setdefault("date_to", today)
            data.setdefault("date_from", data["date_to"] - timedelta(days=6))
            if data["date_from"] > data["date_to"]:
                raise serializers.ValidationError({"date_from": _("must not be after date_to")})
            if (data["date_to"] - data["date_from"]).days > 366:
                raise serializers.ValidationError({"date_from": _("the range may span at most 366 days")})
            return data

    @swagger_auto_schema(query_serializer=Query, responses={200: StatsResponse})
    def get(self, request: Request) -> Response:
        query = self.Query(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(figures(query.validated_data["date_from"], query.validated_data["date_to"]))


class ObtainBearerToken(ObtainAuthToken):
    """Exchange a username and password for the API token (throttled)."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @swagger_auto_schema(request_body=TokenRequest, responses={200: TokenResponse})
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().post(request, *args, **kwargs)
