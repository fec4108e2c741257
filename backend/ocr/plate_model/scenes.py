"""Full synthetic road snapshots (1280x720 and up) with a plate of known text, for
evaluating localisation plus recognition, for the OCR benchmark and for the demo."""

from __future__ import annotations

import cv2
import numpy as np


def road_scene(
    plate: np.ndarray, rng: np.random.Generator, *, width: int = 1280, height: int = 720
) -> tuple[bytes, tuple[int, int, int, int]]:
    """A JPEG of a car's rear on a road carrying `plate` (a rendered plate, grey or BGR),
    and the plate's box."""
    scene = np.zeros((height, width, 3), np.uint8)
    horizon = int(height * rng.uniform(0.15, 0.3))
    scene[:horizon] = (int(rng.integers(150, 220)), int(rng.integers(150, 200)), int(rng.integers(120, 170)))
    road = int(rng.integers(70, 110))
    scene[horizon:] = (road, road, road + 4)
    scene = cv2.add(scene, rng.normal(0, 6, scene.shape).clip(0, 255).astype(np.uint8))
    for lane_x in (0.2, 0.5, 0.8):  # lane markings converging to the horizon
        cv2.line(scene, (int(width * lane_x), height), (width // 2, horizon), (225, 225, 225), 6)
    # The car: a rounded body, a rear window, lights, and the plate low in the middle.
    car_w = int(width * rng.uniform(0.32, 0.5))
    car_h = int(car_w * rng.uniform(0.6, 0.8))
    cx = int(width * rng.uniform(0.35, 0.65))
    bottom = int(height * rng.uniform(0.82, 0.97))
    x0, y0 = cx - car_w // 2, bottom - car_h
    colour = tuple(int(c) for c in rng.integers(20, 230, 3))
    cv2.rectangle(scene, (x0, y0 + car_h // 3), (x0 + car_w, bottom), colour, -1)
    cv2.rectangle(scene, (x0 + car_w // 8, y0), (x0 + car_w * 7 // 8, y0 + car_h // 3), colour, -1)
    cv2.rectangle(scene, (x0 + car_w // 6, y0 + car_h // 20), (x0 + car_w * 5 // 6, y0 + car_h // 3), (60, 50, 40), -1)
    for lx in (x0 + car_w // 20, x0 + car_w * 17 // 20):
        cv2.rectangle(scene, (lx, y0 + car_h // 2), (lx + car_w // 8, y0 + car_h * 3 // 5), (30, 30, 200), -1)
    if plate.ndim == 2:
        plate = cv2.cvtColor(plate, cv2.COLOR_GRAY2BGR)
    # A 520 mm plate on a 1.8 m wide car; a two-line plate is 336 mm wide.
    plate_w = int(car_w * rng.uniform(0.26, 0.34) * (0.65 if plate.shape[1] / plate.shape[0] < 3 else 1.0))
    plate_h = max(12, int(plate_w * plate.shape[0] / plate.shape[1]))
    px, py = cx - plate_w // 2, y0 + int(car_h * rng.uniform(0.62, 0.72))
    src = np.float32([[0, 0], [plate.shape[1], 0], [plate.shape[1], plate.shape[0]], [0, plate.shape[0]]])
    skew = rng.uniform(-0.04, 0.04, (4, 2)) * np.float32([plate_w, plate_h])
    dst = (np.float32([[px, py], [px + plate_w, py], [px + plate_w, py + plate_h], [px, py + plate_h]]) + skew).astype(
        np.float32
    )
    warp = cv2.getPerspectiveTransform(src, dst)
    layer = cv2.warpPerspective(plate, warp, (width, height))
    mask = cv2.warpPerspective(np.full(plate.shape[:2], 255, np.uint8), warp, (width, height))
    scene[mask > 127] = layer[mask > 127]
    # The camera: light, blur, noise, compression.
    scene = cv2.convertScaleAbs(scene, alpha=float(rng.uniform(0.75, 1.2)), beta=float(rng.uniform(-20, 20)))
    scene = cv2.GaussianBlur(scene, (0, 0), float(rng.uniform(0.4, 1.0)))
    ok, encoded = cv2.imencode(".jpg", scene, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 95))])
    assert ok
    xs, ys = dst[:, 0], dst[:, 1]
    box = (int(xs.min()), int(ys.min()), int(np.ceil(xs.max() - xs.min())), int(np.ceil(ys.max() - ys.min())))
    return encoded.tobytes(), box
