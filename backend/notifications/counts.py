"""The notifications' hourly counts (backend.common.hourly_counts): push outcomes for
/stats and the dashboard without a scan of the notifications table."""

from __future__ import annotations

from backend.common.hourly_counts import Facet, HourlyCounts
from backend.notifications.models import HourlyCount, HourlyCountsState, Notification

STATUS = "status"

NOTIFICATION_COUNTS = HourlyCounts(
    source=Notification,
    time_field="created_at",
    facets=(Facet(STATUS, {"status": "status"}, lambda row: row["status"]),),
    counts=HourlyCount,
    state=HourlyCountsState,
    database="notifications_db",
)
