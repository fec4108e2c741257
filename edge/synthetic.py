"""Synthetic road video with ground truth: a calibrated camera, vehicles of known
speed, direction and plate, sensor noise and changing light.

    python -m edge synth --out /tmp/road [--vehicles 6] [--seed 7] [--fps 30]

writes road.mp4, truth.json (each vehicle's speed, direction, plate and frames) and
cam.yaml (a camera configuration whose calibration matches the rendered camera), so
`python -m edge measure --source /tmp/road/road.mp4 --config /tmp/road/cam.yaml` can be
checked against the truth.

The camera is a pinhole 7 m above the road centre line, pitched 14 degrees down,
looking along the road (+y). Lane centres are at x = -1.8 m (traffic towards the
camera) and x = +1.8 m (traffic away from it).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml

WIDTH, HEIGHT = 1280, 720
FOCAL_PX = 1100.0
CAMERA_HEIGHT_M = 7.0
PITCH_DEG = 14.0
LANE_HALF_WIDTH_M = 3.6
ZONE_NEAR_M, ZONE_FAR_M = 15.0, 45.0
VISIBLE_FROM_M, VISIBLE_TO_M = 4.0, 80.0  # a vehicle exists on this stretch (near edge)
VEHICLE_LENGTH_M, VEHICLE_WIDTH_M, VEHICLE_HEIGHT_M = 4.5, 1.8, 1.5
COLOURS = [(40, 40, 200), (200, 60, 30), (30, 160, 40), (20, 200, 220), (180, 40, 160), (235, 235, 235), (20, 20, 20)]
SPEEDS_KMH = [48.0, 63.0, 77.0, 92.0, 108.0, 126.0, 55.0, 84.0, 99.0, 71.0]
PLATES = ["12가3456", "34나5678", "123다4567", "56라7890", "78마1234", "90바1357", "11사2468", "22아3579"]


class PinholeCamera:
    def __init__(self) -> None:
        pitch = math.radians(PITCH_DEG)
        self.centre = np.array([0.0, 0.0, CAMERA_HEIGHT_M])
        right = np.array([1.0, 0.0, 0.0])
        forward = np.array([0.0, math.cos(pitch), -math.sin(pitch)])
        down = np.cross(forward, right)
        self.rotation = np.stack([right, down, forward])  # world -> camera

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 3) world metres -> (N, 2) pixels, and each point's depth."""
        camera = (np.asarray(points, dtype=np.float64) - self.centre) @ self.rotation.T
        depth = camera[:, 2]
        pixels = np.stack(
            [FOCAL_PX * camera[:, 0] / depth + WIDTH / 2, FOCAL_PX * camera[:, 1] / depth + HEIGHT / 2], axis=1
        )
        return pixels, depth

    def ground_at_pixels(self, us: np.ndarray, vs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World (x, y) where each pixel's ray meets the road, and whether it does (below the horizon)."""
        rays = np.stack([(us - WIDTH / 2) / FOCAL_PX, (vs - HEIGHT / 2) / FOCAL_PX, np.ones_like(us)], axis=-1)
        world_rays = rays @ self.rotation
        falling = world_rays[..., 2] < -1e-6
        scale = np.where(falling, -self.centre[2] / np.where(falling, world_rays[..., 2], -1), 0)
        return world_rays[..., 0] * scale, world_rays[..., 1] * scale, falling


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
    enter_frame: int = -1
    exit_frame: int = -1

    def near_edge_y(self, t: float) -> float:
        sign = 1.0 if self.direction == "away" else -1.0
        return self.start_y_m + sign * self.speed_kmh / 3.6 * (t - self.start_s)

    def box(self, t: float) -> np.ndarray:
        """The 8 corners of the vehicle's box; the first four are the face nearest the camera."""
        near = self.near_edge_y(t)
        far = near + VEHICLE_LENGTH_M
        x0, x1 = self.lane_x_m - VEHICLE_WIDTH_M / 2, self.lane_x_m + VEHICLE_WIDTH_M / 2
        h = VEHICLE_HEIGHT_M
        return np.array(
            [
                [x0, near, 0],
                [x1, near, 0],
                [x1, near, h],
                [x0, near, h],
                [x0, far, 0],
                [x1, far, 0],
                [x1, far, h],
                [x0, far, h],
            ]
        )


def schedule(count: int, rng: np.random.Generator) -> tuple[list[Vehicle], float]:
    """Two lanes at once, alternating; in each lane one vehicle at a time (no occlusion)."""
    vehicles: list[Vehicle] = []
    lane_free_at = {"away": 1.5, "towards": 2.5}  # an empty road first: the background model learns it
    for index in range(count):
        speed = SPEEDS_KMH[index % len(SPEEDS_KMH)] + float(rng.uniform(-2, 2))
        direction = "away" if index % 2 == 0 else "towards"
        start_y, end_y = (VISIBLE_FROM_M, VISIBLE_TO_M) if direction == "away" else (VISIBLE_TO_M, VISIBLE_FROM_M)
        start = lane_free_at[direction]
        travel_s = abs(end_y - start_y) / (speed / 3.6)
        vehicles.append(
            Vehicle(
                id=index + 1,
                plate=PLATES[index % len(PLATES)],
                speed_kmh=round(speed, 2),
                direction=direction,
                lane_x_m=1.8 if direction == "away" else -1.8,
                start_s=start,
                end_s=start + travel_s,
                colour=COLOURS[index % len(COLOURS)],
                start_y_m=start_y,
            )
        )
        lane_free_at[direction] = start + travel_s + 0.3
    return vehicles, max(v.end_s for v in vehicles) + 0.5


def render_background(camera: PinholeCamera, rng: np.random.Generator) -> np.ndarray:
    vs, us = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    x, y, ground = camera.ground_at_pixels(us, vs)
    image = np.zeros((HEIGHT, WIDTH, 3), np.float64)
    sky = np.clip(1 - vs / HEIGHT, 0, 1)[..., None] * np.array([90, 60, 20]) + np.array([150, 170, 180])
    image[:] = sky
    road = ground & (np.abs(x) <= LANE_HALF_WIDTH_M + 0.3)
    verge = ground & ~road
    image[verge] = np.array([60, 110, 70])
    image[road] = np.array([92, 92, 96])
    texture = rng.normal(0, 6, (HEIGHT, WIDTH))[..., None]
    image[ground] += texture[ground]
    centre_dash = road & (np.abs(x) < 0.08) & ((y % 8.0) < 4.0)
    edges = road & (np.abs(np.abs(x) - LANE_HALF_WIDTH_M) < 0.1)
    image[centre_dash | edges] = np.array([220, 220, 220])
    return np.clip(image, 0, 255).astype(np.uint8)


def draw_vehicle(frame: np.ndarray, camera: PinholeCamera, vehicle: Vehicle, t: float) -> bool:
    if not vehicle.start_s <= t <= vehicle.end_s:
        return False
    corners = vehicle.box(t)
    pixels, depth = camera.project(corners)
    if np.any(depth < 1.0):
        return False
    hull = cv2.convexHull(np.round(pixels).astype(np.int32))
    if cv2.boundingRect(hull)[2] < 2:
        return False
    cv2.fillConvexPoly(frame, hull, vehicle.colour, lineType=cv2.LINE_AA)
    top = np.round(pixels[[2, 3, 7, 6]]).astype(np.int32)
    cv2.fillConvexPoly(frame, top, tuple(int(c * 0.75) for c in vehicle.colour), lineType=cv2.LINE_AA)
    # The plate on the face towards the camera: 0.52 x 0.11 m, 0.45 m above the road.
    near = vehicle.near_edge_y(t)
    x = vehicle.lane_x_m
    plate = np.array([[x - 0.26, near, 0.40], [x + 0.26, near, 0.40], [x + 0.26, near, 0.51], [x - 0.26, near, 0.51]])
    plate_px, _ = camera.project(plate)
    plate_px = np.round(plate_px).astype(np.int32)
    cv2.fillConvexPoly(frame, plate_px, (245, 245, 245), lineType=cv2.LINE_AA)
    w = plate_px[1, 0] - plate_px[0, 0]
    if w > 24:  # near enough to see characters: dark glyph blocks
        top_y, bottom_y = plate_px[2, 1], plate_px[0, 1]
        for k in range(7):
            gx = plate_px[0, 0] + int(w * (0.08 + k * 0.125))
            cv2.rectangle(
                frame,
                (gx, top_y + max(1, (bottom_y - top_y) // 5)),
                (gx + max(1, int(w * 0.08)), bottom_y - max(1, (bottom_y - top_y) // 5)),
                (20, 20, 20),
                -1,
            )
    return True


def zone_image_points(camera: PinholeCamera) -> list[list[float]]:
    """near-left, near-right, far-right, far-left of the calibrated road patch, in pixels."""
    world = np.array(
        [
            [-LANE_HALF_WIDTH_M, ZONE_NEAR_M, 0],
            [LANE_HALF_WIDTH_M, ZONE_NEAR_M, 0],
            [LANE_HALF_WIDTH_M, ZONE_FAR_M, 0],
            [-LANE_HALF_WIDTH_M, ZONE_FAR_M, 0],
        ]
    )
    pixels, _ = camera.project(world)
    return [[round(float(u), 2), round(float(v), 2)] for u, v in pixels]


def generate(out_dir: Path, *, vehicles: int = 6, seed: int = 7, fps: float = 30.0, noise: float = 4.0) -> dict:
    """Render the video, the truth and a matching camera configuration into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    camera = PinholeCamera()
    background = render_background(camera, rng)
    cast, duration = schedule(vehicles, rng)
    # Sensor noise: a bank of frames cycled, split in its bright and dark halves (uint8 adds saturate).
    bank = [rng.normal(0, noise, (HEIGHT, WIDTH, 3)) for _ in range(8)]
    bright = [np.clip(n, 0, 255).astype(np.uint8) for n in bank]
    dark = [np.clip(-n, 0, 255).astype(np.uint8) for n in bank]
    frames = int(duration * fps)
    video_path = out_dir / "road.mp4"
    writer = cv2.VideoWriter(str(video_path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise RuntimeError("OpenCV cannot write mp4 here (no FFmpeg backend)")
    for index in range(frames):
        t = index / fps
        frame = background.copy()
        for vehicle in cast:
            if draw_vehicle(frame, camera, vehicle, t):
                if vehicle.enter_frame < 0:
                    vehicle.enter_frame = index
                vehicle.exit_frame = index
        # Light drifts slowly (clouds) and the sensor adds noise.
        gain = 1.0 + 0.12 * math.sin(2 * math.pi * t / 9.0)
        frame = cv2.convertScaleAbs(frame, alpha=gain)
        frame = cv2.subtract(cv2.add(frame, bright[index % 8]), dark[(index * 3) % 8])
        frame = cv2.GaussianBlur(frame, (3, 3), 0)
        writer.write(frame)
    writer.release()
    truth = {
        "fps": fps,
        "frames": frames,
        "vehicles": [
            {key: value for key, value in asdict(v).items() if key not in ("colour", "start_y_m", "start_s", "end_s")}
            for v in cast
        ],
    }
    (out_dir / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    config = {
        "camera_id": "cam-synthetic",
        "location": "합성 도로 (synthetic road)",
        "speed_limit_kmh": 80,
        "tolerance_kmh": 0,
        "calibration": {
            "image_points": zone_image_points(camera),
            "width_m": 2 * LANE_HALF_WIDTH_M,
            "length_m": ZONE_FAR_M - ZONE_NEAR_M,
        },
        "zone": {"start_m": 0.0, "end_m": ZONE_FAR_M - ZONE_NEAR_M},
        "directions": {"away": "away", "towards": "towards"},
        "capture": {"source": str(video_path), "fps": fps, "processing_width": 640},
        "detection": {"min_area_px": 120},
        "backend": {"mqtt_password": "speedcam-pass"},
        "spool": {"path": str(out_dir / "spool")},
    }
    (out_dir / "cam.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return truth
