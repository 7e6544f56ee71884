"""The inspector page in a real browser (as ``test_inspector_browser``): it changes no number
it sends or shows, addresses objects by their exact ids, survives a server restart, and keeps
its layout and results readable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from kiket_sdk import Allow, HandlerContext, KiketSDK, allow
from kiket_sdk._inspector.api import PREFIX, inspector_app
from kiket_sdk._inspector.journal import DeliveryJournal
from kiket_sdk._inspector.routing import InspectorRouting
from kiket_sdk.testing import FakeKiket, serve_app

from .conftest import API, SECRET, Served, _free_port
from .test_inspector_browser import _open, page, pytestmark

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = ["page", "pytestmark"]

BIG = "9007199254740993"
HUGE = "1" + "0" * 400


def _send_from_the_page(page: Page, text: str) -> None:
    page.select_option("#send-event", label="★ acme.gate@v1 (not in the spec)")
    page.fill("#send-payload", text)
    page.wait_for_selector("#send-button[data-state=valid]")
    page.click("#send-button")
    page.wait_for_function("document.querySelector('#send-result').textContent.includes('ledger')")


def test_the_page_sends_and_shows_big_numbers_exactly(served: Served, page: Page):
    _open(served, page)
    text = '{"id": "evt_big", "big": ' + BIG + ', "huge": ' + HUGE + ', "f": 1.000000000000000001}'
    _send_from_the_page(page, text)
    [entry] = served.client.get("/deliveries").json()["deliveries"]
    assert entry["request"]["body"] == text  # the very bytes typed
    shown = page.text_content("#detail-body") or ""
    assert BIG in shown
    assert HUGE in shown
    assert "1.000000000000000001" in shown


def test_the_fresh_id_after_a_send_keeps_big_numbers(served: Served, page: Page):
    _open(served, page)
    _send_from_the_page(page, '{"id": "evt_sent", "big": ' + BIG + ', "huge": ' + HUGE + "}")
    fresh = page.input_value("#send-payload")
    assert '"evt_sent"' not in fresh  # (a fresh evt_<hex> may begin with any digit)
    assert BIG in fresh
    assert HUGE in fresh


def test_a_record_delete_removes_that_record_however_big_its_id(served: Served, page: Page):
    rows = [{"id": 9007199254740992}, {"id": 9007199254740993}, {"id": 10**23 - 1}]
    seed = {"records": [{"module": "m", "table": "t", "project_id": 1, "rows": rows}]}
    assert served.client.post("/fake/seed", json=seed).status_code == 200
    _open(served, page)
    row = "#fake-records tr[data-record='1/m/t/9007199254740993']"
    assert BIG in (page.text_content(row) or "")
    page.click(row + " button.delete")
    page.wait_for_selector(row, state="detached")
    ids = [record["id"] for record in served.fake.records("m", "t", project_id=1)]
    assert ids == [9007199254740992, 10**23 - 1]
    page.click(f"#fake-records tr[data-record='1/m/t/{10**23 - 1}'] button.delete")
    page.wait_for_function("document.querySelectorAll('#fake-records tr[data-record]').length < 2")
    assert [r["id"] for r in served.fake.records("m", "t", project_id=1)] == [9007199254740992]


def test_an_sla_event_with_a_huge_id_is_shown_and_deleted_by_it(served: Served, page: Page):
    event = {"id": 10**400, "issue_id": 7, "project_id": 1, "state": "breached", "definition": {}}
    assert served.client.post("/fake/seed", json={"sla_events": [event]}).status_code == 200
    _open(served, page)
    row = f"#fake-sla tr[data-sla-event='{10**400}']"
    assert page.get_attribute(row + " td code", "title") == str(10**400)
    page.click(row + " button.delete")
    page.wait_for_selector(row, state="detached")
    assert served.fake.sla_events == []


def test_a_very_long_id_does_not_break_the_layout(served: Served, page: Page):
    long_id = "x" * 10_000
    assert served.client.put(f"/fake/records/1/m/t/{long_id}", json={"a": 1}).status_code == 200
    served.send("acme.gate", payload={"id": long_id})
    page.set_viewport_size({"width": 1280, "height": 800})
    _open(served, page)
    page.click("#deliveries tr")
    page.wait_for_selector("#detail:not([hidden])")
    width = page.evaluate("document.documentElement.scrollWidth")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert width <= 1280, width
    assert height < 6000, height
    cell = page.locator("#fake-records tr[data-record] td code").first
    assert cell.get_attribute("title") == long_id  # the whole id is still there


def test_the_send_result_is_cleared_when_the_payload_changes(served: Served, page: Page):
    _open(served, page)
    page.fill("#send-payload", "{oops")
    page.click("#send-button")
    page.wait_for_function("document.querySelector('#send-result').textContent.includes('JSON')")
    page.fill("#send-payload", '{"issue": 3}')
    assert page.inner_text("#send-result") == ""
    page.select_option("#send-event", label="★ acme.gate@v1 (not in the spec)")
    assert page.inner_text("#send-result") == ""


def test_the_send_result_shows_the_answer_readably(served: Served, page: Page):
    _open(served, page)
    _send_from_the_page(page, '{"id": "evt_readable"}')
    result = page.inner_text("#send-result")
    first, *rest = result.splitlines()
    assert first.startswith("answered 200 · ledger: first_run · delivery #1")
    assert '  "message": "gate closed",' in rest  # pretty-printed, not an escaped string
    assert '\\"' not in result
    assert page.eval_on_selector("#send-result", "(e) => e.scrollWidth <= e.clientWidth")


def test_the_page_asks_for_no_favicon_and_logs_no_error(served: Served, page: Page):
    asked: list[str] = []
    logged: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.on("console", lambda message: logged.append(message.type + " " + message.text))
    _open(served, page)
    page.wait_for_timeout(300)
    assert not [url for url in asked if "favicon" in url]
    assert [line for line in logged if line.startswith("error")] == []
    assert "YAML" in page.inner_text("label[for=fake-seed]")  # the box takes JSON only


def _inspected_sdk(fake_url: str) -> KiketSDK:
    sdk = KiketSDK(
        webhook_secret=SECRET, base_url=fake_url, workspace_token="wk", telemetry_enabled=False
    )

    @sdk.webhook("acme.gate", version="v1")
    async def on_gate(event: dict[str, Any], ctx: HandlerContext) -> Allow:
        return allow(message="gate")

    return sdk


@contextmanager
def _server(port: int, fake: FakeKiket, fake_url: str) -> Iterator[str]:
    stopped = [False]
    journal = DeliveryJournal()
    sdk = _inspected_sdk(fake_url)
    sdk.observe(journal)
    url = f"http://127.0.0.1:{port}"
    inspector = inspector_app(
        journal,
        fake,
        url,
        SECRET,
        stopping=lambda: stopped[0],
        registered=[("acme.gate", "v1")],
    )
    with serve_app(InspectorRouting(inspector, sdk, journal), port=port) as served_url:
        try:
            yield served_url
        finally:
            stopped[0] = True


def _send(url: str, delivery_id: str) -> dict[str, Any]:
    payload = {"id": delivery_id}
    body = {"event": "acme.gate", "version": "v1", "payload": payload}
    answer = httpx.post(url + API + "/send", json=body, timeout=10.0)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


@pytest.mark.parametrize("selected", [True, False])
def test_after_a_server_restart_the_page_shows_the_new_journal(page: Page, selected: bool):
    fake = FakeKiket()
    port = _free_port()
    with fake.serve() as fake_url:
        with _server(port, fake, fake_url) as url:
            page.set_default_timeout(15_000)
            page.goto(url + PREFIX + "/")
            page.wait_for_selector("body[data-ready=true]")
            _send(url, "evt_old_1")
            _send(url, "evt_old_2")
            page.wait_for_function("document.querySelectorAll('#deliveries tr').length === 2")
            if selected:
                page.click("#deliveries tr[data-serial='2']")
                page.wait_for_selector("#detail:not([hidden])")
        with _server(port, fake, fake_url) as url:
            page.wait_for_function("document.querySelectorAll('#deliveries tr').length === 0")
            assert page.is_hidden("#detail")
            page.wait_for_function("document.querySelector('#stream-state').textContent === 'live'")
            sent = _send(url, "evt_new_1")
            assert sent["serial"] == 1
            page.wait_for_selector("#deliveries tr[data-serial='1'][data-status='200']")
            page.click("#deliveries tr[data-serial='1']")
            page.wait_for_function(
                "document.querySelector('#detail-title').textContent.includes('evt_new_1')"
            )
            assert json.loads(page.text_content("#detail-body") or "") == {"id": "evt_new_1"}
