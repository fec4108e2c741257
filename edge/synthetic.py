"""Synthetic road video with ground truth: a calibrated camera, vehicles of known
speed, direction and plate, sensor noise, shadows and changing light.

    python -m edge synth --out /tmp/road [--scenario roadside] [--vehicles 6] [--seed 7] [--fps 30]
    python -m edge synth --list

writes road.mp4, truth.json (each vehicle's speed, direction, lane, kind and frames) and
cam.yaml (a camera configuration whose calibration matches the rendered camera), so
`python -m edge measure --config /tmp/road/cam.yaml` can be checked against the truth.

World coordinates: x across the road (0 on the centre line, + to the right of traffic
moving away from the camera), y along it (+ away from the camera), z up, in metres.
Traffic keeps right: lanes at x > 0 carry traffic away from the camera, lanes at x < 0
traffic towards it. The camera stands on the right-hand verge (or above the centre line
in the `overhead` scene), pitched down, yawed towards the road and slightly rolled, as
a pole-mounted unit is.

The scenes (`SCENARIOS`) cover what a roadside unit meets: 2-4 lanes, cars, SUVs and
9 m trucks, sun shadows, shake, dusk with lamps on, night, vehicles crossing in the
image and a vehicle entering where another just left, at 24, 25, 30 and 60 fps.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import yaml
from scipy.optimize import linear_sum_assignment

WIDTH, HEIGHT = 1280, 720
LANE_WIDTH_M = 3.5
VISIBLE_FROM_M, VISIBLE_TO_M = 3.0, 95.0  # a vehicle's near edge exists on this stretch
PLATES = ["12가3456", "34나5678", "123다4567", "56라7890", "78마1234", "90바1357", "11사2468", "22아3579"]
SPEEDS_KMH = [48.0, 63.0, 77.0, 92.0, 108.0, 126.0, 55.0, 84.0, 99.0, 71.0]
# Body colours (BGR). Greys darker than the road are left out on purpose: a shadow
# detector cannot tell them from a shadow, on a real road either (see edge/measure.py).
COLOURS = [(40, 40, 200), (200, 60, 30), (30, 160, 40), (20, 200, 220), (180, 40, 160), (235, 235, 235), (20, 20, 20)]


@dataclass(frozen=True)
class Kind:
    length_m: float
    width_m: float
    height_m: float
    lamp_height_m: float


KINDS = {
    "car": Kind(4.5, 1.8, 1.45, 0.65),
    "suv": Kind(4.9, 1.95, 1.8, 0.8),
    "truck": Kind(9.0, 2.5, 3.3, 1.0),
}


@dataclass(frozen=True)
class Scenario:
    """One rendered scene. `light` scales the daylight scene (1: day, 0.3: dusk, 0.06: night)."""

    vehicles: int = 6
    seed: int = 7
    fps: float = 30.0
    lanes_each_way: int = 1
    camera_offset_m: float | None = None  # from the right-hand kerb; None: above the centre line
    camera_height_m: float = 7.0
    pitch_deg: float = 14.0
    yaw_deg: float = 0.0  # + turns the camera to the left, towards the road from the right verge
    roll_deg: float = 0.0
    focal_px: float = 1100.0
    zone_m: tuple[float, float] = (15.0, 45.0)  # the calibrated patch along the road
    kinds: tuple[str, ...] = ("car",)
    shadows: bool = False
    sun_shadow_deg: float = 200.0  # where shadows fall: 0 is +y (away), 90 is +x
    sun_elevation_deg: float = 35.0
    light: float = 1.0
    noise: float = 4.0
    shake_px: float = 0.0
    crossing: bool = False  # opposite directions meet inside the zone
    reentry: bool = False  # each away vehicle enters where a towards vehicle just left
    headway_s: float = 1.4  # at least this between two vehicles entering one lane
    speed_limit_kmh: float = 80.0


SCENARIOS: dict[str, Scenario] = {
    # The original scene: straight above the centre line, one lane each way, no shadows.
    "overhead": Scenario(vehicles=8, seed=7),
    "roadside": Scenario(
        vehicles=8,
        seed=21,
        lanes_each_way=2,
        camera_offset_m=4.0,
        camera_height_m=5.5,
        pitch_deg=12.0,
        yaw_deg=12.0,
        roll_deg=1.5,
        focal_px=1000.0,
        zone_m=(18.0, 48.0),
        kinds=("car", "suv"),
        shake_px=0.6,
    ),
    "trucks-shadows": Scenario(
        vehicles=8,
        seed=22,
        fps=25.0,
        lanes_each_way=2,
        camera_offset_m=5.0,
        camera_height_m=6.0,
        pitch_deg=13.0,
        yaw_deg=15.0,
        roll_deg=-1.0,
        focal_px=950.0,
        zone_m=(20.0, 50.0),
        kinds=("truck", "car", "suv"),
        shadows=True,
        sun_shadow_deg=235.0,
        sun_elevation_deg=28.0,
    ),
    "wide-angle": Scenario(
        vehicles=10,
        seed=23,
        lanes_each_way=2,
        camera_offset_m=3.0,
        camera_height_m=6.0,
        pitch_deg=15.0,
        yaw_deg=18.0,
        roll_deg=2.0,
        focal_px=800.0,
        zone_m=(20.0, 45.0),
        kinds=("car", "suv", "truck"),
        shadows=True,
        sun_shadow_deg=160.0,
        sun_elevation_deg=40.0,
        noise=5.0,
    ),
    "crossing": Scenario(
        vehicles=8,
        seed=24,
        lanes_each_way=1,
        camera_offset_m=4.5,
        camera_height_m=5.0,
        pitch_deg=11.0,
        yaw_deg=10.0,
        roll_deg=0.8,
        focal_px=1050.0,
        zone_m=(16.0, 44.0),
        kinds=("car", "suv"),
        shadows=True,
        crossing=True,
    ),
    "reentry": Scenario(vehicles=8, seed=25, fps=24.0, reentry=True, kinds=("car", "suv")),
    "dusk": Scenario(
        vehicles=7,
        seed=26,
        lanes_each_way=1,
        camera_offset_m=3.5,
        camera_height_m=5.0,
        pitch_deg=12.0,
        yaw_deg=8.0,
        roll_deg=0.5,
        focal_px=1050.0,
        zone_m=(16.0, 44.0),
        kinds=("car", "suv"),
        light=0.3,
        noise=5.0,
    ),
    "sixty-fps": Scenario(
        vehicles=6,
        seed=27,
        fps=60.0,
        lanes_each_way=2,
        camera_offset_m=6.0,
        camera_height_m=4.0,
        pitch_deg=10.0,
        yaw_deg=20.0,
        roll_deg=-2.0,
        focal_px=900.0,
        zone_m=(20.0, 45.0),
        kinds=("car", "truck"),
        shadows=True,
        sun_shadow_deg=270.0,
        sun_elevation_deg=25.0,
        shake_px=1.0,
    ),
    "night": Scenario(
        vehicles=3, seed=28, light=0.05, noise=3.0, camera_offset_m=4.0, yaw_deg=8.0, camera_height_m=5.5
    ),
}


class PinholeCamera:
    def __init__(self, scenario: Scenario | None = None) -> None:
        scenario = scenario or Scenario()
        self.focal = scenario.focal_px
        kerb = scenario.lanes_each_way * LANE_WIDTH_M
        x = 0.0 if scenario.camera_offset_m is None else kerb + scenario.camera_offset_m
        self.centre = np.array([x, 0.0, scenario.camera_height_m])
        pitch, yaw, roll = (math.radians(a) for a in (scenario.pitch_deg, scenario.yaw_deg, scenario.roll_deg))
        forward = np.array([-math.sin(yaw) * math.cos(pitch), math.cos(yaw) * math.cos(pitch), -math.sin(pitch)])
        right = np.array([math.cos(yaw), math.sin(yaw), 0.0])
        down = np.cross(forward, right)
        right, down = right * math.cos(roll) + down * math.sin(roll), down * math.cos(roll) - right * math.sin(roll)
        self.rotation = np.stack([right, down, forward])  # world -> camera

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 3) world metres -> (N, 2) pixels, and each point's depth."""
        camera = (np.asarray(points, dtype=np.float64) - self.centre) @ self.rotation.T
        depth = camera[:, 2]
        pixels = np.stack(
            [self.focal * camera[:, 0] / depth + WIDTH / 2, self.focal * camera[:, 1] / depth + HEIGHT / 2], axis=1
        )
        return pixels, depth

    def ground_at_pixels(self, us: np.ndarray, vs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World (x, y) where each pixel's ray meets the road, and whether it does (below the horizon)."""
        rays = np.stack([(us - WIDTH / 2) / self.focal, (vs - HEIGHT / 2) / self.focal, np.ones_like(us)], axis=-1)
        world_rays = rays @ self.rotation
        falling = world_rays[..., 2] < -1e-6
        scale = np.where(falling, -self.centre[2] / np.where(falling, world_rays[..., 2], -1), 0)
        return self.centre[0] + world_rays[..., 0] * scale, world_rays[..., 1] * scale, falling


@dataclass
class Vehicle:
    id: int
    plate: str
    speed_kmh: float
    direction: str  # "away" (+y) or "towards" (-y)
    lane_x_m: float
    start_s: float
    end_s: float
    colour: tuple[int, int, int]
    start_y_m: float
    kind: str = "car"
    lane: int = 0
    enter_frame: int = -1
    exit_frame: int = -1
    zone_enter_frame: int = -1
    zone_exit_frame: int = -1

    @property
    def shape(self) -> Kind:
        return KINDS[self.kind]

    def near_edge_y(self, t: float) -> float:
        sign = 1.0 if self.direction == "away" else -1.0
        return self.start_y_m + sign * self.speed_kmh / 3.6 * (t - self.start_s)

    def box(self, t: float) -> np.ndarray:
        """The 8 corners of the vehicle's box; the first four are the face nearest the camera."""
        shape = self.shape
        near = self.near_edge_y(t)
        far = near + shape.length_m
        x0, x1 = self.lane_x_m - shape.width_m / 2, self.lane_x_m + shape.width_m / 2
        h = shape.height_m
        return np.array(
            [
                *([x0, near, 0], [x1, near, 0], [x1, near, h], [x0, near, h]),
                *([x0, far, 0], [x1, far, 0], [x1, far, h], [x0, far, h]),
            ],
            dtype=np.float64,
        )


@dataclass
class _Lane:
    x_m: float
    direction: str
    index: int
    free_at: float = 0.0
    last_exit_s: float = 0.0


def _lanes(scenario: Scenario) -> list[_Lane]:
    lanes = []
    for k in range(scenario.lanes_each_way):
        offset = LANE_WIDTH_M / 2 + k * LANE_WIDTH_M
        lanes.append(_Lane(offset, "away", k))
        lanes.append(_Lane(-offset, "towards", k))
    return lanes


def _hides(new: Vehicle, others: list[Vehicle], zone_m: tuple[float, float]) -> bool:
    """Whether `new` would drive alongside a vehicle going its way inside the zone: from
    the verge the nearer one can hide the other for the whole zone, and no camera can
    report a vehicle it never saw. (Opposite directions may meet: that is the crossing.)"""
    for other in others:
        if other.direction != new.direction:
            continue
        gap = new.shape.length_m + other.shape.length_m + 4.0
        start, end = max(new.start_s, other.start_s), min(new.end_s, other.end_s)
        for t in np.arange(start, end, 0.05):
            a, b = new.near_edge_y(t), other.near_edge_y(t)
            in_zone = zone_m[0] - gap <= a <= zone_m[1] + gap or zone_m[0] - gap <= b <= zone_m[1] + gap
            if in_zone and abs(a - b) < gap:
                return True
    return False


def schedule(scenario: Scenario, rng: np.random.Generator) -> tuple[list[Vehicle], float]:
    """Who drives when. Within a lane a vehicle never catches up with the one ahead, and
    two vehicles going one way are never side by side in the zone; opposite directions
    meet anywhere."""
    vehicles: list[Vehicle] = []
    lanes = _lanes(scenario)
    towards_exits: list[float] = []
    clock = 1.5  # an empty road first: the background model learns it
    for index in range(scenario.vehicles):
        speed = SPEEDS_KMH[index % len(SPEEDS_KMH)] + float(rng.uniform(-2, 2))
        kind = scenario.kinds[index % len(scenario.kinds)]
        direction = "away" if index % 2 == 0 else "towards"
        choices = [lane for lane in lanes if lane.direction == direction]
        lane = choices[(index // 2) % len(choices)]
        start_y, end_y = (VISIBLE_FROM_M, VISIBLE_TO_M) if direction == "away" else (VISIBLE_TO_M, VISIBLE_FROM_M)
        travel_s = abs(end_y - start_y) / (speed / 3.6)
        start = max(lane.free_at, clock + float(rng.uniform(0.3, 1.2)))
        # Never catch up: leave the lane at least a headway after the one ahead.
        start = max(start, lane.last_exit_s + scenario.headway_s - travel_s)
        if scenario.reentry and direction == "away" and towards_exits:
            start = max(start, towards_exits.pop(0) + 0.15)  # in at the bottom just as one left there
        if scenario.crossing and direction == "towards" and vehicles:
            # Meet the last away vehicle in the middle of the zone.
            other = vehicles[-1]
            meet_y = sum(scenario.zone_m) / 2
            meet_t = other.start_s + (meet_y - other.start_y_m) / (other.speed_kmh / 3.6)
            start = max(start, meet_t - (VISIBLE_TO_M - meet_y) / (speed / 3.6))
        vehicle = Vehicle(
            id=index + 1,
            plate=PLATES[index % len(PLATES)],
            speed_kmh=round(speed, 2),
            direction=direction,
            lane_x_m=lane.x_m,
            start_s=start,
            end_s=start + travel_s,
            colour=COLOURS[int(rng.integers(len(COLOURS)))],
            start_y_m=start_y,
            kind=kind,
            lane=lane.index,
        )
        while _hides(vehicle, vehicles, scenario.zone_m):
            vehicle.start_s += 0.1
            vehicle.end_s += 0.1
        vehicles.append(vehicle)
        lane.free_at = vehicle.start_s + scenario.headway_s
        lane.last_exit_s = vehicle.end_s
        if direction == "towards":
            towards_exits.append(vehicle.end_s)
        if not scenario.crossing:
            clock = vehicle.start_s
    return vehicles, max(v.end_s for v in vehicles) + 0.5


def render_background(camera: PinholeCamera, rng: np.random.Generator, scenario: Scenario | None = None) -> np.ndarray:
    scenario = scenario or Scenario()
    half = scenario.lanes_each_way * LANE_WIDTH_M
    vs, us = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    x, y, ground = camera.ground_at_pixels(us, vs)
    image = np.zeros((HEIGHT, WIDTH, 3), np.float64)
    image[:] = np.clip(1 - vs / HEIGHT, 0, 1)[..., None] * np.array([90, 60, 20]) + np.array([150, 170, 180])
    road = ground & (np.abs(x) <= half + 0.3)
    image[ground & ~road] = np.array([60, 110, 70])
    image[road] = np.array([92, 92, 96])
    texture = rng.normal(0, 6, (HEIGHT, WIDTH))[..., None]
    image[ground] += texture[ground]
    centre = road & (np.abs(np.abs(x) - 0.12) < 0.07)  # the yellow double centre line
    image[centre] = np.array([40, 190, 220])
    lane_lines = np.zeros_like(road)
    for k in range(1, scenario.lanes_each_way):
        lane_lines |= np.abs(np.abs(x) - k * LANE_WIDTH_M) < 0.08
    dashes = road & lane_lines & ((y % 12.0) < 5.0)
    edges = road & (np.abs(np.abs(x) - half) < 0.1)
    image[dashes | edges] = np.array([220, 220, 220])
    return np.clip(image, 0, 255).astype(np.uint8)


FOURCC = "mp4v"
SUPERSAMPLE = 4  # each pixel is drawn as 4 x 4 and averaged: exact edge coverage, no AA fringe
SUBPIXEL_BITS = 4


class _Canvas:
    """A supersampled patch of the frame: polygons filled by pixel-centre inclusion at
    SUPERSAMPLE x resolution, then averaged back. OpenCV's own anti-aliasing widens a
    polygon by most of a pixel, which would move every vehicle's ground line."""

    def __init__(self, frame: np.ndarray, points: np.ndarray, margin: int = 3) -> None:
        x, y, w, h = cv2.boundingRect(np.round(points).astype(np.int32))
        height, width = frame.shape[:2]
        self.frame = frame
        self.x0, self.y0 = max(x - margin, 0), max(y - margin, 0)
        self.x1, self.y1 = min(x + w + margin, width), min(y + h + margin, height)
        self.empty = self.x1 <= self.x0 or self.y1 <= self.y0
        if not self.empty:
            region = frame[self.y0 : self.y1, self.x0 : self.x1]
            self.pixels = cv2.resize(region, None, fx=SUPERSAMPLE, fy=SUPERSAMPLE, interpolation=cv2.INTER_NEAREST)

    def _fixed(self, points: np.ndarray) -> np.ndarray:
        local = (np.asarray(points, np.float64) - [self.x0, self.y0] + 0.5) * SUPERSAMPLE - 0.5
        return np.round(local * (1 << SUBPIXEL_BITS)).astype(np.int32)

    def fill(self, polygon: np.ndarray, colour: tuple[int, ...]) -> None:
        hull = cv2.convexHull(self._fixed(polygon))
        cv2.fillConvexPoly(self.pixels, hull, colour, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)

    def disc(self, centre: np.ndarray, radius: float, colour: tuple[int, ...]) -> None:
        fixed = self._fixed(np.asarray(centre).reshape(1, 2))[0]
        scaled = round(radius * SUPERSAMPLE * (1 << SUBPIXEL_BITS))
        cv2.circle(self.pixels, (int(fixed[0]), int(fixed[1])), scaled, colour, -1, cv2.LINE_8, SUBPIXEL_BITS)

    def commit(self) -> None:
        size = (self.x1 - self.x0, self.y1 - self.y0)
        self.frame[self.y0 : self.y1, self.x0 : self.x1] = cv2.resize(self.pixels, size, interpolation=cv2.INTER_AREA)


def draw_shadow(frame: np.ndarray, camera: PinholeCamera, vehicle: Vehicle, t: float, scenario: Scenario) -> None:
    """The box's shadow on the road: its corners moved along the sun's rays to z = 0."""
    corners = vehicle.box(t)
    reach = 1.0 / math.tan(math.radians(scenario.sun_elevation_deg))
    heading = math.radians(scenario.sun_shadow_deg)
    ground = corners[:, :2] + corners[:, 2:3] * reach * np.array([math.sin(heading), math.cos(heading)])
    pixels, depth = camera.project(np.column_stack([ground, np.zeros(len(ground))]))
    if np.any(depth < 1.0):
        return
    mask = np.zeros(frame.shape[:2], np.uint8)
    canvas = _Canvas(mask, pixels)
    if canvas.empty:
        return
    canvas.fill(pixels, (255,))
    canvas.commit()
    region = (slice(canvas.y0, canvas.y1), slice(canvas.x0, canvas.x1))
    cover = mask[region][..., None].astype(np.float32) / 255
    frame[region] = (frame[region] * (1 - 0.42 * cover)).astype(np.uint8)


def draw_vehicle(frame: np.ndarray, camera: PinholeCamera, vehicle: Vehicle, t: float, *, light: float = 1.0) -> bool:
    if not vehicle.start_s <= t <= vehicle.end_s:
        return False
    corners = vehicle.box(t)
    pixels, depth = camera.project(corners)
    if np.any(depth < 1.0) or np.ptp(pixels[:, 0]) < 2:
        return False
    canvas = _Canvas(frame, pixels)
    if canvas.empty:
        return False
    body = tuple(int(c * light) for c in vehicle.colour)
    canvas.fill(pixels, body)
    canvas.fill(pixels[[2, 3, 7, 6]], tuple(int(c * 0.75) for c in body))  # roof
    canvas.fill(pixels[[0, 1, 2, 3]], tuple(min(255, int(c * 1.1)) for c in body))  # the face towards the camera
    shape, near, x = vehicle.shape, vehicle.near_edge_y(t), vehicle.lane_x_m
    # The plate: 0.52 x 0.11 m, 0.40 m above the road, in the middle of the near face.
    plate = np.array([[x - 0.26, near, 0.40], [x + 0.26, near, 0.40], [x + 0.26, near, 0.51], [x - 0.26, near, 0.51]])
    plate_px, _ = camera.project(plate)
    canvas.fill(plate_px, tuple(int(245 * max(light, 0.25)) for _ in range(3)))
    w = plate_px[1, 0] - plate_px[0, 0]
    if w > 24:  # near enough to see characters: dark glyph blocks
        top_y, bottom_y = plate_px[2, 1], plate_px[0, 1]
        inset = (bottom_y - top_y) / 5
        for k in range(7):
            gx = plate_px[0, 0] + w * (0.08 + k * 0.125)
            glyph = np.array(
                [
                    [gx, top_y + inset],
                    [gx + w * 0.08, top_y + inset],
                    [gx + w * 0.08, bottom_y - inset],
                    [gx, bottom_y - inset],
                ]
            )
            canvas.fill(glyph, (20, 20, 20))
    if light < 0.6:  # lamps on: headlights face the camera on oncoming traffic, tail lights on the rest
        lamp = (245, 250, 255) if vehicle.direction == "towards" else (60, 60, 255)
        for side in (-1, 1):
            lamp_point = np.array([[x + side * (shape.width_m / 2 - 0.3), near, shape.lamp_height_m]])
            centre, lamp_depth = camera.project(lamp_point)
            canvas.disc(centre[0], max(1.0, 0.12 * camera.focal / max(float(lamp_depth[0]), 1.0)), lamp)
    canvas.commit()
    return True


def zone_image_points(camera: PinholeCamera, scenario: Scenario | None = None) -> list[list[float]]:
    """near-left, near-right, far-right, far-left of the calibrated road patch, in pixels."""
    scenario = scenario or Scenario()
    half = scenario.lanes_each_way * LANE_WIDTH_M
    near, far = scenario.zone_m
    world = np.array([[-half, near, 0], [half, near, 0], [half, far, 0], [-half, far, 0]])
    pixels, _ = camera.project(world)
    return [[round(float(u), 2), round(float(v), 2)] for u, v in pixels]


@dataclass
class _Sensor:
    """Noise (a bank of frames, split in bright and dark halves: uint8 adds saturate) and shake."""

    noise: float
    shake_px: float
    rng: np.random.Generator
    bright: list[np.ndarray] = field(default_factory=list)
    dark: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        bank = [self.rng.normal(0, self.noise, (HEIGHT, WIDTH, 3)) for _ in range(8)]
        self.bright = [np.clip(n, 0, 255).astype(np.uint8) for n in bank]
        self.dark = [np.clip(-n, 0, 255).astype(np.uint8) for n in bank]

    def apply(self, frame: np.ndarray, index: int, t: float) -> np.ndarray:
        if self.shake_px:
            dx = self.shake_px * math.sin(2 * math.pi * 3.1 * t) + self.rng.normal(0, self.shake_px / 3)
            dy = self.shake_px * math.sin(2 * math.pi * 2.3 * t + 1) + self.rng.normal(0, self.shake_px / 3)
            frame = cv2.warpAffine(
                frame, np.float32([[1, 0, dx], [0, 1, dy]]), (WIDTH, HEIGHT), borderMode=cv2.BORDER_REPLICATE
            )
        frame = cv2.subtract(cv2.add(frame, self.bright[index % 8]), self.dark[(index * 3) % 8])
        return cv2.GaussianBlur(frame, (3, 3), 0)


def _zone_frames(vehicle: Vehicle, scenario: Scenario, fps: float) -> tuple[int, int]:
    """The frames in which the vehicle's near edge is inside the zone."""
    near, far = scenario.zone_m
    speed = vehicle.speed_kmh / 3.6
    if vehicle.direction == "away":
        t_in, t_out = (near - vehicle.start_y_m) / speed, (far - vehicle.start_y_m) / speed
    else:
        t_in, t_out = (vehicle.start_y_m - far) / speed, (vehicle.start_y_m - near) / speed
    return math.ceil((vehicle.start_s + t_in) * fps), math.floor((vehicle.start_s + t_out) * fps)


def generate(out_dir: Path, scenario: Scenario | str = "overhead", **overrides: object) -> dict:
    """Render the video, the truth and a matching camera configuration into `out_dir`.
    `overrides` replace fields of the scenario (vehicles=, seed=, fps=...)."""
    if isinstance(scenario, str):
        scenario = SCENARIOS[scenario]
    scenario = dataclasses.replace(scenario, **overrides)  # type: ignore[arg-type]
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(scenario.seed)
    camera = PinholeCamera(scenario)
    zone_pixels = np.array(zone_image_points(camera, scenario))
    if not ((zone_pixels >= 0).all() and (zone_pixels[:, 0] < WIDTH).all() and (zone_pixels[:, 1] < HEIGHT).all()):
        raise ValueError(f"the calibrated patch is not inside the picture: {zone_pixels.tolist()}")
    background = cv2.convertScaleAbs(render_background(camera, rng, scenario), alpha=scenario.light)
    if scenario.light < 0.6:  # street lamps on poles across the road: bright, but they never move
        kerb = scenario.lanes_each_way * LANE_WIDTH_M
        poles = np.array([[-kerb - 1.0, y, 6.0] for y in (22.0, 38.0, 60.0)])
        centres, depths = camera.project(poles)
        for centre, depth in zip(centres, depths, strict=True):
            radius = max(1.5, 0.25 * camera.focal / depth)
            canvas = _Canvas(background, centre.reshape(1, 2), margin=int(radius) + 2)
            if not canvas.empty:
                canvas.disc(centre, radius, (220, 245, 255))
                canvas.commit()
    cast, duration = schedule(scenario, rng)
    sensor = _Sensor(scenario.noise, scenario.shake_px, rng)
    fps = scenario.fps
    frames = int(duration * fps)
    video_path = out_dir / "road.mp4"
    writer = cv2.VideoWriter(str(video_path), cv2.VideoWriter_fourcc(*FOURCC), fps, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise RuntimeError("OpenCV cannot write mp4 here (no FFmpeg backend)")
    for index in range(frames):
        t = index / fps
        frame = background.copy()
        on_road = [v for v in cast if v.start_s <= t <= v.end_s]
        if scenario.shadows and scenario.light >= 0.6:
            for vehicle in on_road:
                draw_shadow(frame, camera, vehicle, t, scenario)
        # Far to near: the nearer vehicle hides what is behind it.
        for vehicle in sorted(on_road, key=lambda v: -float(camera.project(v.box(t)[:1])[1][0])):
            if draw_vehicle(frame, camera, vehicle, t, light=scenario.light):
                if vehicle.enter_frame < 0:
                    vehicle.enter_frame = index
                vehicle.exit_frame = index
        if scenario.light >= 0.6:  # daylight drifts slowly (clouds)
            frame = cv2.convertScaleAbs(frame, alpha=1.0 + 0.12 * math.sin(2 * math.pi * t / 9.0))
        writer.write(sensor.apply(frame, index, t))
    writer.release()
    for vehicle in cast:
        vehicle.zone_enter_frame, vehicle.zone_exit_frame = _zone_frames(vehicle, scenario, fps)
    truth = {
        "scenario": dataclasses.asdict(scenario),
        "fps": fps,
        "frames": frames,
        "vehicles": [
            {key: value for key, value in dataclasses.asdict(v).items() if key not in ("colour", "start_y_m")}
            for v in cast
        ],
    }
    (out_dir / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    half = scenario.lanes_each_way * LANE_WIDTH_M
    config = {
        "camera_id": "cam-synthetic",
        "location": "합성 도로 (synthetic road)",
        "speed_limit_kmh": scenario.speed_limit_kmh,
        "tolerance_kmh": 0,
        "tolerance_percent": 0,
        "calibration": {
            "image_points": zone_pixels.tolist(),
            "width_m": 2 * half,
            "length_m": scenario.zone_m[1] - scenario.zone_m[0],
            "camera_height_m": round(float(camera.centre[2]), 2),
        },
        "zone": {"start_m": 0.0, "end_m": scenario.zone_m[1] - scenario.zone_m[0]},
        "directions": {"away": "away", "towards": "towards"},
        "capture": {"source": str(video_path), "fps": fps, "processing_width": 640},
        "detection": {"min_area_px": 120},
        "clock": {"require_sync": False},
        "backend": {"mqtt_password": "speedcam-pass"},
        "spool": {"path": str(out_dir / "spool")},
    }
    (out_dir / "cam.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return truth


def compare(truth: dict, outcomes: list[dict]) -> dict:
    """Match `python -m edge measure` lines to the true vehicles: one outcome per vehicle
    at most, by direction and by overlap of the frames it was seen in the zone.

    A "cannot see" period (too dark) answers for every vehicle in the zone during it.
    Returns rows (one per vehicle: its outcome or None), the phantoms (outcomes that
    match no vehicle) and the doubles (a second outcome for an already matched vehicle)."""
    vehicles = truth["vehicles"]
    blind = [o for o in outcomes if o.get("blind")]
    outcomes = [o for o in outcomes if not o.get("blind")]
    overlap = np.zeros((len(vehicles), len(outcomes)))
    for i, vehicle in enumerate(vehicles):
        for j, outcome in enumerate(outcomes):
            if outcome.get("direction") not in (None, vehicle["direction"]):
                continue
            start = max(vehicle["zone_enter_frame"], outcome["first_frame"])
            end = min(vehicle["zone_exit_frame"], outcome["last_frame"])
            overlap[i, j] = max(0, end - start + 1)
    rows, cols = linear_sum_assignment(-overlap)
    outcome_of = {int(i): int(j) for i, j in zip(rows, cols, strict=True) if overlap[i, j] > 0}
    result_rows = []
    for i, vehicle in enumerate(vehicles):
        outcome = outcomes[outcome_of[i]] if i in outcome_of else None
        if outcome is None:  # in the zone while the unit said it could not see
            outcome = next(
                (
                    period
                    for period in blind
                    if period["first_frame"] <= vehicle["zone_exit_frame"]
                    and vehicle["zone_enter_frame"] <= period["last_frame"]
                ),
                None,
            )
        error = None
        if outcome is not None and outcome.get("measured"):
            error = (outcome["speed_kmh"] - vehicle["speed_kmh"]) / vehicle["speed_kmh"]
        result_rows.append({"vehicle": vehicle, "outcome": outcome, "error": error})
    unmatched = set(range(len(outcomes))) - set(outcome_of.values())
    doubles = [outcomes[j] for j in sorted(unmatched) if overlap[:, j].any()]
    phantoms = [outcomes[j] for j in sorted(unmatched) if not overlap[:, j].any()]
    return {"rows": result_rows, "phantoms": phantoms, "doubles": doubles}
