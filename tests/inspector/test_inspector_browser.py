"""The inspector page in a real browser: headless Chromium driven by Playwright.

Needs Debian's ``chromium`` (``/usr/bin/chromium``, or ``KIKET_TEST_CHROMIUM``) and the
``playwright`` Python package installed without its own browsers
(``PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 pip install playwright``); skipped when either is missing.
The browser only ever reaches the loopback server of the test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kiket_sdk._inspector.api import PREFIX

from .conftest import Served

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = os.environ.get("KIKET_TEST_CHROMIUM") or shutil.which("chromium") or ""
# Chromium's own calls home are refused on a closed network, many at a time: turn them off.
QUIET_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM, reason="no chromium (apt-get install chromium)"),
]


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=QUIET_FLAGS)
        try:
            context = browser.new_context()
            yield context.new_page()
            context.close()
        finally:
            browser.close()


def test_send_from_the_form_see_its_outbound_calls_resend_and_see_the_duplicate(
    served: Served, page: Page, tmp_path: Path
):
    page.set_default_timeout(15_000)
    page.goto(served.url + PREFIX + "/")
    page.wait_for_selector("body[data-ready=true]")

    page.select_option("#send-event", label="issue.created@v1")
    assert '"issue"' in page.input_value("#send-payload")  # pre-filled from the spec's example
    page.click("#send-button")
    first = page.wait_for_selector("#deliveries tr[data-status='200'][data-ledger='first_run']")
    assert first is not None
    first.click()
    outbound = page.wait_for_selector("#detail-timeline li.outbound")
    assert outbound is not None
    assert "/api/v1/extensions/com.example.inspected/events" in outbound.inner_text()
    assert "issue.seen" in outbound.inner_text()  # the request body the handler sent

    page.click("#resend-same")
    duplicate = page.wait_for_selector("#deliveries tr[data-ledger='duplicate']")
    assert duplicate is not None
    assert duplicate.get_attribute("data-status") == "200"
    assert page.locator("#deliveries tr").count() == 2
    page.screenshot(path=str(tmp_path / "inspector.png"), full_page=True)  # to look at


def test_an_invalid_payload_shows_the_model_errors_and_sends_nothing(served: Served, page: Page):
    page.set_default_timeout(15_000)
    page.goto(served.url + PREFIX + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.select_option("#send-event", label="issue.created@v1")
    page.fill("#send-payload", '{"issue": 3}')
    page.click("#send-button")
    result = page.wait_for_selector("#send-result.bad")
    assert result is not None
    assert "not a valid" in result.inner_text()
    assert page.locator("#deliveries tr").count() == 0
