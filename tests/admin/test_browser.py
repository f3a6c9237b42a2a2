"""The console in a real browser: Debian's headless Chromium driven by Selenium.

Sign in, find the held item, re-route it, and see its timeline advance on the order page; a
screenshot of that page is kept in test-artifacts/order-page.png. Chromium and its driver come
from the distribution (``scripts/install-browser.sh``), never downloaded by the test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as shows
from selenium.webdriver.support.ui import Select, WebDriverWait
from werkzeug.serving import make_server

from tests.admin.conftest import TOKEN, Seeded

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1280,1800",
)

# how long a page may take to show what the test waits for (a first run in a fresh clone
# starts a cold browser and compiles templates: seconds, not milliseconds)
WAIT_SECONDS = 30

pytestmark = pytest.mark.browser


def wait(driver: Any) -> Any:
    return WebDriverWait(driver, WAIT_SECONDS)


@pytest.fixture
def live_console(app: Flask) -> Iterator[str]:
    """The app served on 127.0.0.1 (a free port) for the length of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Any]:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: run scripts/install-browser.sh "
            "(Debian's chromium and chromium-driver); the browser test is never skipped"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _timeline(driver: Any, line_item_id: int) -> list[str]:
    article = driver.find_element(By.ID, f"item-{line_item_id}")
    return [row.text for row in article.find_elements(By.CSS_SELECTOR, "table.timeline tr.event")]


def _click_and_wait_for(driver: Any, element: Any, locator: tuple[str, str]) -> Any:
    """Click a link or a submit button, wait until the page it opens shows ``locator``."""
    element.click()
    wait(driver).until(_gone(element))  # the old page is gone
    return wait(driver).until(shows.visibility_of_element_located(locator))


def _gone(element: Any) -> Any:
    """Like ``staleness_of``, but a node chromedriver already dropped from the document counts
    too: it answers "Node with given id does not belong to the document" (a WebDriverException,
    not StaleElementReferenceException) when the new page replaces it mid-check; the gate
    failed on it once under load."""

    def check(_driver: Any) -> bool:
        try:
            element.is_enabled()
        except WebDriverException:  # StaleElementReferenceException is one of them
            return True
        return False

    return check


def test_sign_in_find_a_held_item_reroute_it_and_see_the_timeline_advance(
    live_console: str, browser: Any, seeded: Seeded
) -> None:
    browser.get(f"{live_console}/admin/holds")
    assert "/admin/sign-in" in browser.current_url
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    hold = (By.ID, f"hold-{seeded.held_item}")
    row = _click_and_wait_for(browser, browser.find_element(By.ID, "sign-in"), hold)
    assert browser.current_url.endswith("/admin/holds")

    assert "no rule matched" in row.text
    link = row.find_element(By.CSS_SELECTOR, "a.order-link")
    _click_and_wait_for(browser, link, (By.ID, f"item-{seeded.held_item}"))
    before = _timeline(browser, seeded.held_item)
    assert len(before) == 2 and "on hold" in before[-1]

    row = _click_and_wait_for(browser, browser.find_element(By.LINK_TEXT, "Holds & failures"), hold)
    Select(row.find_element(By.NAME, "supplier")).select_by_value("printify")
    flash = _click_and_wait_for(
        browser,
        row.find_element(By.CSS_SELECTOR, "button.reroute-button"),
        (By.CSS_SELECTOR, ".flash"),
    )
    assert (flash.get_attribute("class"), flash.text) == (
        "flash ok",
        f"Item {seeded.held_item}: reroute done, now routed.",
    )
    assert not browser.find_elements(*hold)

    browser.get(f"{live_console}/admin/orders/{seeded.held_order}")
    article = wait(browser).until(
        shows.visibility_of_element_located((By.ID, f"item-{seeded.held_item}"))
    )
    assert article.get_attribute("data-stage") == "routed"
    assert article.find_element(By.CSS_SELECTOR, "dd.supplier").text == "printify"
    after = _timeline(browser, seeded.held_item)
    assert len(after) > len(before)
    assert after[0] == before[0]
    assert "on hold" in after[1] and "so far" not in after[1]  # the hold is over
    assert "routed" in after[-1] and "so far" in after[-1]
    assert any("operator re-route to printify" in line for line in after)

    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "order-page.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000
