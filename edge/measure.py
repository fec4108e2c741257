"""Vehicle speed from video: detection, tracking with a motion model, and a speed that
carries its uncertainty.

Per frame (scaled to `processing_width`):

1. **Light.** The grey level of the road inside the calibrated patch decides the mode:
   body (daylight), lamps (dusk: dark cars on a dark road leave only their lamps), or
   none (below `min_light_level` the unit reports "cannot measure" and guesses nothing).
   The frame is normalised to a fixed road level first, so passing clouds and exposure
   steps do not light up the background model.
2. **Detections.** Body mode: OpenCV's MOG2 background model with its shadow detector;
   shadow pixels (darker than the road by a factor 0.4-1 with the road's colour) are not
   vehicle. Lamp mode: bright spots, paired left/right at one height.
3. **Ground point.** Body mode takes the lowest pixel row of the blob, at its centre:
   the bottom edge of the face nearest the camera, which is on the road. It is a fixed
   point of the vehicle whatever the camera's offset, yaw or roll, unlike the bottom
   centre of the bounding box (which under a yawed camera slides along the vehicle with
   distance: -2 % on average, up to -4 %, on the issue's videos). The mask's own edge moves
   with contrast (half a pixel either way), so the edge is refined from the colours across
   it (`_refine_edge`). Measured on the project's nine scenes (edge/synthetic.py, 2026-11-23):
   mean error -0.65 % in daylight (it reads low, never high; worst -2.1 %), -2.1 % by lamps
   (worst -3.7 %: cars' lamps sit below the range's middle). Tracked feature points (KLT)
   were not needed for that and are not used. Lamp mode takes
   the midpoint of a lamp pair; a lamp at height h projects onto the road H / (H - h)
   farther out than it is (H: the camera's height), so lamp speeds are scaled by
   (H - h) / H for the middle of `lamp_height_m`, and the rest of that range is added to
   the uncertainty: a lamp measurement never reads high for any lamp in that range.
4. **Tracking.** Each vehicle is a constant-velocity Kalman filter in road metres
   (x across, y along). Detections are assigned to the tracks' predictions by the
   Hungarian method (scipy's linear_sum_assignment) on Mahalanobis distance, gated by
   lane (no sideways jump of more than 1.5 m) and by direction (no step backwards once
   the direction is known). A vehicle hidden for a moment coasts on its prediction, so
   crossing vehicles and a vehicle entering where another left stay two tracks.
5. **Speed.** When a track ends, the speed is the weighted least-squares slope of its
   position along the road against time, inside the measurement zone, after rejecting
   outliers. Its uncertainty (k = 2) combines the slope's standard error (from the pixel
   size along the road at each point, scaled up by the fit's residuals when they are
   larger than the pixels explain), the calibration's uncertainty and, in lamp mode,
   the lamp height range. The enforceable speed is the speed minus that uncertainty minus
   the configured tolerance; only it is compared with the limit.

Every confirmed track that reached the zone ends as a Measurement or as Unmeasurable
with a reason; none is dropped silently.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from edge.calibration import GroundPlane
from edge.camera_config import CameraConfig
from edge.sources import Frame

logger = logging.getLogger(__name__)

MIN_ZONE_COVERAGE = 0.4  # a track must be seen over this share of the zone's length
MAX_RESIDUAL_M = 1.0  # RMS distance from the fitted straight line
PIXEL_SIGMA = 0.5  # one detection's error in processing pixels along the road
LANE_GATE_M = 1.5  # how far sideways a detection may be from a track's prediction
GATE_MAHALANOBIS_SQ = 16.0  # chi-square, 2 degrees of freedom: about 1 in 3000 true matches refused
CONFIRM_HITS = 5  # detections before a track counts as a vehicle
ROAD_LEVEL = 100.0  # the grey level frames are normalised to
SHADOW_THRESHOLD = 0.4  # MOG2: a pixel down to 0.4 of the background's brightness may be shadow
# Frames of memory of the background model after warm-up. A uniform face that stays on the
# same pixels becomes background after about a tenth of this: learning at 1/frames seen
# (OpenCV's default early on), a slow truck's rear faded from the mask within a second
# and its ground line rose by half a metre.
BACKGROUND_HISTORY = 500

Mode = Literal["body", "lamps", "dark"]
REASONS = (
    "too_few_points",
    "short_coverage",
    "track_broken",
    "not_straight",
    "implausible_speed",
    "too_dark",
    "no_camera_height",
)


@dataclass(frozen=True)
class _Detection:
    box: tuple[int, int, int, int]  # processing pixels
    foot: tuple[float, float]  # full-resolution pixel of the ground point (or lamp midpoint)
    world: np.ndarray  # (x, y) metres
    sigma: np.ndarray  # (across, along) metres: this detection's error


@dataclass
class _Observation:
    frame_index: int
    timestamp_s: float
    along_m: float
    sigma_m: float  # along the road


@dataclass
class _Track:
    id: int
    mode: Mode
    filter: cv2.KalmanFilter
    box: tuple[int, int, int, int]
    last_time_s: float
    last_seen_s: float
    hits: int = 1
    observations: list[_Observation] = field(default_factory=list)
    trail: list[tuple[int, int]] = field(default_factory=list)  # processing pixels, for drawing
    best_sharpness: float = -1.0
    best_frame: np.ndarray | None = None  # full resolution
    best_box: tuple[int, int, int, int] | None = None  # full resolution
    last_along_m: float | None = None

    @property
    def state(self) -> np.ndarray:
        return self.filter.statePost[:, 0]


@dataclass(frozen=True)
class Measurement:
    """km/h to 0.1, each figure rounded in the camera's disfavour (the speed down, the
    deductions up), so the published figures add up exactly and never exceed the fit's."""

    track_id: int
    speed_kmh: float  # as measured
    uncertainty_kmh: float  # k = 2
    tolerance_kmh: float  # the configured tolerance at this speed
    enforceable_kmh: float  # speed - uncertainty - tolerance: what a ticket may say
    direction: str
    first_frame: int
    last_frame: int
    points: int
    method: Literal["body", "lamps"]
    over_limit: bool  # the enforceable speed exceeds the limit
    snapshot: np.ndarray | None = None  # the sharpest full-resolution frame of the vehicle
    vehicle_box: tuple[int, int, int, int] | None = None  # x, y, w, h in that frame
    plate_box: tuple[int, int, int, int] | None = None  # the licence plate in that frame, if found

    measured: bool = True

    def as_dict(self) -> dict:
        return {
            "measured": True,
            "track_id": self.track_id,
            "speed_kmh": self.speed_kmh,
            "uncertainty_kmh": self.uncertainty_kmh,
            "tolerance_kmh": self.tolerance_kmh,
            "enforceable_kmh": self.enforceable_kmh,
            "direction": self.direction,
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "points": self.points,
            "method": self.method,
            "over_limit": self.over_limit,
        }


