"""The review queue as an operator uses it, in a real browser (Debian's chromium, selenium):
see the snapshot with the plate outlined, type the plate, and the owner is notified once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from backend.detections.models import Detection
from harness.processes import Pipeline
from tests.factories import VehicleFactory
from tests.support.browser import chromium
from tests.support.events import encode, publish_detections, uploaded_event
from tests.support.pipeline import pushes_to, wait_detection, wait_notification

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".state" / "test" / "screenshots"


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    driver = chromium()
    yield driver
    driver.quit()


def test_an_operator_corrects_a_plate_in_the_review_queue(pipeline: Pipeline, live_server, browser) -> None:
    get_user_model().objects.create_superuser("reviewer-kim", password="a-long-review-password")
    owner = VehicleFactory(plate_number="12가3456", owner_name="갑", fcm_token=f"fcm-{uuid.uuid4().hex}")
    VehicleFactory(plate_number="12가3458", owner_name="을", fcm_token=f"fcm-{uuid.uuid4().hex}")
    event = uploaded_event(pipeline.services, "12가3457")
    publish_detections(pipeline.services, [encode(event)])
    detection = wait_detection(event["event_id"])
    assert detection.needs_review
    Detection.objects.filter(pk=detection.pk).update(ocr_bbox=[256, 245, 128, 28])  # where the engine read
    wait = WebDriverWait(browser, 45)  # generous: CI's two cores also run every role
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    browser.get(f"{live_server.url}/admin/login/?next=/admin/detections/reviewitem/")
    browser.find_element(By.NAME, "username").send_keys("reviewer-kim")
    browser.find_element(By.NAME, "password").send_keys("a-long-review-password")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    row = wait.until(expected_conditions.presence_of_element_located((By.ID, "result_list")))
    assert "ambiguous match: 12가3456, 12가3458" in row.text
    browser.find_element(By.CSS_SELECTOR, f'#result_list a[href*="/reviewitem/{detection.pk}/change/"]').click()

    image = wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".plate-evidence img")))
    wait.until(lambda driver: driver.execute_script("return arguments[0].naturalWidth", image) > 0)
    outline = browser.find_element(By.CSS_SELECTOR, ".plate-evidence .plate-box")
    wait.until(lambda driver: outline.is_displayed())
    assert outline.size["width"] > 0 and outline.size["height"] > 0
    plate = browser.find_element(By.NAME, "plate")
    assert plate.get_attribute("value") == "12가3457"  # the engine's read, offered for acceptance
    browser.save_screenshot(str(SCREENSHOTS / "review-change.png"))

    plate.clear()
    plate.send_keys("12가3456")
    browser.find_element(By.NAME, "_correct").click()
    message = wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".messagelist")))
    assert "번호판 12가3456을(를) 기록했습니다. 소유자에게 알림을 보내는 중입니다." in message.text
    browser.save_screenshot(str(SCREENSHOTS / "review-queue-after.png"))
    assert not browser.find_elements(By.CSS_SELECTOR, f'a[href*="/reviewitem/{detection.pk}/change/"]')

    assert wait_notification(detection.pk, timeout=60).fcm_token == owner.fcm_token
    assert len(pushes_to(pipeline, owner.fcm_token)) == 1
    stored = Detection.objects.get(pk=detection.pk)
    assert (stored.ocr_result, stored.reviewed_plate, stored.reviewed_by) == ("12가3457", "12가3456", "reviewer-kim")

    # The evidence is read-only in the detections admin too.
    browser.get(f"{live_server.url}/admin/detections/detection/{detection.pk}/change/")
    assert not browser.find_elements(By.NAME, "ocr_result") and not browser.find_elements(By.NAME, "detected_speed")


def test_a_typo_is_refused_with_a_clear_error(pipeline: Pipeline, live_server, browser) -> None:
    get_user_model().objects.create_superuser("reviewer-lee", password="a-long-review-password")
    event = uploaded_event(pipeline.services, None)  # nothing readable: review
    publish_detections(pipeline.services, [encode(event)])
    detection = wait_detection(event["event_id"])
    browser.get(f"{live_server.url}/admin/login/?next=/admin/detections/reviewitem/{detection.pk}/change/")
    browser.find_element(By.NAME, "username").send_keys("reviewer-lee")
    browser.find_element(By.NAME, "password").send_keys("a-long-review-password")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    assert browser.find_element(By.NAME, "_accept").get_attribute("disabled")  # no read to accept
    browser.find_element(By.NAME, "plate").send_keys("12가345")
    browser.find_element(By.NAME, "_correct").click()
    errors = WebDriverWait(browser, 45).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".errorlist"))
    )
    assert "한국 번호판이 아닙니다" in errors.text
    assert Detection.objects.get(pk=detection.pk).needs_review
