"""The inspector page in a real browser: headless Chromium driven by Playwright.

Needs Debian's ``chromium`` (``/usr/bin/chromium``, or ``KIKET_TEST_CHROMIUM``) and the
``playwright`` Python package installed without its own browsers
(``PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 pip install playwright``); skipped when either is missing.
The browser only ever reaches the loopback server of the test.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
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

REQUIRED = os.environ.get("KIKET_TEST_BROWSER_REQUIRED") == "1"
"""Set by ``.ci/run``: there a missing chromium or Playwright fails these tests (not a skip)."""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM and not REQUIRED, reason="no chromium (apt-get install chromium)"
    ),
]


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    if REQUIRED:
        assert CHROMIUM, "KIKET_TEST_BROWSER_REQUIRED=1 but no chromium on the PATH"
        import playwright.sync_api as sync_api
    else:
        sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=QUIET_FLAGS)
        try:
            context = browser.new_context()
            yield context.new_page()
            context.close()
        finally:
            browser.close()


def _open(served: Served, page: Page) -> None:
    page.set_default_timeout(15_000)
    page.goto(served.url + PREFIX + "/")
    page.wait_for_selector("body[data-ready=true]")


def test_send_from_the_form_see_its_outbound_calls_resend_and_see_the_duplicate(
    served: Served, page: Page, tmp_path: Path
):
    _open(served, page)
    page.select_option("#send-event", label="★ issue.created@v1")
    assert '"issue"' in page.input_value("#send-payload")  # pre-filled from the spec's example
    page.wait_for_selector("#send-button[data-state=valid]")
    page.click("#send-button")
    first = page.wait_for_selector("#deliveries tr[data-status='200'][data-ledger='first_run']")
    assert first is not None
    first.click()
    outbound = page.wait_for_selector("#detail-timeline li.outbound")
    assert outbound is not None
    assert "/api/v1/extensions/com.example.inspected/events" in outbound.inner_text()
    assert "issue.seen" in outbound.inner_text()  # the request body the handler sent
    assert "by the handler" in outbound.inner_text()

    page.click("#resend-same")
    duplicate = page.wait_for_selector("#deliveries tr[data-ledger='duplicate']")
    assert duplicate is not None
    assert duplicate.get_attribute("data-status") == "200"
    assert page.locator("#deliveries tr").count() == 2
    page.wait_for_function(
        "document.querySelector('#detail-answer-headers').textContent.includes('x-kiket-duplicate')"
    )
    page.screenshot(path=str(tmp_path / "inspector.png"), full_page=True)  # to look at


def test_the_payload_is_checked_as_it_is_typed_before_anything_is_sent(served: Served, page: Page):
    _open(served, page)
    page.select_option("#send-event", label="★ issue.created@v1")
    page.fill("#send-payload", '{\n  "issue": 3,\n}')
    syntax = page.wait_for_selector("#send-errors li")
    assert syntax is not None
    assert "JSON syntax" in syntax.inner_text()
    assert "line 3" in syntax.inner_text()  # where the trailing comma breaks it
    assert page.get_attribute("#send-button", "data-state") == "invalid"

    page.fill("#send-payload", '{"issue": 3}')
    page.wait_for_function(
        "[...document.querySelectorAll('#send-errors li')]"
        ".some((li) => li.textContent.startsWith('issue: '))"
    )
    assert page.get_attribute("#send-button", "data-state") == "invalid"
    assert page.locator("#deliveries tr").count() == 0  # nothing was sent

    page.click("#send-button")  # the server checks again and refuses
    result = page.wait_for_selector("#send-result.bad")
    assert result is not None
    assert "not a valid" in result.inner_text()
    assert page.locator("#deliveries tr").count() == 0


def test_a_record_seeded_and_edited_on_the_page_is_what_the_handler_sees(
    served: Served, page: Page
):
    _open(served, page)
    closed = [{"id": 1, "open": False}]
    gates = {"module": "crm", "table": "gates", "project_id": 42, "rows": closed}
    page.fill("#fake-seed", json.dumps({"records": [gates]}))
    page.click("#fake-seed-button")
    row = "#fake-records tr[data-record='42/crm/gates/1']"
    page.wait_for_selector(row)

    page.select_option("#send-event", label="★ acme.gate@v1 (not in the spec)")
    assert page.input_value("#send-payload").strip() == "{}"
    page.fill("#send-payload", '{"id": "evt_gate_1"}')  # two sends, two deliveries (ledger)
    page.click("#send-button")
    page.wait_for_function(
        "document.querySelector('#send-result').textContent.includes('gate closed')"
    )

    page.click(row + " button.edit")
    page.fill("#fake-records textarea.record-json", '{"open": true}')
    page.click("#fake-records button.save")
    page.wait_for_function(f"document.querySelector(\"{row}\")?.textContent.includes('true')")
    assert served.fake.records("crm", "gates", project_id=42) == [{"open": True, "id": 1}]

    page.fill("#send-payload", '{"id": "evt_gate_2"}')
    page.click("#send-button")
    page.wait_for_function(
        "document.querySelector('#send-result').textContent.includes('gate open')"
    )


def test_dark_mode_follows_the_system_and_the_header_toggle(served: Served, page: Page):
    _open(served, page)
    background = "getComputedStyle(document.body).backgroundColor"
    light = page.evaluate(background)
    page.emulate_media(color_scheme="dark")
    dark = page.evaluate(background)
    assert dark != light

    page.select_option("#theme", "light")  # the toggle wins over the system
    assert page.evaluate(background) == light
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.input_value("#theme") == "light"  # saved in localStorage
    assert page.evaluate(background) == light
    page.select_option("#theme", "auto")
    assert page.evaluate(background) == dark


def test_a_delivery_body_with_markup_is_shown_as_text(served: Served, page: Page):
    _open(served, page)
    markup = '<img src=x onerror="window.injected=1">'
    served.send("acme.gate", payload={"note": markup})
    row = page.wait_for_selector("#deliveries tr[data-status]")
    assert row is not None
    row.click()
    page.wait_for_function("document.querySelector('#detail-body').textContent.includes('<img')")
    assert page.locator("#detail img, #deliveries img").count() == 0
    assert page.evaluate("window.injected") is None


def test_a_request_answered_before_the_pipeline_appears_in_the_list(served: Served, page: Page):
    _open(served, page)
    assert httpx.get(served.url + "/v/v1/webhooks/issue.created").status_code == 405
    row = page.wait_for_selector("#deliveries tr[data-answered-by=routing][data-status='405']")
    assert row is not None
    assert "GET /v/v1/webhooks/issue.created" in row.inner_text()
    row.click()
    assert page.is_disabled("#resend-same")


def _errors_of(page: Page) -> list[str]:
    """The page's uncaught errors, collected from now on."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.mark.parametrize(
    ("status", "body"), [(500, "Internal Server Error"), (200, "NaN"), (502, "<html>bad</html>")]
)
def test_the_page_survives_an_answer_of_its_api_that_is_not_json(
    served: Served, page: Page, status: int, body: str
):
    errors = _errors_of(page)
    _open(served, page)
    page.route(
        "**/api/fake",
        lambda route: route.fulfill(status=status, body=body, content_type="text/plain"),
    )
    page.route(
        "**/api/send",
        lambda route: route.fulfill(status=status, body=body, content_type="text/plain"),
    )
    page.click("#fake-refresh")
    shown = page.wait_for_selector("#fake-state-error.bad")
    assert shown is not None
    assert str(status) in shown.inner_text()
    assert body[:5] in shown.inner_text()
    page.click("#send-button")
    result = page.wait_for_selector("#send-result.bad")
    assert result is not None
    assert str(status) in result.inner_text()
    assert errors == []


