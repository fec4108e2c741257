"""`python -m edge sample ...`: publish synthetic violations through the real uplink."""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import datetime, timedelta, timezone

from edge.config import EdgeConfig
from edge.sample import SAMPLE_PLATES, render_snapshot
from edge.uplink import Uplink

KST = timezone(timedelta(hours=9))


def _sample(args: argparse.Namespace) -> int:
    plates = args.plate or [random.choice(SAMPLE_PLATES) for _ in range(args.count)]
    with Uplink(EdgeConfig.from_env()) as uplink:
        for index, plate in enumerate(plates):
            speed = args.speed if args.speed is not None else round(args.limit * random.uniform(1.1, 1.9), 1)
            event = uplink.report_violation(
                render_snapshot(plate, seed=index),
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edge")
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser("sample", help="upload synthetic snapshots and publish detections/new")
    sample.add_argument("--plate", action="append", help="plate to render (repeatable); random if omitted")
    sample.add_argument("--count", type=int, default=3, help="how many random plates when --plate is not given")
    sample.add_argument("--speed", type=float, help="detected speed km/h (random over the limit if omitted)")
    sample.add_argument("--limit", type=float, default=60.0, help="speed limit km/h")
    sample.add_argument("--camera-id", default="cam-01")
    sample.add_argument("--location", default="서울 강남구 테헤란로 123")
    args = parser.parse_args(argv)
    return _sample(args)


if __name__ == "__main__":
    sys.exit(main())
