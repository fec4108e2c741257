"""The review queue's two decisions: the engine's read is right, or a person types the plate.

Either one records who decided what next to the engine's read (which stays as it was),
matches the plate to a registered vehicle exactly (a person's reading needs no fuzzy
match), and hands the detection to the alert role once. A second decision on the same
detection is refused, so a double click or two reviewers cannot push twice; the alert
role's claim guards the push itself as well.
"""

from __future__ import annotations

from django.db import router, transaction
from django.utils.translation import gettext as _

from backend.contracts.plates import PLATE_EXAMPLES, normalise_plate
from backend.detections import services
from backend.detections.handover import hand_to_alert
from backend.detections.models import Detection
from backend.vehicles.selectors import vehicle_by_plate


class ReviewRefused(Exception):
    """The decision cannot be recorded: say why to the reviewer."""


def accept_read(detection: Detection, *, reviewer: str) -> Detection:
    if not detection.ocr_result:
        raise ReviewRefused(_("there is no read to accept: type the plate instead"))
    return _decide(detection, plate=detection.ocr_result, reviewer=reviewer)


def correct_plate(detection: Detection, *, plate: str, reviewer: str) -> Detection:
    normalised = normalise_plate(plate)
    if normalised is None:
        raise ReviewRefused(
            _("%(plate)r is not a Korean plate (e.g. %(examples)s)") % {"plate": plate, "examples": PLATE_EXAMPLES}
        )
    return _decide(detection, plate=normalised, reviewer=reviewer)


def _decide(detection: Detection, *, plate: str, reviewer: str) -> Detection:
    vehicle = vehicle_by_plate(plate)
    reviewed = services.record_review(
        detection.pk, plate=plate, vehicle_id=vehicle.pk if vehicle else None, reviewer=reviewer
    )
    if reviewed is None:
        raise ReviewRefused(_("detection %(id)s is not waiting for review (already decided?)") % {"id": detection.pk})
    # After the commit: the admin decides inside a transaction, and an alert worker that
    # read the detection before it would still see it waiting for review. Without a
    # registered vehicle the alert role records "no vehicle", and nobody is pushed.
    transaction.on_commit(lambda: hand_to_alert(reviewed), using=router.db_for_write(Detection))
    return reviewed
