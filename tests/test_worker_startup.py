"""A worker that could not do its job refuses to start, with the reason."""

from __future__ import annotations

import os
import subprocess

import pytest

from harness.services import REPO_ROOT


@pytest.mark.parametrize(
    ("script", "settings", "message"),
    [
        ("start_ocr_worker.sh", {"OCR_MOCK": "false", "OCR_MODEL_DIRS": "/nonexistent"}, "the model files are missing"),
        ("start_ocr_worker.sh", {"OCR_MODEL_DIR": "/srv/model"}, "OCR_MODEL_DIR is now OCR_MODEL_DIRS"),
        (
            "start_ocr_worker.sh",
            {"OCR_MOCK": "false", "OCR_ENGINE": "stock", "OCR_STOCK_MODEL_DIR": "/nonexistent"},
            "manage.py fetch_ocr_models",
        ),
        ("start_alert_worker.sh", {"FCM_MOCK": "false"}, "FIREBASE_CREDENTIALS is not set"),
    ],
)
def test_unconfigured_worker_exits_with_the_reason(script: str, settings: dict, message: str) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backend.config.settings.test",
        "SPEEDCAM_SKIP_DOTENV": "true",
        "OCR_MOCK": "true",
        "FCM_MOCK": "true",
        "FIREBASE_CREDENTIALS": "",
        **settings,
    }
    result = subprocess.run([str(REPO_ROOT / "scripts" / script)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert message in result.stderr + result.stdout


def test_alert_worker_refuses_a_missing_service_account_file() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backend.config.settings.test",
        "SPEEDCAM_SKIP_DOTENV": "true",
        "FCM_MOCK": "false",
        "FIREBASE_CREDENTIALS": "/nonexistent/service-account.json",
    }
    result = subprocess.run(
        [str(REPO_ROOT / "scripts/start_alert_worker.sh")], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "/nonexistent/service-account.json is not a file" in result.stderr + result.stdout