def test_send_twice_makes_two_deliveries_and_says_the_ledger_outcome(served: Served, page: Page):
    _open(served, page)
    page.select_option("#send-event", label="★ acme.gate@v1 (not in the spec)")
    page.fill("#send-payload", '{"id": "evt_once", "note": "x"}')
    page.wait_for_selector("#send-button[data-state=valid]")
    page.click("#send-button")
    page.wait_for_function(
        "document.querySelector('#send-result').textContent.includes('ledger: first_run')"
    )
    assert "evt_once" in page.inner_text("#detail-title")  # the new delivery is selected
    fresh = json.loads(page.input_value("#send-payload"))
    assert fresh["id"].startswith("evt_")
    assert fresh["id"] != "evt_once"
    assert fresh["note"] == "x"
    assert "Resend same bytes" in page.inner_text("#send-result")
    page.wait_for_selector("#send-button[data-state=valid]")
    page.click("#send-button")
    page.wait_for_function(
        f"document.querySelector('#detail-title').textContent.includes('{fresh['id']}')"
    )
    assert "ledger: first_run" in page.inner_text("#send-result")
    assert page.locator("#deliveries tr[data-ledger='first_run']").count() == 2


def test_errors_are_shown_next_to_the_record_control_that_caused_them(served: Served, page: Page):
    _open(served, page)
    served.fake.seed_records("crm", "gates", [{"id": 1, "open": False}], project_id=42)
    page.click("#fake-refresh")
    row = "#fake-records tr[data-record='42/crm/gates/1']"
    page.click(row + " button.edit")
    page.fill("#fake-records textarea.record-json", "{oops")
    page.click("#fake-records button.save")
    error = page.wait_for_selector("#fake-records .inline-error")
    assert error is not None
    assert "not JSON" in error.inner_text()
    assert error.is_visible()
    page.fill("#fake-records textarea.record-json", "[1]")  # JSON, but the API refuses it
    page.click("#fake-records button.save")
    page.wait_for_function(
        "document.querySelector('#fake-records .inline-error').textContent.includes('error 400')"
    )
    assert page.inner_text("#fake-result") == ""  # nothing far below


