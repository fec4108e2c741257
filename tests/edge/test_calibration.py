"""The ground-plane homography and the installer's report."""

from __future__ import annotations

import numpy as np
import pytest

from edge.calibration import GroundPlane, calibration_report
from edge.camera_config import Calibration, CameraConfig
from edge.synthetic import PinholeCamera, zone_image_points

pytestmark = pytest.mark.standalone  # no service, database or role process: see scripts/test.sh

CALIBRATION = Calibration(image_points=zone_image_points(PinholeCamera()), width_m=7.2, length_m=30.0)


def test_the_four_points_map_to_the_rectangle_and_back() -> None:
    plane = GroundPlane.from_calibration(CALIBRATION)
    world = plane.to_world(np.array(CALIBRATION.image_points))
    assert np.allclose(world, CALIBRATION.world(), atol=1e-3)
    assert np.allclose(plane.to_image(world), CALIBRATION.image_points, atol=1e-3)


def test_a_point_between_them_lands_where_the_camera_model_puts_it() -> None:
    camera = PinholeCamera()
    # 10 m into the patch (25 m from the camera), on the centre line (3.6 m from its left edge).
    pixel, _ = camera.project(np.array([[0.0, 25.0, 0.0]]))
    assert np.allclose(GroundPlane.from_calibration(CALIBRATION).to_world(pixel), [[3.6, 10.0]], atol=0.01)


def test_a_far_pixel_covers_more_road_than_a_near_one() -> None:
    plane = GroundPlane.from_calibration(CALIBRATION)
    near = plane.metres_per_pixel((640, 570))
    far = plane.metres_per_pixel((640, 265))
    assert far[1] > 5 * near[1]


def test_three_points_on_a_line_are_refused() -> None:
    with pytest.raises(ValueError, match="degenerate"):
        GroundPlane.from_calibration(
            Calibration(image_points=[[0, 0], [10, 10], [20, 20], [0, 30]], width_m=1, length_m=1)
        )


def test_the_report_shows_the_matrix_the_points_and_the_scale() -> None:
    config = CameraConfig(camera_id="cam-01", location="x", speed_limit_kmh=60, calibration=CALIBRATION)
    report = calibration_report(config)
    assert "homography" in report and "far-left" in report and "cm/px along" in report
    assert "expected (7.20, 30.00)" in report
