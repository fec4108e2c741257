"""Ground-plane calibration: a homography from image pixels to metres on the road.

Four image points of a rectangle-like patch of road and its real size fix the
homography (as in OpenCV's getPerspectiveTransform). y in world coordinates runs
along the road, away from the camera; x across it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge.camera_config import Calibration, CameraConfig


@dataclass(frozen=True)
class GroundPlane:
    image_to_world: np.ndarray  # 3x3
    world_to_image: np.ndarray

    @classmethod
    def from_calibration(cls, calibration: Calibration, *, scale: float = 1.0) -> GroundPlane:
        """`scale`: processing pixels per calibration pixel (frames are scaled down)."""
        image = np.array(calibration.image_points, dtype=np.float64) * scale
        world = np.array(calibration.world(), dtype=np.float64)
        forward = cv2.getPerspectiveTransform(image.astype(np.float32), world.astype(np.float32))
        if not np.all(np.isfinite(forward)) or abs(np.linalg.det(forward)) < 1e-12:
            raise ValueError("the four image points are degenerate (three on a line?)")
        return cls(image_to_world=forward, world_to_image=np.linalg.inv(forward))

    def to_world(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) pixels -> (N, 2) metres."""
        return cv2.perspectiveTransform(np.asarray(points, dtype=np.float64).reshape(-1, 1, 2), self.image_to_world)[
            :, 0, :
        ]

    def to_image(self, points: np.ndarray) -> np.ndarray:
        return cv2.perspectiveTransform(np.asarray(points, dtype=np.float64).reshape(-1, 1, 2), self.world_to_image)[
            :, 0, :
        ]

    def metres_per_pixel(self, pixel: tuple[float, float]) -> tuple[float, float]:
        """Metres moved on the road per pixel moved right and per pixel moved down, here."""
        base, right, down = self.to_world(np.array([pixel, (pixel[0] + 1, pixel[1]), (pixel[0], pixel[1] + 1)]))
        return float(np.linalg.norm(right - base)), float(np.linalg.norm(down - base))


def calibration_report(config: CameraConfig) -> str:
    """What an installer checks: the homography, where the image points land, and the
    metres per pixel along the measurement zone."""
    plane = GroundPlane.from_calibration(config.calibration)
    image = np.array(config.calibration.image_points, dtype=np.float64)
    world = plane.to_world(image)
    lines = [f"camera {config.camera_id} ({config.location})", "homography, image pixels -> road metres:"]
    lines += ["  [" + "  ".join(f"{value: .6e}" for value in row) + "]" for row in plane.image_to_world]
    lines.append("calibration points (pixel -> metres, expected):")
    names = ("near-left", "near-right", "far-right", "far-left")
    for name, pixel, metres, expected in zip(names, image, world, config.calibration.world(), strict=True):
        lines.append(
            f"  {name:10} ({pixel[0]:7.1f}, {pixel[1]:7.1f}) -> ({metres[0]:7.2f}, {metres[1]:7.2f})"
            f"   expected ({expected[0]:.2f}, {expected[1]:.2f})"
        )
    start = config.zone.start_m if config.zone.start_m is not None else float(world[:, 1].min())
    end = config.zone.end_m if config.zone.end_m is not None else float(world[:, 1].max())
    centre_x = float(np.mean([p[0] for p in config.calibration.world()]))
    lines.append(f"measurement zone {start:.1f} .. {end:.1f} m along the road ({end - start:.1f} m):")
    for along in np.linspace(start, end, 4):
        pixel = plane.to_image(np.array([[centre_x, along]]))[0]
        across, down = plane.metres_per_pixel((float(pixel[0]), float(pixel[1])))
        lines.append(
            f"  at {along:5.1f} m: pixel ({pixel[0]:7.1f}, {pixel[1]:7.1f}), {across * 100:6.2f} cm/px across, "
            f"{down * 100:6.2f} cm/px along"
        )
    far_pixel = plane.to_image(np.array([[centre_x, end]]))[0]
    _, far_along = plane.metres_per_pixel((float(far_pixel[0]), float(far_pixel[1])))
    lines.append(
        f"one pixel of error at the far end is {far_along * 100:.1f} cm; over the zone that is "
        f"{far_along / (end - start) * 100:.2f} % of the measured distance"
    )
    return "\n".join(lines)
