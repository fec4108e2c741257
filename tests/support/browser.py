"""Debian's chromium through selenium, headless, for the browser tests."""

from __future__ import annotations

from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def chromium(*, height: int = 1000, downloads: Path | None = None, console_log: bool = False) -> webdriver.Chrome:
    """A headless browser 1400 px wide that asks for Korean pages, as operators' browsers do;
    downloads land in `downloads`; `console_log` keeps the page's console messages for
    `get_log("browser")`."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size=1400,{height}"):
        options.add_argument(argument)
    options.add_argument("--lang=ko-KR")
    prefs: dict[str, str] = {"intl.accept_languages": "ko-KR,ko"}
    if downloads is not None:
        prefs["download.default_directory"] = str(downloads)
    options.add_experimental_option("prefs", prefs)
    if console_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(5)
    return driver
