"""The per-camera YAML file: one place for everything a roadside unit needs.

`edge/deploy/cam.example.yaml` shows every section with comments; the models below
hold each key's rules and default. A file that breaks a rule stops the unit at start
with a message naming the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Point = tuple[float, float]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Calibration(_Strict):
    image_points: tuple[Point, Point, Point, Point]
    width_m: float | None = Field(default=None, gt=0)
    length_m: float | None = Field(default=None, gt=0)
    world_points: tuple[Point, Point, Point, Point] | None = None
    # How well the patch was measured on the road, as a share of its length: it scales
    # every speed, so it is part of each measurement's uncertainty.
    uncertainty_percent: float = Field(default=0.5, ge=0, le=10)
    # The lens above the road surface. Needed only to measure by lamps at dusk: a lamp is
    # above the road, so its ground projection runs faster than the vehicle by H / (H - h).
    camera_height_m: float | None = Field(default=None, gt=1, le=30)

    @model_validator(mode="after")
    def _one_world_description(self) -> Calibration:
        has_size = self.width_m is not None and self.length_m is not None
        if has_size == (self.world_points is not None):
            raise ValueError("give either width_m and length_m, or world_points")
        return self

    def world(self) -> tuple[Point, Point, Point, Point]:
        if self.world_points is not None:
            return self.world_points
        assert self.width_m is not None and self.length_m is not None
        return ((0.0, 0.0), (self.width_m, 0.0), (self.width_m, self.length_m), (0.0, self.length_m))


class Zone(_Strict):
    start_m: float | None = None
    end_m: float | None = None


class Directions(_Strict):
    away: str = "away"
    towards: str = "towards"


class Capture(_Strict):
    source: str = "picamera2"
    fps: float = Field(default=30.0, gt=0, le=240)
    processing_width: int = Field(default=640, ge=160, le=3840)
    jpeg_quality: int = Field(default=90, ge=50, le=100)
    width: int | None = Field(default=None, ge=160)
    height: int | None = Field(default=None, ge=120)


class Detection(_Strict):
    min_area_px: int = Field(default=400, ge=10)
    min_track_points: int = Field(default=6, ge=3)
    min_speed_kmh: float = Field(default=5.0, ge=0)
    max_speed_kmh: float = Field(default=250.0, gt=0)
    # A track not seen for this long ends (the motion model carries it through occlusions).
    max_coast_s: float = Field(default=1.5, gt=0, le=5)
    warmup_frames: int = Field(default=30, ge=0)
    # Grey level (0-255) of the road in the calibrated patch: below `lamp_mode_below`
    # vehicles are measured by their lamps, below `min_light_level` not at all.
    lamp_mode_below: float = Field(default=45, ge=0, le=255)
    min_light_level: float = Field(default=12, ge=0, le=255)
    # Lamp heights above the road that lamp measurements must hold for (cars to trucks).
    lamp_height_m: tuple[float, float] = (0.5, 1.1)

    @model_validator(mode="after")
    def _ordered(self) -> Detection:
        if self.min_light_level > self.lamp_mode_below:
            raise ValueError("min_light_level must not exceed lamp_mode_below")
        if not 0 < self.lamp_height_m[0] <= self.lamp_height_m[1] < 3:
            raise ValueError("lamp_height_m must be [low, high] metres with 0 < low <= high < 3")
        return self


class Clock(_Strict):
    # Evidence carries the time of the offence: the unit stamps none until the system clock
    # is synchronised (systemd-timesyncd or chrony say so).
    require_sync: bool = True
    recheck_s: float = Field(default=30.0, gt=0)


class Backend(_Strict):
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = Field(default=1883, gt=0, lt=65536)
    mqtt_username: str = "speedcam"
    mqtt_password: str | None = None
    mqtt_password_env: str | None = "SPEEDCAM_MQTT_PASSWORD"
    client_id: str | None = None
    # MQTTS (the broker's 8883): the unit checks the broker's certificate and its name
    # against ca_file (the operator's CA; empty: the system's trust store).
    tls: bool = False
    ca_file: Path | None = None
    # Seconds between `cameras/<id>/status` heartbeats; the backend flags a silent camera.
    heartbeat_s: float = Field(default=60.0, ge=5, le=3600)
    bucket: str = "speedcam-images"
    storage_emulator_host: str | None = None
    publish_timeout_s: float = Field(default=15.0, gt=0)

    @model_validator(mode="after")
    def _ca_file_exists(self) -> Backend:
        if self.ca_file is not None and not self.ca_file.is_file():
            raise ValueError(f"backend.ca_file: {self.ca_file} is not a file")
        if self.ca_file is not None and not self.tls:
            raise ValueError("backend.ca_file is set but backend.tls is false: say tls: true to use it")
        return self

    def password(self) -> str:
        if self.mqtt_password_env and os.environ.get(self.mqtt_password_env):
            return os.environ[self.mqtt_password_env]
        if self.mqtt_password is not None:
            return self.mqtt_password
        raise ConfigError(f"no MQTT password: set {self.mqtt_password_env} or backend.mqtt_password")


class Spool(_Strict):
    path: Path = Path("/var/lib/speedcam-edge/spool")
    max_items: int = Field(default=5000, ge=1)
    max_bytes: int = Field(default=2_000_000_000, ge=1_000_000)
    when_full: Literal["drop_oldest", "refuse_new"] = "drop_oldest"
    retry_initial_s: float = Field(default=2.0, gt=0)
    retry_max_s: float = Field(default=300.0, gt=0)


class CameraConfig(_Strict):
    camera_id: str = Field(min_length=1, max_length=50)
    location: str = Field(min_length=1, max_length=255)
    speed_limit_kmh: float = Field(gt=0, le=300)
    # Deducted from every measured speed (after its uncertainty): the larger of the two.
    # Type-approved cameras hold +-3 km/h below 100 km/h and +-3 % above.
    tolerance_kmh: float = Field(default=3.0, ge=0, le=30)
    tolerance_percent: float = Field(default=3.0, ge=0, le=20)
    calibration: Calibration
    zone: Zone = Zone()
    directions: Directions = Directions()
    capture: Capture = Capture()
    detection: Detection = Detection()
    clock: Clock = Clock()
    backend: Backend = Backend()
    spool: Spool = Spool()

    @field_validator("camera_id")
    @classmethod
    def _path_safe(cls, value: str) -> str:
        if not all(ch.isalnum() or ch in "-_" for ch in value):
            raise ValueError("only letters, digits, '-' and '_' (it is part of object paths)")
        return value

    def tolerance_at(self, speed_kmh: float) -> float:
        """km/h deducted from a measured speed for the meter's type-approval tolerance."""
        return max(self.tolerance_kmh, speed_kmh * self.tolerance_percent / 100)


class ConfigError(SystemExit):
    """A configuration the unit cannot run with; the message says what to fix."""


def load_config(path: str | Path) -> CameraConfig:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error}") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping of settings")
    try:
        return CameraConfig.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ConfigError(f"{path}: {problems}") from error
