"""The camera YAML: valid files load, bad ones stop with a message that says what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edge.camera_config import ConfigError, load_config

pytestmark = pytest.mark.standalone  # no service, database or role process: see scripts/test.sh

VALID = {
    "camera_id": "cam-01",
    "location": "서울 강남구 테헤란로 123",
    "speed_limit_kmh": 60,
    "tolerance_kmh": 5,
    "calibration": {"image_points": [[412, 650], [868, 650], [733, 300], [547, 300]], "width_m": 7, "length_m": 30},
}


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "cam.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True) if not isinstance(data, str) else data, "utf-8")
    return path


def test_a_minimal_file_loads_with_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, VALID))
    assert config.tolerance_at(60) == 5 and config.tolerance_at(200) == 6  # 5 km/h, or 3 % above 166 km/h
    assert config.clock.require_sync and config.calibration.camera_height_m is None
    assert config.calibration.world() == ((0, 0), (7, 0), (7, 30), (0, 30))
    assert config.spool.when_full == "drop_oldest" and config.capture.source == "picamera2"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"speed_limit_kmh": 0}, "speed_limit_kmh"),
        ({"camera_id": "cam/01"}, "camera_id"),
        ({"calibration": {"image_points": [[0, 0], [1, 0], [1, 1]], "width_m": 7, "length_m": 30}}, "image_points"),
        (
            {
                "calibration": {
                    "image_points": [[0, 0], [1, 0], [1, 1], [0, 1]],
                    "width_m": 7,
                    "length_m": 30,
                    "world_points": [[0, 0], [7, 0], [7, 30], [0, 30]],
                }
            },
            "either width_m and length_m, or world_points",
        ),
        ({"spool": {"when_full": "panic"}}, "when_full"),
        ({"detection": {"min_light_level": 50, "lamp_mode_below": 40}}, "min_light_level"),
        ({"detection": {"lamp_height_m": [1.2, 0.5]}}, "lamp_height_m"),
        ({"tolerance_percent": -1}, "tolerance_percent"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_invalid_settings_name_the_problem(tmp_path: Path, change: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, {**VALID, **change}))


def test_not_yaml_and_missing_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "camera_id: [unclosed"))
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_the_mqtt_password_comes_from_the_environment_first(tmp_path: Path, monkeypatch) -> None:
    config = load_config(write(tmp_path, {**VALID, "backend": {"mqtt_password": "in-file"}}))
    monkeypatch.delenv("SPEEDCAM_MQTT_PASSWORD", raising=False)
    assert config.backend.password() == "in-file"
    monkeypatch.setenv("SPEEDCAM_MQTT_PASSWORD", "from-env")
    assert config.backend.password() == "from-env"


def test_the_shipped_example_is_valid() -> None:
    config = load_config(Path(__file__).resolve().parents[2] / "edge/deploy/cam.example.yaml")
    assert config.camera_id == "cam-01" and config.zone.start_m == 2.0


def test_mqtts_needs_a_ca_file_that_exists_and_tls_said_out_loud(tmp_path: Path) -> None:
    from edge.config import EdgeConfig

    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    config = load_config(
        write(
            tmp_path, {**VALID, "backend": {"tls": True, "mqtt_port": 8883, "ca_file": str(ca), "mqtt_password": "p"}}
        )
    )
    edge = EdgeConfig.from_camera(config)
    assert edge.mqtt_tls and edge.mqtt_ca_file == str(ca) and edge.mqtt_port == 8883
    with pytest.raises(ConfigError, match="is not a file"):
        load_config(write(tmp_path, {**VALID, "backend": {"tls": True, "ca_file": str(tmp_path / "missing.crt")}}))
    with pytest.raises(ConfigError, match="tls: true"):
        load_config(write(tmp_path, {**VALID, "backend": {"ca_file": str(ca)}}))
