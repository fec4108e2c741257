"""Vehicle speed from video: motion detection, multi-object tracking, ground-plane speed.

Per frame (scaled to `processing_width`): a background model (OpenCV MOG2) gives the
moving pixels; their blobs are vehicles; blobs are tracked across frames by overlap.
Each blob's ground contact point (bottom centre of its box) goes through the
calibration homography to metres on the road. When a track ends, its speed is the
least-squares slope of position along the road against time, over the points inside
the measurement zone: the average speed through the zone. Sanity bounds reject
implausible tracks (too short, too few points, too slow, too fast, not moving in a line).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import cv2
import numpy as np

from edge.calibration import GroundPlane
from edge.camera_config import CameraConfig
from edge.sources import Frame

MIN_ZONE_COVERAGE = 0.4  # a track must be seen over this share of the zone's length
MAX_RESIDUAL_M = 1.0  # RMS distance from the fitted straight line


@dataclass
class _Observation:
    frame_index: int
    timestamp_s: float
    along_m: float
    metres_per_pixel: float  # along the road, here: how much one pixel of error weighs


@dataclass
class _Track:
    id: int
    box: tuple[int, int, int, int]
    first_frame: int
    last_frame: int
    missed: int = 0
    observations: list[_Observation] = field(default_factory=list)
    best_sharpness: float = -1.0
    best_frame: np.ndarray | None = None  # full resolution
    best_box: tuple[int, int, int, int] | None = None  # full resolution


@dataclass(frozen=True)
class Measurement:
    track_id: int
    speed_kmh: float
    direction: str
    first_frame: int
    last_frame: int
    points: int
    over_limit: bool
    snapshot: np.ndarray | None = None  # the sharpest full-resolution frame of the vehicle
    vehicle_box: tuple[int, int, int, int] | None = None  # x, y, w, h in that frame
    plate_box: tuple[int, int, int, int] | None = None  # the licence plate in that frame, if found

    def as_dict(self) -> dict:
        return {
            "track_id": self.track_id,
            "speed_kmh": round(self.speed_kmh, 1),
            "direction": self.direction,
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "points": self.points,
            "over_limit": self.over_limit,
        }


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / float(aw * ah + bw * bh - inter) if inter else 0.0


def _centre_distance(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    return float(np.hypot(a[0] + a[2] / 2 - b[0] - b[2] / 2, a[1] + a[3] / 2 - b[1] - b[3] / 2))


class SpeedMeter:
    """Feed frames in order; get a Measurement for every vehicle that passed the zone."""

    def __init__(self, config: CameraConfig, *, keep_snapshots: bool = False) -> None:
        self.config = config
        self.keep_snapshots = keep_snapshots
        self._background = cv2.createBackgroundSubtractorMOG2(history=300, varThreshold=32, detectShadows=False)
        self._tracks: list[_Track] = []
        self._ids = itertools.count(1)
        self._scale: float | None = None
        self._ground: GroundPlane | None = None
        zone = config.zone
        world_y = [p[1] for p in config.calibration.world()]
        self._zone = (
            zone.start_m if zone.start_m is not None else min(world_y),
            zone.end_m if zone.end_m is not None else max(world_y),
        )
        self._open = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
        self._close = cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9))

    def process(self, frame: Frame) -> list[Measurement]:
        image = frame.image
        if self._scale is None:
            self._scale = min(1.0, self.config.capture.processing_width / image.shape[1])
            self._ground = GroundPlane.from_calibration(self.config.calibration)
        small = cv2.resize(image, None, fx=self._scale, fy=self._scale, interpolation=cv2.INTER_AREA)
        # In colour: a red car can have the grey level of the asphalt.
        # No blur: it would push the blob's bottom edge below the vehicle's ground line.
        mask = self._background.apply(small)
        if frame.index < self.config.detection.warmup_frames:
            return []
        _, mask = cv2.threshold(mask, 127, 255, cv2.THRESH_BINARY)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._open)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._close)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        boxes = [
            (int(x), int(y), int(w), int(h))
            for x, y, w, h, area in stats[1:count]
            if area >= self.config.detection.min_area_px
        ]
        self._associate(boxes, frame, small.shape)
        return self._finish_lost()

    def flush(self) -> list[Measurement]:
        """The source ended: finish every open track."""
        finished = [m for track in self._tracks if (m := self._measure(track)) is not None]
        self._tracks = []
        return finished

    # --- tracking --------------------------------------------------------------------
    def _associate(self, boxes: list[tuple[int, int, int, int]], frame: Frame, shape: tuple[int, ...]) -> None:
        pairs = sorted(
            (
                (_iou(track.box, box) or -_centre_distance(track.box, box) / 1000, t_index, b_index)
                for t_index, track in enumerate(self._tracks)
                for b_index, box in enumerate(boxes)
            ),
            reverse=True,
        )
        matched_tracks: set[int] = set()
        matched_boxes: set[int] = set()
        for score, t_index, b_index in pairs:
            if t_index in matched_tracks or b_index in matched_boxes:
                continue
            track, box = self._tracks[t_index], boxes[b_index]
            near = score > 0 or _centre_distance(track.box, box) < max(track.box[2], track.box[3]) * 0.75
            if not near:
                continue
            matched_tracks.add(t_index)
            matched_boxes.add(b_index)
            self._observe(track, box, frame, shape)
        for t_index, track in enumerate(self._tracks):
            if t_index not in matched_tracks:
                track.missed += 1
        for b_index, box in enumerate(boxes):
            if b_index not in matched_boxes:
                track = _Track(id=next(self._ids), box=box, first_frame=frame.index, last_frame=frame.index)
                self._tracks.append(track)
                self._observe(track, box, frame, shape)

    def _observe(self, track: _Track, box: tuple[int, int, int, int], frame: Frame, shape: tuple[int, ...]) -> None:
        track.box, track.missed, track.last_frame = box, 0, frame.index
        x, y, w, h = box
        touches_edge = x <= 1 or y <= 1 or x + w >= shape[1] - 1 or y + h >= shape[0] - 1
        if touches_edge:
            return  # part of the vehicle is outside the picture: its bottom is not its ground point
        assert self._ground is not None and self._scale is not None
        # The box's bottom edge (y + h, a pixel boundary at processing scale), in the
        # full-resolution pixel-centre coordinates the calibration uses.
        ground_point = ((x + w / 2) / self._scale - 0.5, (y + h) / self._scale - 0.5)
        below = (ground_point[0], ground_point[1] + 1 / self._scale)
        along, along_below = (float(v) for v in self._ground.to_world(np.array([ground_point, below]))[:, 1])
        if not self._zone[0] <= along <= self._zone[1]:
            return
        if self.keep_snapshots:
            full = tuple(round(v / self._scale) for v in box)
            crop = frame.image[full[1] : full[1] + full[3], full[0] : full[0] + full[2]]
            if crop.size:
                sharpness = float(cv2.Laplacian(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())
                # Sharp and large: a near vehicle shows its plate best.
                sharpness *= full[2] * full[3]
                if sharpness > track.best_sharpness:
                    track.best_sharpness, track.best_frame, track.best_box = sharpness, frame.image.copy(), full
        track.observations.append(_Observation(frame.index, frame.timestamp_s, along, abs(along - along_below)))

    def _finish_lost(self) -> list[Measurement]:
        limit = self.config.detection.max_missed_frames
        lost = [track for track in self._tracks if track.missed > limit]
        self._tracks = [track for track in self._tracks if track.missed <= limit]
        return [m for track in lost if (m := self._measure(track)) is not None]

    # --- speed -------------------------------------------------------------------------
    def _measure(self, track: _Track) -> Measurement | None:
        detection = self.config.detection
        points = track.observations
        if len(points) < detection.min_track_points:
            return None
        times = np.array([p.timestamp_s for p in points])
        along = np.array([p.along_m for p in points])
        covered = along.max() - along.min()
        if covered < MIN_ZONE_COVERAGE * (self._zone[1] - self._zone[0]) or np.ptp(times) <= 0:
            return None
        # Weighted: a pixel far away spans several times the road a near pixel does.
        weights = 1.0 / np.maximum(np.array([p.metres_per_pixel for p in points]), 1e-3)
        slope, intercept = np.polyfit(times, along, 1, w=weights)
        residual = float(np.sqrt(np.mean((along - (slope * times + intercept)) ** 2)))
        speed_kmh = abs(float(slope)) * 3.6
        if residual > MAX_RESIDUAL_M or not detection.min_speed_kmh <= speed_kmh <= detection.max_speed_kmh:
            return None
        directions = self.config.directions
        return Measurement(
            track_id=track.id,
            speed_kmh=speed_kmh,
            direction=directions.away if slope > 0 else directions.towards,
            first_frame=points[0].frame_index,
            last_frame=points[-1].frame_index,
            points=len(points),
            over_limit=speed_kmh > self.config.violation_threshold_kmh,
            snapshot=track.best_frame,
            vehicle_box=track.best_box,
            plate_box=find_plate(track.best_frame, track.best_box) if track.best_frame is not None else None,
        )


PLATE_ASPECT = (1.8, 6.5)  # 520 x 110 mm (4.7) and the older 335 x 155 mm (2.2)


def find_plate(image: np.ndarray, vehicle_box: tuple[int, int, int, int] | None) -> tuple[int, int, int, int] | None:
    """The most plate-like bright rectangle in the vehicle's box: [x, y, w, h] in the
    image, or None. Plates are light with dark characters, wider than tall, and sit in
    the lower part of the face towards the camera."""
    if vehicle_box is None:
        return None
    x0, y0, width, height = vehicle_box
    crop = image[y0 : y0 + height, x0 : x0 + width]
    if crop.size == 0 or width < 20 or height < 10:
        return None
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    _, bright = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    best, best_score = None, 0.0
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        aspect = w / h if h else 0
        share = w * h / (width * height)
        if not (PLATE_ASPECT[0] <= aspect <= PLATE_ASPECT[1] and 0.002 <= share <= 0.15 and w >= 8):
            continue
        rectangularity = cv2.contourArea(contour) / (w * h)
        if rectangularity < 0.6:
            continue
        lower = (y + h / 2) / height  # plates sit low on the vehicle
        score = rectangularity * (0.5 + lower) / (1 + abs(np.log(aspect / 4.7)))
        if score > best_score:
            best, best_score = (x0 + x, y0 + y, w, h), score
    return best
