"""The roadside unit's command line: `python -m edge run|measure|spool|calibrate|synth|sample`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import random
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pythonjsonlogger.json import JsonFormatter

from edge.annotate import Annotator
from edge.calibration import calibration_report
from edge.camera_config import load_config
from edge.config import EdgeConfig
from edge.forwarder import Forwarder
from edge.measure import Blind, Outcome, SpeedMeter, Unmeasurable
from edge.runner import open_spool, run
from edge.sample import SAMPLE_PLATES, plate_label, render_snapshot
from edge.sources import Frame, SourceError, frames
from edge.synthetic import SCENARIOS, generate
from edge.uplink import Uplink

KST = timezone(timedelta(hours=9))


def _sample_snapshots(args: argparse.Namespace) -> list[tuple[str, bytes]]:
    """(plate, JPEG) pairs: the given snapshot files, or snapshots rendered here."""
    if args.image:
        images = [(path, path.read_bytes()) for path in args.image]
        return [(plate_label(data) or path.stem, data) for path, data in images]
    plates = args.plate or [random.choice(SAMPLE_PLATES) for _ in range(args.count)]
    return [(plate, render_snapshot(plate, seed=index)) for index, plate in enumerate(plates)]


def _sample(args: argparse.Namespace) -> int:
    snapshots = _sample_snapshots(args)
    with Uplink(dataclasses.replace(EdgeConfig.from_env(), camera_id=args.camera_id)) as uplink:
        for plate, snapshot in snapshots:
            speed = args.speed if args.speed is not None else round(args.limit * random.uniform(1.1, 1.9), 1)
            event = uplink.report_violation(
                snapshot,
                camera_id=args.camera_id,
                location=args.location,
                detected_speed=speed,
                speed_limit=args.limit,
                detected_at=datetime.now(KST),
            )
            print(
                json.dumps(
                    {
                        "event_id": str(event.event_id),
                        "plate": plate,
                        "speed": speed,
                        "image_gcs_uri": event.image_gcs_uri,
                    },
                    ensure_ascii=False,
                ),
                flush=True,
            )
    return 0


def _measure(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    meter = SpeedMeter(config)
    annotator = Annotator(meter, Path(args.annotate), config.capture.fps) if args.annotate else None
    started = time.monotonic()
    outcomes: list[Outcome] = []

    def report(found: list[Outcome], frame: Frame | None) -> None:
        for outcome in found:
            outcomes.append(outcome)
            print(json.dumps(outcome.as_dict(), ensure_ascii=False), flush=True)
        if annotator is not None and frame is not None:
            annotator.add(frame, found)

    frame = None
    for frame in frames(config.capture, source=args.source):
        report(meter.process(frame), frame)
        if frame.index and frame.index % args.progress_every == 0:
            print(
                f"frame {frame.index} ({frame.timestamp_s:.1f} s of video, {time.monotonic() - started:.1f} s), "
                f"{len(outcomes)} vehicles so far",
                file=sys.stderr,
                flush=True,
            )
    report(meter.flush(), frame)
    if annotator is not None:
        annotator.close()
    measured = sum(1 for outcome in outcomes if outcome.measured)
    refused = Counter(outcome.reason for outcome in outcomes if isinstance(outcome, Unmeasurable))
    blind = sum(1 for outcome in outcomes if isinstance(outcome, Blind))
    print(
        f"done: {measured} vehicles measured, {sum(refused.values())} not measurable"
        + (f" ({', '.join(f'{reason}: {n}' for reason, n in refused.items())})" if refused else "")
        + (f", {blind} period(s) too dark to measure" if blind else "")
        + f" in {time.monotonic() - started:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    return 0


def _run(args: argparse.Namespace) -> int:
    return run(load_config(args.config), source=args.source)


def _spool(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    spool = open_spool(config)
    try:
        for violation in spool.all():
            print(
                json.dumps(
                    {
                        "event_id": violation.event_id,
                        "state": violation.state,
                        "detected_speed": violation.event.get("detected_speed"),
                        "detected_at": violation.event.get("detected_at"),
                        "attempts": violation.attempts,
                        "last_error": violation.last_error,
                    },
                    ensure_ascii=False,
                )
            )
        print(json.dumps({"spool": spool.stats()}), flush=True)
        if not args.drain:
            return 0
        spool.retry_now()
        uplink = Uplink(EdgeConfig.from_camera(config))
        uplink.start()
        forwarder = Forwarder(spool, uplink)
        deadline = time.monotonic() + args.timeout
        try:
            while spool.stats()["items"] and time.monotonic() < deadline:
                if uplink.wait_connected(1.0):
                    spool.retry_now()
                    forwarder.drain_once()
                    print(json.dumps({"spool": spool.stats()}), file=sys.stderr, flush=True)
                    time.sleep(0.5)
        finally:
            uplink.close()
        left = spool.stats()["items"]
        print(json.dumps({"drained": left == 0, "spool": spool.stats()}), flush=True)
        return 0 if left == 0 else 1
    finally:
        spool.close()


def _calibrate(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    print(calibration_report(config))
    return 0


def _synth(args: argparse.Namespace) -> int:
    if args.list:
        for name, scenario in SCENARIOS.items():
            pose = "overhead" if scenario.camera_offset_m is None else "roadside"
            extras = (", shadows" if scenario.shadows else "") + (
                f", light x{scenario.light:g}" if scenario.light < 1 else ""
            )
            print(
                f"{name:15} {scenario.vehicles:2} vehicles, {scenario.lanes_each_way * 2} lanes, {scenario.fps:g} fps, "
                f"{pose}, kinds {'/'.join(scenario.kinds)}{extras}"
            )
        return 0
    if not args.out:
        print("error: --out is required", file=sys.stderr)
        return 2
    overrides = {key: getattr(args, key) for key in ("vehicles", "seed", "fps") if getattr(args, key) is not None}
    truth = generate(Path(args.out), args.scenario, **overrides)
    print(f"wrote {args.out}/road.mp4 ({truth['frames']} frames), truth.json, cam.yaml", file=sys.stderr)
    for vehicle in truth["vehicles"]:
        print(json.dumps(vehicle, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), handlers=[_log_handler()])
    parser = argparse.ArgumentParser(prog="python -m edge", description="SpeedCam roadside unit")
    commands = parser.add_subparsers(dest="command", required=True)

    run_parser = commands.add_parser("run", help="measure live, spool and deliver violations")
    run_parser.add_argument("--config", required=True, help="the camera's YAML file")
    run_parser.add_argument("--source", help="override capture.source (a file, a device, rtsp://...)")
    run_parser.set_defaults(handler=_run)

    measure = commands.add_parser("measure", help="print one JSON line per measured vehicle; publishes nothing")
    measure.add_argument("--config", required=True)
    measure.add_argument("--source", help="video file or camera (default: capture.source)")
    measure.add_argument("--progress-every", type=int, default=300, help="frames between progress lines (stderr)")
    measure.add_argument(
        "--annotate",
        metavar="DIR",
        help="write DIR/annotated.mp4 (tracks, zone, speeds drawn on) and DIR/vehicle-<track>.png per vehicle",
    )
    measure.set_defaults(handler=_measure)

    spool = commands.add_parser("spool", help="show the spooled violations; --drain delivers them now")
    spool.add_argument("--config", required=True)
    spool.add_argument("--drain", action="store_true")
    spool.add_argument("--timeout", type=float, default=120.0, help="seconds --drain may take")
    spool.set_defaults(handler=_spool)

    calibrate = commands.add_parser("calibrate", help="print the homography and the metres per pixel it implies")
    calibrate.add_argument("--config", required=True)
    calibrate.set_defaults(handler=_calibrate)

    synth = commands.add_parser("synth", help="render a synthetic road video with ground truth and a camera config")
    synth.add_argument("--out", help="output directory")
    synth.add_argument("--scenario", default="overhead", choices=sorted(SCENARIOS), help="the scene (see --list)")
    synth.add_argument("--list", action="store_true", help="list the scenes and exit")
    synth.add_argument("--vehicles", type=int, help="override the scene's number of vehicles")
    synth.add_argument("--seed", type=int, help="override the scene's random seed")
    synth.add_argument("--fps", type=float, help="override the scene's frame rate")
    synth.set_defaults(handler=_synth)

    sample = commands.add_parser("sample", help="upload synthetic snapshots and publish detections/new")
    sample.add_argument("--plate", action="append", help="plate to render (repeatable); random if omitted")
    sample.add_argument("--count", type=int, default=3, help="how many random plates when --plate is not given")
    sample.add_argument(
        "--image", action="append", type=Path, help="publish this snapshot file instead of rendering (repeatable)"
    )
    sample.add_argument("--speed", type=float, help="detected speed km/h (random over the limit if omitted)")
    sample.add_argument("--limit", type=float, default=60.0, help="speed limit km/h")
    sample.add_argument("--camera-id", default="cam-01")
    sample.add_argument("--location", default="서울 강남구 테헤란로 123")
    sample.set_defaults(handler=_sample)

    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except SourceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _log_handler() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    return handler


if __name__ == "__main__":
    sys.exit(main())
