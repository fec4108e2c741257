from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ExportActionMixin
from import_export.formats.base_formats import CSV, XLSX

from backend.common.admin import PipelineRecordAdmin
from backend.contracts.plates import PLATE_EXAMPLES, normalise_plate
from backend.detections import review, services
from backend.detections.evidence_urls import evidence_url
from backend.detections.handover import hand_to_ocr
from backend.detections.models import Detection, ReviewItem
from backend.detections.resources import ViolationResource

# What the camera reported, and with the engine's read and the review: evidence, never
# edited in the admin.
CAMERA_FIELDS = (
    "event_id",
    "camera_id",
    "location",
    "detected_speed",
    "measured_speed",
    "speed_uncertainty",
    "speed_tolerance",
    "speed_limit",
    "detected_at",
)
EVIDENCE_FIELDS = (
    *CAMERA_FIELDS,
    "image_gcs_uri",
    "image_sha256",
    "image_verified_at",
    "plate_bbox",
    "ocr_result",
    "ocr_confidence",
    "ocr_bbox",
    "reviewed_plate",
    "reviewed_by",
    "reviewed_at",
)


def snapshot_with_plate_box(detection: Detection, *, max_width: int) -> str:
    """The snapshot, with the region the engine read (or the edge's plate box) outlined."""
    try:
        url, _expiry = evidence_url(detection, "")
    except Exception as exc:  # no signing credentials: say so instead of breaking the page
        return _("(no preview: %(reason)s)") % {"reason": exc}
    box = detection.plate_box
    return format_html(
        '<span class="plate-evidence"><a href="{0}"><img src="{0}" alt="{4} {1}" '
        'style="max-width: {2}px" data-plate-box="{3}" onload="speedcamPlateBox(this)"></a>'
        '<span class="plate-box" hidden></span></span>',
        url,
        detection.pk,
        max_width,
        ",".join(str(int(v)) for v in box) if box else "",
        _("snapshot of detection"),
    )


class EvidenceMedia:
    css = {"all": ("detections/review.css",)}
    js = ("detections/review.js",)


@admin.register(Detection)
class DetectionAdmin(ExportActionMixin, PipelineRecordAdmin):
    # "Export" on the selected violations, as CSV or XLSX (the API exports whole filters).
    resource_classes = [ViolationResource]
    export_formats = [CSV, XLSX]
    list_display = (
        "id",
        "camera_id",
        "detected_speed",
        "speed_limit",
        "plate",
        "status",
        "needs_review",
        "review_reason",
        "plate_match",
        "detected_at",
    )
    list_filter = ("status", "needs_review", "plate_match", "camera_id")
    search_fields = ("ocr_result", "reviewed_plate", "event_id")
    date_hierarchy = "detected_at"
    readonly_fields = (
        "snapshot",
        *EVIDENCE_FIELDS,
        "trace",
        "ocr_dispatched_at",
        "alert_dispatched_at",
        "alert_settled_at",
        "sweep_count",
        "personal_data_purged_at",
        "created_at",
        "updated_at",
    )
    # The raw W3C header is the pipeline's, not an operator's to edit: the "trace" row shows it.
    exclude = ("traceparent",)
    # A view (PipelineRecordAdmin): detections come from cameras through ingest only, and
    # every field is evidence or the pipeline's own state (which vehicle, which status). An
    # operator acts through the actions and the review queue, which go through the services
    # and record who decided.
    actions = ["rerun_ocr", "approve_review"]

    def has_delete_permission(self, request: HttpRequest, obj: Detection | None = None) -> bool:
        # A violation is evidence: retention purges its personal data, nobody deletes it
        # by hand (the hourly statistics count every row ever stored, too).
        return False

    Media = EvidenceMedia

    @admin.display(description=_("plate"))
    def plate(self, detection: Detection) -> str:
        return detection.plate or "-"

    @admin.display(description=_("snapshot"))
    def snapshot(self, detection: Detection) -> str:
        return snapshot_with_plate_box(detection, max_width=640)

    @admin.display(description=_("trace"))
    def trace(self, detection: Detection) -> str:
        """The trace id, linked to the trace viewer when TRACE_URL_TEMPLATE is set."""
        if not detection.trace_id:
            return "-"
        shown = (
            format_html(
                '<a href="{}">{}</a>',
                settings.TRACE_URL_TEMPLATE.format(trace_id=detection.trace_id),
                detection.trace_id,
            )
            if settings.TRACE_URL_TEMPLATE
            else detection.trace_id
        )
        if detection.trace_sampled:
            return shown
        return format_html("{} ({})", shown, _("sampled out: only its failure, review or dead letter is traced"))

    @admin.action(description=_("Reviewed: the read is right, notify the owner"), permissions=["operate"])
    def approve_review(self, request: HttpRequest, queryset: QuerySet) -> None:
        approved, refused = 0, []
        for detection in queryset.filter(needs_review=True, status=Detection.Status.COMPLETED):
            try:
                review.accept_read(detection, reviewer=request.user.get_username())
                approved += 1
            except review.ReviewRefused as refusal:
                refused.append(str(refusal))
        messages.success(
            request,
            ngettext(
                "%(count)d detection approved; its alert is on the way.",
                "%(count)d detections approved; their alerts are on the way.",
                approved,
            )
            % {"count": approved},
        )
        for reason in refused:
            messages.warning(request, reason)

    @admin.action(description=_("Re-run OCR for the selected detections"), permissions=["operate"])
    def rerun_ocr(self, request: HttpRequest, queryset: QuerySet) -> None:
        for detection in queryset:
            hand_to_ocr(services.reset_for_ocr(detection))
        count = queryset.count()
        messages.success(
            request,
            ngettext("OCR queued again for %(count)d detection.", "OCR queued again for %(count)d detections.", count)
            % {"count": count},
        )


