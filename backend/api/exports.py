"""Violations as CSV or XLSX for a court clerk: the list's own filters, every matching row,
in bounded memory (keyset batches from the database, rows streamed or written one by one)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime, tzinfo

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer
from rest_framework_csv.renderers import CSVStreamingRenderer

from backend.detections.models import Detection

BATCH = 2000
XLSX_MAX_ROWS = 1_048_575  # a sheet's 1,048,576 rows, less the header
# (column, label): what a clerk needs to act on a violation; personal data is not in it.
COLUMNS = (
    ("id", "id"),
    ("event_id", "event_id"),
    ("detected_at", "detected_at (local time)"),
    ("camera_id", "camera_id"),
    ("location", "location"),
    ("speed_limit", "speed_limit_kmh"),
    ("measured_speed", "measured_speed_kmh"),
    ("speed_uncertainty", "speed_uncertainty_kmh"),
    ("speed_tolerance", "speed_tolerance_kmh"),
    ("detected_speed", "enforceable_speed_kmh"),
    ("overspeed", "overspeed_kmh"),
    ("plate", "plate"),
    ("status", "status"),
    ("needs_review", "needs_review"),
    ("image_sha256", "image_sha256"),
)
SPEEDS = {"speed_limit", "measured_speed", "speed_uncertainty", "speed_tolerance", "detected_speed", "overspeed"}


class ViolationCSVRenderer(CSVStreamingRenderer):
    """`?format=csv`: picked by DRF's format parameter; the view streams the rows through it."""

    header = [column for column, _ in COLUMNS]
    labels = dict(COLUMNS)


class ViolationXLSXRenderer(BaseRenderer):
    """`?format=xlsx`: picked by DRF's format parameter; the view writes the workbook."""

    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data: object, accepted_media_type: str | None = None, renderer_context: dict | None = None):
        raise NotImplementedError("the violations view answers xlsx itself")


def _row(values: dict, zone: tzinfo) -> dict:
    plate = values["reviewed_plate"] or values["ocr_result"]
    row = {column: values.get(column) for column, _ in COLUMNS}
    row["detected_at"] = timezone.localtime(values["detected_at"], zone).replace(tzinfo=None)
    row["overspeed"] = values["detected_speed"] - values["speed_limit"]
    row["plate"] = plate
    for column in SPEEDS:
        value = row[column]
        if value is not None:
            row[column] = round(value, 1)
    return row


# The columns the export reads (the rest of a detection stays in the database).
FIELDS = (*(column for column, _ in COLUMNS if column not in ("overspeed", "plate")), "ocr_result", "reviewed_plate")


def rows(queryset: QuerySet[Detection]) -> Iterator[dict]:
    """Every detection of the queryset, newest first, BATCH at a time by keyset on
    (detected_at, id): each batch is an index range, and PyMySQL never buffers the whole
    result. Plain values, no model instances: a clerk's 100,000 rows are mostly Python."""
    zone = timezone.get_default_timezone()
    ordered = queryset.order_by("-detected_at", "-id").values(*FIELDS)
    last: dict | None = None
    while True:
        batch = ordered
        if last is not None:
            batch = batch.filter(
                Q(detected_at__lt=last["detected_at"]) | Q(detected_at=last["detected_at"], id__lt=last["id"])
            )
        values = list(batch[:BATCH])
        for item in values:
            yield _row(item, zone)
        if len(values) < BATCH:
            return
        last = values[-1]


def _filename(extension: str) -> str:
    return f"violations-{datetime.now(timezone.get_default_timezone()):%Y%m%d-%H%M%S}.{extension}"


def csv_response(queryset: QuerySet[Detection]) -> StreamingHttpResponse:
    # A byte-order mark, so Excel opens the Hangul as UTF-8.
    body = ViolationCSVRenderer().render(rows(queryset), renderer_context={"bom": True})
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


def xlsx_response(queryset: QuerySet[Detection]) -> FileResponse:
    """openpyxl's write-only mode keeps one row in memory; the file spools to disk."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("violations")
    sheet.append([label for _, label in COLUMNS])
    for count, row in enumerate(rows(queryset), start=1):
        if count > XLSX_MAX_ROWS:
            raise ValidationError(
                {
                    "format": [
                        _("more than %(limit)s rows, Excel's limit: use format=csv") % {"limit": f"{XLSX_MAX_ROWS:,}"}
                    ]
                }
            )
        sheet.append([row[column] for column, _ in COLUMNS])
    # FileResponse closes the file once it is sent.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024, dir=settings.FILE_UPLOAD_TEMP_DIR)  # noqa: SIM115
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(
        spool, as_attachment=True, filename=_filename("xlsx"), content_type=ViolationXLSXRenderer.media_type
    )