def test_the_json_syntax_error_names_its_position_once(served: Served, page: Page):
    _open(served, page)
    page.fill("#send-payload", '{\n  "a": 1\n\n')
    syntax = page.wait_for_selector("#send-errors li")
    assert syntax is not None
    assert syntax.inner_text().lower().count("line") == 1, syntax.inner_text()


def test_bidi_controls_in_deliveries_and_the_fake_are_shown_escaped(served: Served, page: Page):
    _open(served, page)
    tricky = "admin\u202e\u2066 // not really"
    served.send("acme.gate", payload={"note": tricky})
    served.fake.seed_records("crm", "notes", [{"id": 1, "text": tricky}], project_id=42)
    served.fake.seed_secrets("com.example.app", {"K": tricky})
    page.click("#fake-refresh")
    row = page.wait_for_selector("#deliveries tr[data-status]")
    assert row is not None
    row.click()
    page.wait_for_function("document.querySelector('#detail-body').textContent.includes('admin')")
    for selector in ("#detail-body", "#fake-records", "#fake-secrets code.escaped"):
        text = page.text_content(selector) or ""
        assert "\\u202e\\u2066" in text, (selector, text)
        assert "\u202e" not in text
        assert "\u2066" not in text


def test_the_delivery_list_scrolls_on_its_own(served: Served, page: Page):
    _open(served, page)
    for number in range(40):
        served.send("acme.gate", payload={"id": f"evt_many_{number}"})
    page.wait_for_function("document.querySelectorAll('#deliveries tr').length === 40")
    scrolls = "(e) => e.scrollHeight > e.clientHeight && getComputedStyle(e).overflowY === 'auto'"
    assert page.eval_on_selector("#delivery-list", scrolls)
    page.click("#deliveries tr:last-child")
    assert page.eval_on_selector(
        "#detail", "(e) => e.getBoundingClientRect().top < window.innerHeight"
    )


def test_the_timeline_shows_an_outbound_call_with_its_query(served: Served, page: Page):
    _open(served, page)
    served.send("acme.gate", payload={})
    row = page.wait_for_selector("#deliveries tr[data-status]")
    assert row is not None
    row.click()
    outbound = page.wait_for_selector("#detail-timeline li.outbound")
    assert outbound is not None
    assert "GET /api/v1/ext/custom_data/crm/gates?project_id=42" in outbound.inner_text()


def test_a_handler_that_raised_shows_its_exception_and_traceback(served: Served, page: Page):
    _open(served, page)
    sent = served.client.post(
        "/send", json={"event": "acme.boom", "version": "v1", "payload": {"gate": "north"}}
    ).json()
    assert sent["status"] == 500
    assert "crm.internal" not in sent["answer"]  # what Kiket would get: the class only
    row = page.wait_for_selector("#deliveries tr[data-status='500']")
    assert row is not None
    row.click()
    failed = page.wait_for_selector("#detail-timeline li.bad")
    assert failed is not None
    text = failed.inner_text()
    assert "the handler raised builtins.LookupError: no gate for north" in text
    assert "on_boom" in text  # the traceback names the handler's frame


def test_a_resend_answer_is_shown_next_to_the_resend_buttons(served: Served, page: Page):
    _open(served, page)
    served.send("acme.gate", payload={"id": "evt_resent"})
    row = page.wait_for_selector("#deliveries tr[data-status]")
    assert row is not None
    row.click()
    page.click("#resend-same")
    page.wait_for_function(
        "document.querySelector('#resend-result').textContent.includes('ledger: duplicate')"
    )
    assert page.inner_text("#send-result") == ""
