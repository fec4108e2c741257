"""`python -m edge run`: measure live, spool every violation, forward in the background."""

from __future__ import annotations

import hashlib
import json
import logging
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import datetime

import cv2

from backend.common import tracing
from edge.camera_config import CameraConfig
from edge.clock import ClockGuard
from edge.config import EdgeConfig
from edge.forwarder import Forwarder
from edge.measure import Blind, Measurement, Outcome, SpeedMeter, Unmeasurable
from edge.sources import frames, is_live
from edge.spool import Spool, SpoolFull
from edge.uplink import Uplink

logger = logging.getLogger(__name__)
FILE_DRAIN_TIMEOUT_S = 60.0


def open_spool(config: CameraConfig) -> Spool:
    settings = config.spool
    return Spool(
        settings.path,
        max_items=settings.max_items,
        max_bytes=settings.max_bytes,
        when_full=settings.when_full,
        retry_initial_s=settings.retry_initial_s,
        retry_max_s=settings.retry_max_s,
    )


def violation_record(config: CameraConfig, measurement: Measurement) -> tuple[dict, bytes, str]:
    """The detections/new fields (but the image's URI), the JPEG and its sha256."""
    assert measurement.snapshot is not None
    ok, encoded = cv2.imencode(".jpg", measurement.snapshot, [cv2.IMWRITE_JPEG_QUALITY, config.capture.jpeg_quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    image = encoded.tobytes()
    event = {
        "event_id": str(uuid.uuid4()),
        "camera_id": config.camera_id,
        "location": config.location,
        # What the camera stands behind: the measured speed less its uncertainty and the
        # tolerance. The measurement rides along.
        "detected_speed": measurement.enforceable_kmh,
        "speed_limit": config.speed_limit_kmh,
        "detected_at": datetime.now().astimezone().isoformat(timespec="milliseconds"),
        "measured_speed": measurement.speed_kmh,
        "speed_uncertainty": measurement.uncertainty_kmh,
        "speed_tolerance": measurement.tolerance_kmh,
    }
    if measurement.plate_box is not None:
        event["plate_bbox"] = [int(v) for v in measurement.plate_box]
    return event, image, hashlib.sha256(image).hexdigest()


def run(config: CameraConfig, *, source: str | None = None) -> int:
    # Each violation's trace starts here (OTEL_EXPORTER_OTLP_ENDPOINT; off otherwise).
    tracing.configure_tracing("speedcam-edge", instrument=("requests", "logging"))
    spool = open_spool(config)
    uplink = Uplink(EdgeConfig.from_camera(config))
    uplink.start()
    forwarder = Forwarder(spool, uplink)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    sender = threading.Thread(target=forwarder.run, args=(stopping,), name="forwarder", daemon=True)
    sender.start()
    counters: Counter[str] = Counter()
    meter = SpeedMeter(config, keep_snapshots=True)
    clock = ClockGuard(required=config.clock.require_sync, recheck_s=config.clock.recheck_s)
    heartbeat = threading.Thread(
        target=_heartbeat, args=(uplink, spool, counters, meter, stopping), name="heartbeat", daemon=True
    )
    heartbeat.start()
    state = clock.state()
    logger.info(
        "edge running",
        extra={"camera_id": config.camera_id, "spool": spool.stats(), "clock": state.detail},
    )
    if not state.synchronised:
        logger.warning("clock not synchronised: no violation will be stamped until it is (%s)", state.detail)
    try:
        for frame in frames(config.capture, source=source):
            for outcome in meter.process(frame):
                handle(config, outcome, spool, forwarder, counters, clock)
            if stopping.is_set():
                break
        for outcome in meter.flush():
            handle(config, outcome, spool, forwarder, counters, clock)
        if not is_live(source or config.capture.source):
            # A recording has ended: deliver what it produced before exiting.
            deadline = time.monotonic() + FILE_DRAIN_TIMEOUT_S
            while spool.stats()["items"] and time.monotonic() < deadline and not stopping.is_set():
                forwarder.wake.set()
                time.sleep(0.2)
    finally:
        stopping.set()
        forwarder.wake.set()
        sender.join(timeout=30)
        uplink.close()
        spool.close()
        tracing.flush()
    return 0


def handle(
    config: CameraConfig,
    outcome: Outcome,
    spool: Spool,
    forwarder: Forwarder,
    counters: Counter[str],
    clock: ClockGuard,
) -> None:
    """One vehicle (or a blind stretch): print it, and keep it for delivery if it is an
    enforceable violation the unit can date. The meter counts measured and unmeasurable."""
    print(json.dumps(outcome.as_dict(), ensure_ascii=False), flush=True)
    if isinstance(outcome, (Blind, Unmeasurable)) or not outcome.over_limit:
        return
    if outcome.snapshot is None:
        counters["violations_without_snapshot"] += 1
        return
    state = clock.state()
    if not state.synchronised:
        counters["violations_not_stamped_clock"] += 1
        logger.warning(
            "violation NOT stamped: the clock is not synchronised (%s)",
            state.detail,
            extra={"track_id": outcome.track_id, "speed_kmh": outcome.speed_kmh},
        )
        return
    counters["violations"] += 1
    with tracing.span(
        "edge measure", camera_id=config.camera_id, speed_kmh=outcome.speed_kmh, track_id=outcome.track_id
    ) as span:
        event, image, sha256 = violation_record(config, outcome)
        span.set_attribute("speedcam.event_id", event["event_id"])
        # The trace travels with the spooled violation, however late it is delivered.
        event["traceparent"] = tracing.current_traceparent()
    try:
        spool.add(event, image, sha256)
    except SpoolFull as error:
        counters["spool_full"] += 1
        print(f"violation {event['event_id']} NOT kept: {error}", file=sys.stderr, flush=True)
        return
    forwarder.wake.set()


def _heartbeat(
    uplink: Uplink, spool: Spool, counters: Counter[str], meter: SpeedMeter, stopping: threading.Event
) -> None:
    """`cameras/<id>/status` every heartbeat_s while the unit runs: the backend's liveness,
    and what the unit saw: measured, unmeasurable by reason, dark frames, not stamped."""
    while True:
        uplink.wait_connected(uplink.config.heartbeat_s)
        light = {"light_level": round(meter.light_level)} if meter.light_level is not None else {}
        # dict.copy is one C call: safe while the measuring thread counts on.
        seen = {**dict.copy(meter.counters), **dict.copy(counters), **light}
        uplink.publish_status({**seen, "spooled": spool.stats()["items"]})
        if stopping.wait(uplink.config.heartbeat_s):
            return