class ReviewDecisionForm(forms.ModelForm):
    plate = forms.CharField(
        max_length=20,
        required=False,
        label=_("Plate on the snapshot"),
        help_text=format_lazy(
            _("Leave the engine's read to accept it, or type the plate you see (e.g. {examples})."),
            examples=PLATE_EXAMPLES,
        ),
    )

    class Meta:
        model = ReviewItem
        fields: tuple[str, ...] = ()

    def clean_plate(self) -> str:
        typed = self.cleaned_data["plate"].strip()
        if "_correct" in self.data and normalise_plate(typed) is None:
            raise forms.ValidationError(
                _("Not a Korean plate: e.g. %(examples)s."), code="invalid_plate", params={"examples": PLATE_EXAMPLES}
            )
        return typed


@admin.register(ReviewItem)
class ReviewQueueAdmin(admin.ModelAdmin):
    """Detections waiting for a person: look at the snapshot, then accept the read or type
    the plate. Either decision notifies the owner of the matched vehicle once."""

    list_display = ("id", "thumbnail", "ocr_result", "confidence", "review_reason", "camera_id", "detected_at")
    list_display_links = ("id", "thumbnail")
    list_filter = ("camera_id",)
    search_fields = ("ocr_result", "event_id")
    ordering = ("detected_at",)
    form = ReviewDecisionForm
    fields = ("snapshot", "plate", "ocr_result", "ocr_confidence", "review_reason", *CAMERA_FIELDS)
    readonly_fields = ("snapshot", "ocr_result", "ocr_confidence", "review_reason", *CAMERA_FIELDS)
    change_form_template = "admin/detections/review_change_form.html"
    Media = EvidenceMedia

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(needs_review=True, status=Detection.Status.COMPLETED)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Detection | None = None) -> bool:
        return False

    @admin.display(description=_("confidence"), ordering="ocr_confidence")
    def confidence(self, detection: Detection) -> str:
        return f"{detection.ocr_confidence:.2f}" if detection.ocr_confidence is not None else "-"

    @admin.display(description=_("snapshot"))
    def thumbnail(self, detection: Detection) -> str:
        return snapshot_with_plate_box(detection, max_width=240)

    @admin.display(description=_("snapshot"))
    def snapshot(self, detection: Detection) -> str:
        return snapshot_with_plate_box(detection, max_width=960)

    def get_form(self, request: HttpRequest, obj: Detection | None = None, **kwargs: object) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, **kwargs)
        form.base_fields["plate"].initial = obj.ocr_result if obj else ""
        return form

    def save_model(self, request: HttpRequest, obj: Detection, form: forms.ModelForm, change: bool) -> None:
        reviewer = request.user.get_username()
        try:
            if "_correct" in request.POST:
                decided = review.correct_plate(obj, plate=form.cleaned_data["plate"], reviewer=reviewer)
            else:
                decided = review.accept_read(obj, reviewer=reviewer)
        except review.ReviewRefused as refusal:
            messages.error(request, str(refusal))
            return
        if decided.vehicle_id:
            message = _("Detection %(id)s: plate %(plate)s recorded; the owner is being notified.")
        else:
            message = _("Detection %(id)s: plate %(plate)s recorded; no registered vehicle, nobody is notified.")
        messages.success(request, message % {"id": obj.pk, "plate": decided.reviewed_plate})

    def save_form(self, request: HttpRequest, form: forms.ModelForm, change: bool) -> Detection:
        return form.instance  # the decision is recorded by the review service, not by a model save

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: list, change: bool) -> None:
        pass  # nothing related is edited here

    def response_change(self, request: HttpRequest, obj: Detection) -> HttpResponse:
        # On to the next detection in the queue.
        return HttpResponseRedirect(reverse("admin:detections_reviewitem_changelist"))
