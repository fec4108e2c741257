"""`/dashboard/`: the pipeline at a glance for admins and operators (session login). Server
rendered; the charts are drawn in the browser by the vendored Chart.js from the same figures
`/api/v1/stats` serves (backend.api.figures)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET

from backend.api.figures import figures
from backend.api.roles import Role, role_of

DAYS_SHOWN = 30
# The words dashboard.js puts on the charts.
CHART_LABELS = {
    "violations": _("violations"),
    "hour_suffix": pgettext_lazy("suffix of an hour on a chart axis, as in 14h", "h"),
    "read": _("read"),
    "review": _("review"),
    "failed": _("failed"),
    "waiting": _("in progress"),
    "sent": _("sent"),
    "pending": _("pending"),
    "messages": _("messages"),
}
PLOT_WIDTH, PLOT_HEIGHT, PLOT_MARGIN = 640, 360, 40


def camera_plot(cameras: list[dict]) -> list[dict]:
    """Each camera with coordinates placed on a plain SVG plot (longitude right, latitude
    up, equal scale on both); no map tiles, there is no network."""
    placed = [camera for camera in cameras if camera["latitude"] is not None and camera["longitude"] is not None]
    if not placed:
        return []
    min_lon, max_lon = min(c["longitude"] for c in placed), max(c["longitude"] for c in placed)
    min_lat, max_lat = min(c["latitude"] for c in placed), max(c["latitude"] for c in placed)
    span = max(max_lon - min_lon, max_lat - min_lat) or 1.0
    scale = min(PLOT_WIDTH, PLOT_HEIGHT) - 2 * PLOT_MARGIN
    return [
        {
            **camera,
            "x": round(PLOT_MARGIN + (camera["longitude"] - min_lon) / span * scale, 1),
            "y": round(PLOT_HEIGHT - PLOT_MARGIN - (camera["latitude"] - min_lat) / span * scale, 1),
            "label_x": round(PLOT_MARGIN + (camera["longitude"] - min_lon) / span * scale + 12, 1),
        }
        for camera in placed
    ]


@require_GET
@login_required(login_url="admin:login")
def dashboard(request: HttpRequest) -> HttpResponse:
    if role_of(request.user) not in (Role.ADMIN, Role.OPERATOR):
        raise PermissionDenied(_("the dashboard is for admins and operators"))
    today = datetime.now(ZoneInfo(settings.TIME_ZONE)).date()
    data = figures(today - timedelta(days=DAYS_SHOWN - 1), today)
    return render(
        request,
        "dashboard/index.html",
        {
            "figures": data,
            "cameras": data["cameras"],
            "plotted": camera_plot(data["cameras"]),
            "plot": {"width": PLOT_WIDTH, "height": PLOT_HEIGHT},
            "silent": sum(1 for camera in data["cameras"] if camera["silent"]),
            "labels": {name: str(label) for name, label in CHART_LABELS.items()},
        },
    )
