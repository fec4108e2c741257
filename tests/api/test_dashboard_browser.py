"""An operator's day in a real browser (Debian's chromium, selenium): log in, look at the
dashboard's charts, export the violations as CSV, and import a vehicles file with a bad row."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from backend.api.roles import Role, assign_role
from backend.vehicles.models import Vehicle
from tests.factories import CameraFactory, NotificationFactory
from tests.support.browser import chromium

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".state" / "test" / "screenshots"
PASSWORD = "an-operators-long-password"


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def browser(downloads: Path) -> Iterator[webdriver.Chrome]:
    driver = chromium(height=2300, downloads=downloads, console_log=True)
    yield driver
    driver.quit()


@pytest.fixture
def operator() -> str:
    user = get_user_model().objects.create_user("operator-park", password=PASSWORD, is_staff=True)
    assign_role(user, Role.OPERATOR)
    # The admin pages the operator uses in this test (the dashboard needs only the role).
    from django.contrib.auth.models import Permission

    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_vehicle", "add_vehicle", "change_vehicle", "view_detection"])
    )
    return "operator-park"


@pytest.fixture
def a_busy_day(make_detection) -> None:
    now = timezone.now()
    CameraFactory(
        camera_id="cam-01", mqtt_username="camera-cam-01", location="서울 강남구 테헤란로 123", speed_limit=60,
        latitude=37.5009, longitude=127.0363, last_seen_at=now,
    )  # fmt: skip
    CameraFactory(
        camera_id="cam-02", mqtt_username="camera-cam-02", location="서울 서초구 반포대로 45", speed_limit=80,
        latitude=37.4930, longitude=127.0140, last_seen_at=now - timedelta(hours=2),
    )  # fmt: skip
    for index in range(24):
        detection = make_detection(
            camera_id="cam-01" if index % 3 else "cam-02",
            detected_speed=62.0 + index * 2.5,
            detected_at=now - timedelta(hours=index * 2),
            needs_review=index % 7 == 0,
            status="failed" if index % 11 == 0 else "completed",
        )
        NotificationFactory(
            detection_id=detection.pk,
            status="sent" if index % 4 else "failed",
            sent_detection_id=detection.pk if index % 4 else None,
        )


def _log_in(browser: webdriver.Chrome, live_server, next_path: str) -> None:
    browser.get(f"{live_server.url}/admin/login/?next={next_path}")
    browser.find_element(By.NAME, "username").send_keys("operator-park")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()


def _wait_for_download(directory: Path, suffix: str) -> Path:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = [path for path in directory.iterdir() if path.suffix == suffix]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} download in {directory}: {list(directory.iterdir())}")


def test_the_dashboard_draws_every_chart(browser, live_server, operator: str, a_busy_day: None) -> None:
    wait = WebDriverWait(browser, 45)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _log_in(browser, live_server, "/dashboard/")
    wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "body[data-charts-drawn]")))
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-charts-drawn") == "7"
    canvases = browser.find_elements(By.TAG_NAME, "canvas")
    assert len(canvases) == 7 and all(canvas.size["height"] > 100 for canvas in canvases)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#camera-plot g.camera")) == 2
    assert browser.find_elements(By.CSS_SELECTOR, "#camera-plot g.camera.silent")  # cam-02, silent for 2 h
    assert "SpeedCam 대시보드" in browser.title
    # No script error; the admin login page before it asks for a favicon the site has not.
    errors = [
        entry
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]
    ]
    assert errors == []
    browser.save_screenshot(str(SCREENSHOTS / "dashboard.png"))


def test_an_operator_exports_csv_and_imports_vehicles(
    browser, live_server, operator: str, a_busy_day: None, downloads: Path
) -> None:
    wait = WebDriverWait(browser, 45)
    _log_in(browser, live_server, "/dashboard/")
    wait.until(expected_conditions.presence_of_element_located((By.ID, "chart-day")))
    # The API export, on the operator's session (the same filters as the list).
    browser.get(f"{live_server.url}/api/v1/violations/?format=csv&camera_id=cam-02")
    exported = _wait_for_download(downloads, ".csv")
    rows = list(csv.DictReader(io.StringIO(exported.read_text("utf-8-sig"))))
    assert len(rows) == 8 and {row["camera_id"] for row in rows} == {"cam-02"}

    vehicles = downloads / "vehicles.csv"
    vehicles.write_text("plate_number,owner_name,owner_phone\n12가3456,홍길동,010-1234-5678\n???,김영희,\n")
    browser.get(f"{live_server.url}/admin/vehicles/vehicle/import/")
    browser.find_element(By.NAME, "import_file").send_keys(str(vehicles))
    Select(browser.find_element(By.NAME, "format")).select_by_visible_text("csv")
    upload_button = browser.find_element(By.CSS_SELECTOR, "input[type=submit]")
    upload_button.click()
    # Until the upload form is gone, whatever we find may belong to it rather than to the preview.
    wait.until(expected_conditions.staleness_of(upload_button))
    rejected = wait.until(
        expected_conditions.presence_of_element_located((By.XPATH, "//*[@id='rejected-rows']/following::table"))
    )
    assert "한국 번호판이 아닙니다" in rejected.text
    browser.save_screenshot(str(SCREENSHOTS / "vehicle-import-errors.png"))
    assert not Vehicle.objects.exists()  # only previewed
    confirm_form = browser.find_element(By.CSS_SELECTOR, "form input[name=import_file_name]").find_element(
        By.XPATH, "ancestor::form"
    )
    confirm_form.submit()  # confirm: the good row goes in
    wait.until(expected_conditions.staleness_of(confirm_form))
    warning = wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".messagelist .warning")))
    assert "2" in warning.text  # the line left out
    assert list(Vehicle.objects.values_list("plate_number", flat=True)) == ["12가3456"]
