"""The SDK's own ceiling, for scripts/bench/alert: bare firebase-admin `messaging.send` calls
from N greenlets against the same endpoint, with the same request and the same HTTP pool as
the alert worker, and nothing else (no broker, no database, no claim).

    python scripts/bench/fcm_sdk_ceiling.py --count 2000 --concurrency 100

Run by alert_bench.py with the bench services' environment. Once sent, it waits to be
stopped, so that its CPU time can still be read.
"""

from gevent import monkey

monkey.patch_all()

import argparse
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import gevent.pool

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    args = parser.parse_args()
    os.environ["SPEEDCAM_ROLE"] = "alert"
    os.environ["ALERT_CONCURRENCY"] = str(args.concurrency)  # the worker's HTTP pool size
    import django

    django.setup()
    from firebase_admin import messaging

    from backend.alert.messages import violation_message
    from backend.alert.senders import FirebasePushSender, fcm_message
    from backend.detections.models import Detection

    sender = FirebasePushSender()
    # The same text the worker sends, from a detection that is never saved.
    detection = Detection(
        pk=1, detected_speed=90.0, speed_limit=60.0, location="벤치마크 도로", detected_at=datetime.now(UTC)
    )

    def send(_: int) -> None:
        push = violation_message(detection, plate="12가3456", token=f"ceiling-{uuid.uuid4().hex}")
        messaging.send(fcm_message(push), app=sender.app)

    pool = gevent.pool.Pool(args.concurrency)
    for index in range(args.count):
        pool.spawn(send, index)
    pool.join(raise_error=True)
    sender.close()
    gevent.sleep(3600)


if __name__ == "__main__":
    main()