@dataclass(frozen=True)
class Unmeasurable:
    """A vehicle the unit saw in the zone but cannot stand behind a speed for."""

    track_id: int
    reason: str  # one of REASONS
    detail: str
    direction: str | None
    first_frame: int
    last_frame: int
    points: int

    measured: bool = False

    def as_dict(self) -> dict:
        return {
            "measured": False,
            "track_id": self.track_id,
            "reason": self.reason,
            "detail": self.detail,
            "direction": self.direction,
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "points": self.points,
        }


@dataclass(frozen=True)
class Blind:
    """A stretch of video in which the unit could see too little to measure anyone."""

    reason: str  # "too_dark"
    detail: str
    first_frame: int
    last_frame: int

    measured: bool = False

    def as_dict(self) -> dict:
        return {
            "measured": False,
            "blind": True,
            "reason": self.reason,
            "detail": self.detail,
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
        }


Outcome = Measurement | Unmeasurable | Blind


def _kalman(world: np.ndarray, sigma: np.ndarray) -> cv2.KalmanFilter:
    kalman = cv2.KalmanFilter(4, 2, 0, cv2.CV_64F)
    kalman.measurementMatrix = np.array([[1, 0, 0, 0], [0, 1, 0, 0]], np.float64)
    kalman.statePost = np.array([[world[0]], [world[1]], [0.0], [0.0]])
    # Unknown velocity at birth: up to 2 m/s sideways, 60 m/s along the road.
    kalman.errorCovPost = np.diag([sigma[0] ** 2, sigma[1] ** 2, 2.0**2, 30.0**2])
    return kalman


