"""Telemetry, /health, /openapi.json, /docs, dedupe, replay guard, timeouts and deferred work."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from kiket_sdk import Allow, HandlerContext, KiketSDK, TelemetryRecord, allow
from kiket_sdk.events import IssueCreated
from kiket_sdk.testing import serve_app

from ._helpers import SECRET, encode, event_id, issue_payload, post, signed_headers


def _wait_for(condition: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def _sdk(**options: Any) -> KiketSDK:
    options.setdefault("webhook_secret", SECRET)
    options.setdefault("extension_id", "com.example.features")
    options.setdefault("extension_version", "0.9.0")
    return KiketSDK(**options)


# -- telemetry -------------------------------------------------------------------------------


def _telemetry_sdk(records: list[TelemetryRecord], **options: Any) -> KiketSDK:
    sdk = _sdk(feedback_hook=records.append, **options)

    @sdk.webhook("issue.created", version="v1")
    async def ok(event: IssueCreated, ctx: HandlerContext) -> Allow:
        return allow()

    @sdk.webhook("custom.boom", version="v1")
    async def boom(event: dict[str, Any], ctx: HandlerContext) -> None:
        raise ValueError("nope")

    return sdk


def test_feedback_hook_receives_records() -> None:
    records: list[TelemetryRecord] = []
    with TestClient(_telemetry_sdk(records)) as c:
        assert post(c).status_code == 200
        assert post(c, "custom.boom").status_code == 500
        assert _wait_for(lambda: len(records) == 2)
    by_event = {r.event: r for r in records}
    ok, failed = by_event["issue.created"], by_event["custom.boom"]
    assert (ok.version, ok.status, ok.error_class) == ("v1", "ok", None)
    assert ok.duration_ms >= 0
    assert ok.extension_id == "com.example.features"
    assert ok.metadata["http_status"] == 200
    assert (failed.status, failed.error_class) == ("error", "ValueError")
    assert failed.error_message is None  # plain exception text is not reported
    assert failed.metadata["http_status"] == 500


def test_optout_env_disables_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIKET_SDK_TELEMETRY_OPTOUT", "1")
    records: list[TelemetryRecord] = []
    with TestClient(_telemetry_sdk(records)) as c:
        assert post(c).status_code == 200
        assert post(c, "custom.boom").status_code == 500
        time.sleep(0.2)
    assert records == []


def test_telemetry_disabled_by_flag() -> None:
    records: list[TelemetryRecord] = []
    with TestClient(_telemetry_sdk(records, telemetry_enabled=False)) as c:
        assert post(c).status_code == 200
        time.sleep(0.1)
    assert records == []


def test_dead_telemetry_url_does_not_fail_delivery() -> None:
    records: list[TelemetryRecord] = []
    sdk = _telemetry_sdk(records, telemetry_url="http://127.0.0.1:9")
    with TestClient(sdk) as c:
        for _ in range(3):
            assert post(c).status_code == 200
        assert _wait_for(lambda: len(records) == 3)


def test_hanging_telemetry_endpoint_does_not_hold_the_answer() -> None:
    received, release, answered = threading.Event(), threading.Event(), threading.Event()

    async def telemetry(request: Request) -> JSONResponse:
        received.set()
        await anyio.to_thread.run_sync(release.wait, 10)
        answered.set()
        return JSONResponse({})

    app = Starlette(routes=[Route("/telemetry", telemetry, methods=["POST"])])
    records: list[TelemetryRecord] = []
    with serve_app(app) as url, TestClient(_telemetry_sdk(records, telemetry_url=url)) as c:
        assert post(c).status_code == 200
        # Had the telemetry send been on the request path, the answer would only have come
        # after the endpoint answered; it is still holding the report now.
        assert received.wait(5)
        assert not answered.is_set()
        release.set()


# -- /health, /openapi.json, /docs ---------------------------------------------------------


def _documented_sdk() -> KiketSDK:
    sdk = _sdk(telemetry_enabled=False)

    @sdk.webhook("issue.created", version="v1", required_scopes=["issues.read"])
    async def on_issue(event: IssueCreated, ctx: HandlerContext) -> Allow:
        """Greets new issues."""
        return allow()

    @sdk.webhook("custom.thing", version="v2")
    async def on_thing(event: dict[str, Any], ctx: HandlerContext) -> Any:
        return None

    return sdk


def test_health_json() -> None:
    with TestClient(_documented_sdk()) as c:
        response = c.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["extension_id"] == "com.example.features"
    assert body["extension_version"] == "0.9.0"
    assert body["registered_events"] == ["custom.thing@v2", "issue.created@v1"]


def test_openapi_documents_each_handler() -> None:
    with TestClient(_documented_sdk()) as c:
        document = c.get("/openapi.json").json()
    operation = document["paths"]["/v/v1/webhooks/issue.created"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/IssueCreated"}
    assert "IssueCreated" in document["components"]["schemas"]
    assert "200" in operation["responses"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Allow"
    }
    assert operation["x-kiket-required-scopes"] == ["issues.read"]
    assert operation["description"].startswith("Greets new issues.")
    assert "`issues.read`" in operation["description"]
    untyped = document["paths"]["/v/v2/webhooks/custom.thing"]["post"]
    assert untyped["requestBody"]["content"]["application/json"]["schema"]["type"] == "object"
    refs = _refs(document["paths"])
    assert refs <= {f"#/components/schemas/{n}" for n in document["components"]["schemas"]}


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


def test_docs_are_served_offline() -> None:
    with TestClient(_documented_sdk()) as c:
        html = c.get("/docs")
        assert html.status_code == 200
        assert "/_kiket/static/swagger-ui-bundle.js" in html.text
        assert "/_kiket/static/swagger-ui.css" in html.text
        for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs", "https://"):
            assert cdn not in html.text
        asset = c.get("/_kiket/static/swagger-ui-bundle.js")
        assert asset.status_code == 200
        assert len(asset.content) > 1000
        assert c.get("/_kiket/static/swagger-ui.css").status_code == 200


# -- dedupe and replay ---------------------------------------------------------------------


def _counting_sdk(calls: list[str], **options: Any) -> KiketSDK:
    sdk = _sdk(telemetry_enabled=False, **options)
    failures = {"left": 1}

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: IssueCreated, ctx: HandlerContext) -> dict[str, Any]:
        calls.append(str(event.id))
        return {"call": len(calls), "delivery": ctx.delivery_id}

    @sdk.webhook("custom.flaky", version="v1")
    async def flaky(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
        calls.append(event["id"])
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("transient")
        return {"call": len(calls)}

    @sdk.webhook("custom.slow", version="v1")
    async def slow(event: dict[str, Any], ctx: HandlerContext) -> None:
        calls.append(event["id"])
        await asyncio.sleep(5)

    return sdk


def test_redelivery_gets_stored_answer() -> None:
    calls: list[str] = []
    payload = issue_payload()
    body = encode(payload)
    now = int(time.time())
    with TestClient(_counting_sdk(calls)) as c:
        first = post(c, body=body, timestamp=now)
        second = post(c, body=body, timestamp=now - 1)  # fresh signature, same event id
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert first.json() == {"call": 1, "delivery": payload["id"]}
    assert second.headers["x-kiket-duplicate"] == "true"
    assert "x-kiket-duplicate" not in first.headers
    assert calls == [payload["id"]]


def test_byte_identical_retry_gets_the_stored_answer() -> None:
    # Was "replay is refused with 401": a 4xx is never retried by the platform, so the same
    # bytes on the same route are the same delivery (its stored answer), not an attack.
    calls: list[str] = []
    body = encode(issue_payload())
    headers = signed_headers(body)
    with TestClient(_counting_sdk(calls)) as c:
        first = c.post("/v/v1/webhooks/issue.created", content=body, headers=headers)
        again = c.post("/v/v1/webhooks/issue.created", content=body, headers=headers)
    assert first.status_code == 200
    assert again.status_code == 200
    assert again.headers["x-kiket-duplicate"] == "true"
    assert again.content == first.content
    assert len(calls) == 1


def test_failed_handler_runs_again_on_redelivery() -> None:
    calls: list[str] = []
    payload = issue_payload(event="custom.flaky")
    body = encode(payload)
    now = int(time.time())
    with TestClient(_counting_sdk(calls)) as c:
        first = post(c, "custom.flaky", body=body, timestamp=now)
        second = post(c, "custom.flaky", body=body, timestamp=now - 1)
        third = post(c, "custom.flaky", body=body, timestamp=now - 2)
    assert first.status_code == 500
    assert second.status_code == 200
    assert second.json() == {"call": 2}
    assert third.headers["x-kiket-duplicate"] == "true"
    assert third.content == second.content
    assert calls == [payload["id"], payload["id"]]


def test_events_without_id_run_every_time() -> None:
    calls: list[str] = []
    with TestClient(_counting_sdk(calls, verify=False)) as c:
        payload = {"issue": {"id": 1, "title": "t"}}
        body = encode(payload)
        for _ in range(2):
            response = c.post("/v/v1/webhooks/issue.created", content=body)
            assert response.status_code == 200
    assert len(calls) == 2


def test_handler_timeout_answers_503_with_retry_after() -> None:
    calls: list[str] = []
    with TestClient(_counting_sdk(calls, handler_timeout=0.2)) as c:
        payload = {"id": event_id()}
        response = post(c, "custom.slow", payload=payload)
        assert response.status_code == 503
        assert response.headers["retry-after"].isdigit()
        assert "0.2 s" in response.json()["error"]
        # a 5xx releases the claim: the retry (signed anew, with another timestamp) runs again
        retry = post(c, "custom.slow", payload=payload, timestamp=int(time.time()) - 100)
        assert retry.status_code == 503
    assert calls == [payload["id"], payload["id"]]


def test_deferred_work_runs_after_the_answer() -> None:
    order: list[str] = []
    done = threading.Event()
    sdk = _sdk(telemetry_enabled=False)

    async def later(tag: str, *, extra: str) -> None:
        await asyncio.sleep(0.3)
        order.append(f"deferred:{tag}:{extra}")
        done.set()

    def sync_later(tag: str) -> None:
        order.append(f"sync:{tag}")

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: IssueCreated, ctx: HandlerContext) -> Allow:
        ctx.defer(later, "a", extra="b")
        ctx.defer(sync_later, "c")
        order.append("handler")
        return allow()

    with TestClient(sdk) as c:
        response = post(c)
        order.append("answered")
        assert response.status_code == 200
        assert done.wait(3)
    assert order[:2] == ["handler", "answered"] or order[:3] == ["handler", "sync:c", "answered"]
    assert order.index("answered") < order.index("deferred:a:b")
    assert "sync:c" in order
