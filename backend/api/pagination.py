"""Every list of the API is paged by a cursor: stable under inserts, and no COUNT(*) over a
million detections. At most 500 rows per page."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class CursorPage(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    # Views with an OrderingFilter page in that order; this is the fallback.
    ordering: tuple[str, ...] = ("-id",)


class NewestFirst(CursorPage):
    ordering = ("-detected_at", "-id")