def _predict(kalman: cv2.KalmanFilter, dt: float) -> None:
    kalman.transitionMatrix = np.array([[1, 0, dt, 0], [0, 1, 0, dt], [0, 0, 1, 0], [0, 0, 0, 1]], np.float64)
    # White-noise acceleration: vehicles barely change lane or speed in a second.
    q = np.array([[dt**4 / 4, dt**3 / 2], [dt**3 / 2, dt**2]])
    noise = np.zeros((4, 4))
    for axis, accel in ((0, 1.0), (1, 3.0)):
        index = [axis, axis + 2]
        noise[np.ix_(index, index)] = q * accel**2
    kalman.processNoiseCov = noise
    kalman.predict()


def _share_inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> float:
    """The share of `inner`'s area that lies inside `outer`."""
    ax, ay, aw, ah = inner
    bx, by, bw, bh = outer
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    return ix * iy / float(aw * ah) if aw * ah else 0.0


class SpeedMeter:
    """Feed frames in order; get an Outcome for every vehicle that passed the zone."""

    def __init__(self, config: CameraConfig, *, keep_snapshots: bool = False) -> None:
        self.config = config
        self.keep_snapshots = keep_snapshots
        self._background = cv2.createBackgroundSubtractorMOG2(
            history=BACKGROUND_HISTORY, varThreshold=32, detectShadows=True
        )
        self._background.setShadowThreshold(SHADOW_THRESHOLD)
        self._tracks: list[_Track] = []
        self._ids = itertools.count(1)
        self._scale: float | None = None
        self._ground: GroundPlane | None = None
        self._road_mask: np.ndarray | None = None
        self._foreground: np.ndarray | None = None  # the previous frame's MOG2 mask
        zone = config.zone
        world_y = [p[1] for p in config.calibration.world()]
        self._zone = (
            zone.start_m if zone.start_m is not None else min(world_y),
            zone.end_m if zone.end_m is not None else max(world_y),
        )
        self._open = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
        self._close = cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9))
        self.light_level: float | None = None
        self.mode: Mode = "body"
        self.counters: Counter[str] = Counter()
        self.last_frame_index = -1
        self._dark_since = 0
        # Each ended track's path in the picture (processing pixels), to draw its result on.
        self.trails: dict[int, list[tuple[int, int]]] = {}

    # --- per frame -------------------------------------------------------------------
    def process(self, frame: Frame) -> list[Outcome]:
        image = frame.image
        if self._scale is None:
            self._setup(image.shape)
        assert self._scale is not None
        small = cv2.resize(image, None, fx=self._scale, fy=self._scale, interpolation=cv2.INTER_AREA)
        self.last_frame_index = frame.index
        frame_level = self._light(small)
        # In colour: a red car can have the grey level of the asphalt. No blur: it would
        # push the blob's bottom edge below the vehicle's ground line.
        normalised = cv2.convertScaleAbs(small, alpha=float(np.clip(ROAD_LEVEL / max(frame_level, 1.0), 0.5, 4.0)))
        # While warming up, MOG2 learns at 1/frames seen; afterwards at its slow steady rate,
        # or the first vehicles after a start would fade into the background as they pass.
        warming = frame.index < self.config.detection.warmup_frames
        mask = self._background.apply(normalised, learningRate=-1 if warming else 1 / BACKGROUND_HISTORY)
        self._foreground = mask
        if warming:
            return []
        finished: list[Outcome] = []
        level = self.light_level or frame_level
        mode = self._mode(level)
        if mode != self.mode:
            if mode == "dark":
                logger.warning(
                    "cannot measure: too dark (road grey level %.0f, below %g)",
                    level,
                    self.config.detection.min_light_level,
                    extra={"light_level": round(level, 1), "frame": frame.index},
                )
            else:
                logger.info(
                    "light changed: %s -> %s",
                    self.mode,
                    mode,
                    extra={"light_level": round(level, 1), "frame": frame.index},
                )
            # A vehicle tracked in one mode cannot be finished in another.
            finished += self._end(self._tracks, too_dark=mode == "dark")
            self._tracks = []
            if self.mode == "dark":
                finished.append(self._blind_until(frame.index - 1))
            else:
                self._dark_since = frame.index
            self.mode = mode
        if mode == "dark":
            self.counters["dark_frames"] += 1
            return finished
        detections = self._bodies(mask, image) if mode == "body" else self._lamps(small, mask)
        self._track(detections, frame)
        return finished + self._finish_lost(frame)

    def flush(self) -> list[Outcome]:
        """The source ended: finish every open track."""
        finished = self._end(self._tracks)
        self._tracks = []
        if self.mode == "dark":
            finished.append(self._blind_until(self.last_frame_index))
            self._dark_since = self.last_frame_index + 1
        return finished

    def _blind_until(self, last_frame: int) -> Blind:
        detail = (
            f"the road's grey level fell below {self.config.detection.min_light_level:g}: "
            "no body or lamp can be measured reliably"
        )
        return Blind(reason="too_dark", detail=detail, first_frame=self._dark_since, last_frame=last_frame)

    def _setup(self, shape: tuple[int, ...]) -> None:
        self._scale = min(1.0, self.config.capture.processing_width / shape[1])
        self._ground = GroundPlane.from_calibration(self.config.calibration)
        polygon = np.array(self.config.calibration.image_points, np.float64) * self._scale
        height, width = round(shape[0] * self._scale), round(shape[1] * self._scale)
        road = np.zeros((height, width), np.uint8)
        cv2.fillConvexPoly(road, np.round(polygon).astype(np.int32), 1)
        self._road_mask = road.astype(bool)

    def _light(self, small: np.ndarray) -> float:
        """The road's grey level: the median over the calibrated patch (every 3rd pixel),
        leaving out what was foreground in the previous frame, smoothed over about a
        second for the choice of mode (the frame is normalised by this frame's own level:
        a lagging gain would light up the whole background while clouds pass). A truck
        filling the patch must not change the exposure of everything else."""
        assert self._road_mask is not None
        grey = cv2.cvtColor(small[::3, ::3], cv2.COLOR_BGR2GRAY)
        road = self._road_mask[::3, ::3]
        if self._foreground is not None:
            clear = road & (self._foreground[::3, ::3] == 0)
            if clear.sum() > 0.3 * road.sum():
                road = clear
        level = float(np.median(grey[road]))
        self.light_level = level if self.light_level is None else 0.95 * self.light_level + 0.05 * level
        return level

    def _mode(self, level: float) -> Mode:
        detection = self.config.detection
        hysteresis = 3.0  # grey levels: no flapping at the threshold
        if level < detection.min_light_level - (hysteresis if self.mode != "dark" else -hysteresis):
            return "dark"
        if level < detection.lamp_mode_below - (hysteresis if self.mode == "body" else -hysteresis):
            return "lamps"
        return "body"

    # --- detections ------------------------------------------------------------------
    def _bodies(self, mask: np.ndarray, image: np.ndarray) -> list[_Detection]:
        _, mask = cv2.threshold(mask, 200, 255, cv2.THRESH_BINARY)  # 127 is shadow
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._open)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._close)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        height, width = mask.shape
        detections = []
        for label in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[label])
            if area < self.config.detection.min_area_px:
                continue
            if x <= 1 or y <= 1 or x + w >= width - 1 or y + h >= height - 1:
                continue  # part of the vehicle is outside the picture: its lowest point is not its ground point
            bottom = np.flatnonzero(labels[y + h - 1, x : x + w] == label)
            # The pixel boundary under the lowest row, at the centre of that row's run.
            foot = (x + float(bottom.mean()) + 0.5, float(y + h))
            foot = (foot[0], self._refine_edge(image, foot))
            detections.append(self._detection((x, y, w, h), foot, across_extra_m=0.5))
        return detections

    def _refine_edge(self, image: np.ndarray, foot: tuple[float, float]) -> float:
        """The vehicle's bottom edge to a fraction of a full-resolution pixel.

        The mask's edge sits where a blended pixel first differs enough from the road:
        half a pixel low on a high-contrast car and half a pixel high on a faint one, which
        far away is 0.3 m and a 1-2 % speed bias. Summing each row's coverage (how far its
        colour has moved from the road's towards the vehicle's) over a window across the
        edge gives the edge itself, whatever the contrast or blur."""
        assert self._scale is not None
        edge = foot[1] / self._scale  # full resolution, pixel-edge coordinates
        column = int(foot[0] / self._scale)
        top = int(edge) - 4
        if top < 0 or top + 9 > image.shape[0] or column < 1 or column + 2 > image.shape[1]:
            return foot[1]
        window = image[top : top + 9, column - 1 : column + 2].astype(np.float32).mean(axis=1)  # 9 rows x BGR
        vehicle, road = window[:2].mean(axis=0), window[-2:].mean(axis=0)
        contrast = vehicle - road
        norm = float(contrast @ contrast)
        if norm < 30.0**2:
            return foot[1]  # too faint to refine: the mask's edge stands
        coverage = np.clip((window - road) @ contrast / norm, 0.0, 1.0)
        refined = top + float(coverage.sum())
        if abs(refined - edge) > 1.5 / self._scale:
            return foot[1]  # the window did not straddle one clean edge
        return refined * self._scale

    def _lamps(self, small: np.ndarray, mask: np.ndarray) -> list[_Detection]:
        """Lamp pairs (or single lamps too far away to split) as detections. Only moving
        lights count: a street lamp or a lit sign is bright but part of the background."""
        brightest = small.max(axis=2)
        _, bright = cv2.threshold(brightest, 200, 255, cv2.THRESH_BINARY)
        moving = cv2.dilate((mask == 255).astype(np.uint8) * 255, self._open)
        bright = cv2.bitwise_and(bright, moving)
        count, _, stats, centroids = cv2.connectedComponentsWithStats(bright, connectivity=8)
        spots = [
            (centroids[label], stats[label])
            for label in range(1, count)
            if 1 <= stats[label][4] <= 400  # a lamp, not a lit wall
        ]
        if not spots:
            return []
        assert self._scale is not None and self._ground is not None
        ground = self._ground.to_world(np.array([self._full(c[0], c[1]) for c, _ in spots]))
        low, high = self.config.detection.lamp_height_m
        height = self.config.calibration.camera_height_m or 5.0
        stretch = height / (height - (low + high) / 2)  # lamp projections sit this much wider apart
        pairs = sorted(
            (abs(abs(ground[i][0] - ground[j][0]) - 1.5 * stretch), i, j)
            for i, j in itertools.combinations(range(len(spots)), 2)
            if abs(spots[i][0][1] - spots[j][0][1]) <= max(2.0, 0.6 * (spots[i][1][3] + spots[j][1][3]))
            and 0.9 * stretch <= abs(ground[i][0] - ground[j][0]) <= 2.6 * stretch
            and abs(ground[i][1] - ground[j][1]) < 2.0
        )
        used: set[int] = set()
        groups: list[list[int]] = []
        for _, i, j in pairs:
            if i not in used and j not in used:
                used |= {i, j}
                groups.append([i, j])
        for i in range(len(spots)):
            # A lone lamp beside a pair is the pair's glare or a partner lost to occlusion.
            alone = all(
                abs(ground[i][0] - ground[g[0]][0]) > 3.5 or abs(ground[i][1] - ground[g[0]][1]) > 3 for g in groups
            )
            if i not in used and alone:
                groups.append([i])
        detections = []
        for group in groups:
            boxes = np.array([spots[i][1][:4] for i in group])
            x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
            x1 = (boxes[:, 0] + boxes[:, 2]).max()
            centre = np.mean([spots[i][0] for i in group], axis=0)
            foot = (float(centre[0]) + 0.5, float(centre[1]) + 0.5)
            # Around the lamps, a box of the vehicle's likely size for the snapshot.
            span = max(x1 - x0, 4)
            box = (int(x0 - span * 0.3), int(y0 - span * 0.6), int(span * 1.6), int(span * 1.0))
            detections.append(self._detection(box, foot, across_extra_m=0.3))
        return detections

    def _full(self, u: float, v: float) -> tuple[float, float]:
        """A processing-scale pixel boundary coordinate in full-resolution pixel-centre coordinates."""
        assert self._scale is not None
        return (u / self._scale - 0.5, v / self._scale - 0.5)

    def _detection(
        self, box: tuple[int, int, int, int], foot: tuple[float, float], *, across_extra_m: float
    ) -> _Detection:
        assert self._ground is not None and self._scale is not None
        full = self._full(*foot)
        step = 1 / self._scale
        here, right, below = self._ground.to_world(
            np.array([full, (full[0] + step, full[1]), (full[0], full[1] + step)])
        )
        sigma = np.array(
            [
                np.linalg.norm(right - here) * PIXEL_SIGMA + across_extra_m,
                np.linalg.norm(below - here) * PIXEL_SIGMA + 0.02,
            ]
        )
        return _Detection(box=box, foot=full, world=here, sigma=sigma)

    # --- tracking --------------------------------------------------------------------
    def _track(self, detections: list[_Detection], frame: Frame) -> None:
        for track in self._tracks:
            _predict(track.filter, max(frame.timestamp_s - track.last_time_s, 1e-3))
            track.last_time_s = frame.timestamp_s
        cost = np.full((len(self._tracks), len(detections)), np.inf)
        for t_index, track in enumerate(self._tracks):
            predicted = track.filter.statePre[:2, 0]
            covariance = track.filter.errorCovPre[:2, :2]
            speed_along = float(track.state[3])
            speed_sigma = math.sqrt(float(track.filter.errorCovPre[3, 3]))
            for d_index, detection in enumerate(detections):
                offset = detection.world - predicted
                if abs(offset[0]) > LANE_GATE_M + 2 * detection.sigma[0]:
                    continue
                if (
                    track.last_along_m is not None
                    and abs(speed_along) > 3 * speed_sigma
                    and (detection.world[1] - track.last_along_m) * math.copysign(1, speed_along)
                    < -(1.0 + 3 * detection.sigma[1])
                ):
                    continue  # a step backwards: another vehicle
                innovation = covariance + np.diag(detection.sigma**2)
                distance = float(offset @ np.linalg.solve(innovation, offset))
                if distance <= GATE_MAHALANOBIS_SQ:
                    cost[t_index, d_index] = distance
        assigned: set[int] = set()
        if self._tracks and detections:
            rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e9))
            for t_index, d_index in zip(rows, cols, strict=True):
                if np.isfinite(cost[t_index, d_index]):
                    self._update(self._tracks[t_index], detections[d_index], frame)
                    assigned.add(int(d_index))
        self._merge_duplicates()
        taken = [detections[i].box for i in assigned] + [t.box for t in self._tracks if t.hits >= CONFIRM_HITS]
        for d_index, detection in enumerate(detections):
            if d_index in assigned:
                continue
            if any(_share_inside(detection.box, box) > 0.3 for box in taken):
                continue  # a piece of a vehicle already tracked (a split blob, a lamp's glare)
            track = _Track(
                id=next(self._ids),
                mode=self.mode,
                filter=_kalman(detection.world, detection.sigma),
                box=detection.box,
                last_time_s=frame.timestamp_s,
                last_seen_s=frame.timestamp_s,
            )
            self._tracks.append(track)
            self._record(track, detection, frame)

    def _merge_duplicates(self) -> None:
        """Two tracks on one vehicle (born from two pieces of its blob) take turns at its
        detections and both end short. Where two tracks sit on one spot at one speed, the
        one seen more often stays (on a tie, the older). The other's points are not taken
        over: it followed another piece of the blob (a shadow's edge, a roof), not the
        ground line."""
        merged: set[int] = set()
        for one, other in itertools.combinations(self._tracks, 2):
            if one.id in merged or other.id in merged:
                continue
            apart = np.abs(one.state - other.state)
            if apart[0] < LANE_GATE_M and apart[1] < 3.0 and apart[3] < 4.0 and one.mode == other.mode:
                dropped = other if (one.hits, -one.id) >= (other.hits, -other.id) else one
                merged.add(dropped.id)
                self.counters["merged_duplicate_tracks"] += 1
        if merged:
            self._tracks = [track for track in self._tracks if track.id not in merged]

    def _update(self, track: _Track, detection: _Detection, frame: Frame) -> None:
        track.filter.measurementNoiseCov = np.diag(detection.sigma**2)
        track.filter.correct(detection.world.reshape(2, 1).astype(np.float64))
        track.hits += 1
        track.box = detection.box
        track.last_seen_s = frame.timestamp_s
        self._record(track, detection, frame)

    def _record(self, track: _Track, detection: _Detection, frame: Frame) -> None:
        assert self._scale is not None
        along = float(detection.world[1])
        track.last_along_m = along
        track.trail.append(
            (round((detection.foot[0] + 0.5) * self._scale), round((detection.foot[1] + 0.5) * self._scale))
        )
        if not self._zone[0] <= along <= self._zone[1]:
            return
        if self.keep_snapshots:
            full = tuple(max(0, round(v / self._scale)) for v in detection.box)
            crop = frame.image[full[1] : full[1] + full[3], full[0] : full[0] + full[2]]
            if crop.size:
                sharpness = float(cv2.Laplacian(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())
                # Sharp and large: a near vehicle shows its plate best.
                sharpness *= full[2] * full[3]
                if sharpness > track.best_sharpness:
                    track.best_sharpness, track.best_frame, track.best_box = sharpness, frame.image.copy(), full
        track.observations.append(_Observation(frame.index, frame.timestamp_s, along, float(detection.sigma[1])))

    def _finish_lost(self, frame: Frame) -> list[Outcome]:
        coast = self.config.detection.max_coast_s
        assert self._ground is not None
        height, width = frame.image.shape[:2]
        lost: list[_Track] = []
        kept: list[_Track] = []
        for track in self._tracks:
            unseen = frame.timestamp_s - track.last_seen_s
            gone = unseen > coast or (track.hits < CONFIRM_HITS and unseen > 2.5 / self.config.capture.fps)
            if unseen > 0 and not gone:
                # Predicted out of the picture: it left, and must not take over a newcomer there.
                u, v = self._ground.to_image(track.state[:2].reshape(1, 2))[0]
                gone = not (0 <= u < width and 0 <= v < height)
            (lost if gone else kept).append(track)
        self._tracks = kept
        return self._end(lost)

    # --- speed -------------------------------------------------------------------------
    def _end(self, tracks: list[_Track], *, too_dark: bool = False) -> list[Outcome]:
        outcomes = []
        for track in tracks:
            if track.hits < CONFIRM_HITS or not track.observations:
                self.counters["ignored_blobs"] += 1  # noise, or never in the zone: not a vehicle here
                continue
            if track.trail:
                self.trails[track.id] = track.trail[-120:]
            outcome = self._refuse(track, "too_dark", "it got too dark") if too_dark else self._measure(track)
            key = "measured" if outcome.measured else f"unmeasurable_{outcome.reason}"
            self.counters[key] += 1
            if not outcome.measured:
                logger.info(
                    "vehicle not measured: %s (%s)",
                    outcome.reason,
                    outcome.detail,
                    extra={
                        "track_id": track.id,
                        "reason": outcome.reason,
                        "frames": [outcome.first_frame, outcome.last_frame],
                    },
                )
            outcomes.append(outcome)
        return outcomes

    def _refuse(self, track: _Track, reason: str, detail: str) -> Unmeasurable:
        directions = self.config.directions
        speed_along = float(track.state[3])
        return Unmeasurable(
            track_id=track.id,
            reason=reason,
            detail=detail,
            direction=(directions.away if speed_along > 0 else directions.towards) if abs(speed_along) > 1 else None,
            first_frame=track.observations[0].frame_index,  # _end passes only tracks seen in the zone
            last_frame=track.observations[-1].frame_index,
            points=len(track.observations),
        )

    def _measure(self, track: _Track) -> Outcome:
        detection = self.config.detection
        points = track.observations
        zone_length = self._zone[1] - self._zone[0]
        if track.mode == "lamps" and self.config.calibration.camera_height_m is None:
            return self._refuse(track, "no_camera_height", "lamps only: calibration.camera_height_m is not set")
        if len(points) < detection.min_track_points:
            needed = detection.min_track_points
            return self._refuse(track, "too_few_points", f"{len(points)} points in the zone, {needed} needed")
        times = np.array([p.timestamp_s for p in points])
        along = np.array([p.along_m for p in points])
        sigmas = np.array([p.sigma_m for p in points])
        keep = np.ones(len(points), bool)
        for _ in range(3):  # fit, drop what lies more than 4 sigma off, refit
            slope, intercept = np.polyfit(times[keep], along[keep], 1, w=1 / sigmas[keep])
            normalised = np.abs(along - (slope * times + intercept)) / sigmas
            scale = max(1.0, float(np.median(normalised[keep])) / 0.6745)
            new_keep = normalised <= 4 * scale
            if new_keep.sum() < detection.min_track_points or (new_keep == keep).all():
                break
            keep = new_keep
        times, along, sigmas = times[keep], along[keep], sigmas[keep]
        covered = float(along.max() - along.min())
        if covered < MIN_ZONE_COVERAGE * zone_length or np.ptp(times) <= 0:
            # Lost inside the zone (hidden, merged, out of the picture) or seen only at its edge.
            predicted = float(track.state[1])
            inside = self._zone[0] <= predicted <= self._zone[1]
            reason = "track_broken" if inside else "short_coverage"
            return self._refuse(track, reason, f"seen over {covered:.1f} m of the {zone_length:.1f} m zone")
        weights = 1 / sigmas**2
        slope, intercept = np.polyfit(times, along, 1, w=1 / sigmas)
        residuals = along - (slope * times + intercept)
        residual_rms = float(np.sqrt(np.mean(residuals**2)))
        if residual_rms > MAX_RESIDUAL_M:
            return self._refuse(track, "not_straight", f"{residual_rms:.2f} m RMS off a straight line")
        mean_time = float(np.sum(weights * times) / np.sum(weights))
        slope_variance = 1.0 / float(np.sum(weights * (times - mean_time) ** 2))
        reduced_chi_sq = float(np.sum(weights * residuals**2)) / max(len(times) - 2, 1)
        slope_variance *= max(1.0, reduced_chi_sq)
        speed_ms = abs(float(slope))
        scale, lamp_bound = 1.0, 0.0
        if track.mode == "lamps":
            scale, lamp_bound = self._lamp_scale()
        speed_ms *= scale
        calibration_sigma = speed_ms * self.config.calibration.uncertainty_percent / 100
        uncertainty = 3.6 * (2 * math.sqrt(slope_variance * scale**2 + calibration_sigma**2) + speed_ms * lamp_bound)
        speed_kmh = speed_ms * 3.6
        if not detection.min_speed_kmh <= speed_kmh <= detection.max_speed_kmh:
            return self._refuse(track, "implausible_speed", f"{speed_kmh:.1f} km/h")
        speed = math.floor(speed_kmh * 10 + 1e-6) / 10
        uncertainty = math.ceil(uncertainty * 10 - 1e-6) / 10
        tolerance = math.ceil(self.config.tolerance_at(speed_kmh) * 10 - 1e-6) / 10
        enforceable = round(speed - uncertainty - tolerance, 1)
        directions = self.config.directions
        return Measurement(
            track_id=track.id,
            speed_kmh=speed,
            uncertainty_kmh=uncertainty,
            tolerance_kmh=tolerance,
            enforceable_kmh=enforceable,
            direction=directions.away if slope > 0 else directions.towards,
            first_frame=points[0].frame_index,
            last_frame=points[-1].frame_index,
            points=int(keep.sum()),
            method="lamps" if track.mode == "lamps" else "body",
            over_limit=enforceable > self.config.speed_limit_kmh,
            snapshot=track.best_frame,
            vehicle_box=track.best_box,
            plate_box=find_plate(track.best_frame, track.best_box) if track.best_frame is not None else None,
        )

    def _lamp_scale(self) -> tuple[float, float]:
        """(factor, relative bound): lamp-projection speed x factor is the vehicle's speed
        for a lamp at mid height; any lamp in the configured range is within the bound."""
        height = self.config.calibration.camera_height_m
        assert height is not None
        low, high = self.config.detection.lamp_height_m
        middle = (height - (low + high) / 2) / height
        lowest = (height - high) / height
        highest = (height - low) / height
        return middle, max(middle - lowest, highest - middle) / middle

    # --- drawing -----------------------------------------------------------------------
    def annotate(self, frame: Frame, recent: list[Outcome]) -> np.ndarray:
        """The frame at processing scale with the zone, each live track's trail, and the
        recent results written at the end of their vehicle's path."""
        assert self._scale is not None
        image = cv2.resize(frame.image, None, fx=self._scale, fy=self._scale, interpolation=cv2.INTER_AREA)
        polygon = np.round(np.array(self.config.calibration.image_points) * self._scale).astype(np.int32)
        cv2.polylines(image, [polygon], True, (0, 255, 255), 1, cv2.LINE_AA)
        for track in self._tracks:
            if len(track.trail) > 1:
                colour = (0, 255, 0) if track.hits >= CONFIRM_HITS else (160, 160, 160)
                cv2.polylines(image, [np.array(track.trail[-90:], np.int32)], False, colour, 1, cv2.LINE_AA)
                cv2.putText(
                    image, f"#{track.id}", track.trail[-1], cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1, cv2.LINE_AA
                )
        for outcome in recent:
            trail = self.trails.get(outcome.track_id) or [(10, 20)]
            at = trail[-1]
            if outcome.measured:
                assert isinstance(outcome, Measurement)
                text = f"#{outcome.track_id} {outcome.speed_kmh:.1f}+-{outcome.uncertainty_kmh:.1f} km/h"
                colour = (0, 0, 255) if outcome.over_limit else (255, 255, 255)
            else:
                text, colour = f"#{outcome.track_id} not measured: {outcome.reason}", (0, 165, 255)
            (width, height), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
            x = min(max(at[0], 0), image.shape[1] - width - 4)
            y = min(max(at[1] + 16, height + 4), image.shape[0] - 4)
            if len(trail) > 1:
                cv2.polylines(image, [np.array(trail, np.int32)], False, colour, 2, cv2.LINE_AA)
            cv2.rectangle(image, (x - 2, y - height - 4), (x + width + 2, y + 4), (0, 0, 0), -1)
            cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
        return image


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
