"""The SDK inside host apps (issue 10): ``include_router``, ``sdk.lifespan``, no lifespan at all.

A real uvicorn process gets SIGTERM while deferred work is pending; in-process hosts are served
through Starlette's TestClient (with and without ``with``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from kiket_sdk import HandlerContext, KiketSDK, allow
from kiket_sdk.events import IssueCreated
from kiket_sdk.testing import delivery_body, event_payload, signed_headers

SECRET = "sh_host"

HOST_APP = textwrap.dedent(
    """
    import asyncio, os
    from fastapi import FastAPI
    from kiket_sdk import HandlerContext, KiketSDK, allow

    sdk = KiketSDK(webhook_secret=os.environ["KIKET_WEBHOOK_SECRET"], telemetry_enabled=False)
    LOG = os.environ["DEFERRED_LOG"]

    async def finish(event_id):
        await asyncio.sleep(1.0)
        with open(LOG, "a") as fh:
            fh.write(event_id + "\\n")

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: dict, ctx: HandlerContext):
        ctx.defer(finish, event["id"])
        return allow("queued")

    host = FastAPI(title="host")

    @host.get("/hello")
    async def hello():
        return {"hello": "world"}

    host.include_router(sdk.router, prefix="/kiket")
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _signed(event_id: str) -> tuple[bytes, dict[str, str]]:
    body = delivery_body(event_payload("issue.created", "v1", id=event_id))
    return body, signed_headers(SECRET, body)


def _make_sdk(record: list[str]) -> KiketSDK:
    sdk = KiketSDK(webhook_secret=SECRET, extension_id="com.example.host", telemetry_enabled=False)

    async def finish(event_id: str) -> None:
        await asyncio.sleep(0.05)
        record.append(event_id)

    @sdk.webhook("issue.created")
    async def on_issue(event: IssueCreated, ctx: HandlerContext) -> Any:
        """Files the issue."""
        ctx.defer(finish, str(event.id))
        return allow("queued")

    return sdk


@pytest.mark.slow
def test_include_router_host_waits_for_deferred_work_on_sigterm(tmp_path: Path) -> None:
    (tmp_path / "host.py").write_text(HOST_APP)
    log = tmp_path / "deferred.log"
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "host:host", "--port", str(port)],
        cwd=tmp_path,
        env={**os.environ, "DEFERRED_LOG": str(log), "KIKET_WEBHOOK_SECRET": SECRET},
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/hello", timeout=0.5).status_code == 200:
                    break
            time.sleep(0.05)
        document = httpx.get(url + "/openapi.json").json()
        assert "/kiket/v/v1/webhooks/issue.created" in document["paths"]
        ids = [f"host-{n}" for n in range(5)]
        for event_id in ids:
            body, headers = _signed(event_id)
            answer = httpx.post(
                url + "/kiket/v/1/webhooks/issue.created", content=body, headers=headers
            )
            assert answer.status_code == 200, answer.text
        proc.send_signal(signal.SIGTERM)  # deferred work is still sleeping
        assert proc.wait(30) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = ""
    if proc.stderr is not None:
        stderr = proc.stderr.read().decode()
        proc.stderr.close()
    assert sorted(log.read_text().split()) == ids, stderr
    assert "without the SDK's lifespan" not in stderr


def test_host_openapi_documents_each_webhook_with_its_schemas() -> None:
    sdk = _make_sdk([])

    @sdk.webhook("sla.breach", required_scopes=["sla.read"])
    def on_sla(event: dict[str, Any], ctx: Any) -> None:
        return None

    host = FastAPI()
    host.include_router(sdk.router, prefix="/kiket")
    document = TestClient(host).get("/openapi.json").json()
    operation = document["paths"]["/kiket/v/v1/webhooks/issue.created"]["post"]
    assert operation["operationId"] == "webhook_issue_created_v1"
    assert operation["description"].startswith("Files the issue.")
    body_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_ref.rsplit("/", 1)[-1] in document["components"]["schemas"]
    assert "IssueCreated" in body_ref
    for status in ("401", "404", "422"):
        error_ref = operation["responses"][status]["content"]["application/json"]["schema"]
        assert error_ref["$ref"].endswith("/InboundError")
    assert operation["security"] == [{"KiketSignature": [], "KiketTimestamp": []}, {}]
    schemes = document["components"]["securitySchemes"]
    assert {s["name"] for s in schemes.values()} == {"X-Kiket-Signature", "X-Kiket-Timestamp"}
    sla = document["paths"]["/kiket/v/v1/webhooks/sla.breach"]["post"]
    assert sla["x-kiket-required-scopes"] == ["sla.read"]
    # the host's own paths are untouched, and /health is not documented as an operation
    assert not any(path.endswith("/health") for path in document["paths"])


def test_the_sdk_answers_its_own_errors_inside_a_host() -> None:
    sdk = _make_sdk([])
    host = FastAPI()
    host.include_router(sdk.router, prefix="/kiket")
    client = TestClient(host)
    wrong_method = client.get("/kiket/v/1/webhooks/issue.created")
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"error": "method not allowed here; allowed: POST"}
    assert wrong_method.headers["allow"] == "POST"
    health_put = client.put("/kiket/health")
    assert health_put.status_code == 405
    assert "error" in health_put.json()
    body, headers = _signed("trailing-slash")
    slash = client.post(
        "/kiket/v/1/webhooks/issue.created/", content=body, headers=headers, follow_redirects=False
    )
    assert slash.status_code == 200, slash.text  # served, not a 307 that re-posts the body
    assert client.get("/kiket/health/").json()["status"] == "ok"


def test_the_sdks_own_app_answers_errors_in_its_shape() -> None:
    client = TestClient(_make_sdk([]))
    assert client.get("/nowhere").json() == {"error": "Not Found"}
    assert client.delete("/webhooks/issue.created").status_code == 405
    assert client.delete("/webhooks/issue.created").json()["error"].startswith("method not")


def test_include_router_runs_the_sdk_lifespan_with_the_host() -> None:
    record: list[str] = []
    sdk = _make_sdk(record)
    host = FastAPI()
    host.include_router(sdk.router)
    with TestClient(host) as client:
        body, headers = _signed("lifespan-1")
        assert client.post("/v/1/webhooks/issue.created", content=body, headers=headers).is_success
        assert sdk.pipeline.lifespan == "running"
    assert record == ["lifespan-1"]  # drained at the host's shutdown
    assert sdk._pipeline is None
    assert sdk._async_client is None


def test_sdk_lifespan_plugs_into_a_starlette_host(caplog: pytest.LogCaptureFixture) -> None:
    record: list[str] = []
    sdk = _make_sdk(record)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with sdk.lifespan(app):
            yield

    host = Starlette(routes=[Mount("/kiket", app=sdk)], lifespan=lifespan)
    with caplog.at_level(logging.WARNING, logger="kiket_sdk"), TestClient(host) as client:
        body, headers = _signed("starlette-1")
        answer = client.post("/kiket/v/1/webhooks/issue.created", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
    assert record == ["starlette-1"]
    assert "without the SDK's lifespan" not in caplog.text


def test_without_a_lifespan_deferred_work_finishes_in_the_request_and_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    record: list[str] = []
    sdk = _make_sdk(record)
    host = Starlette(routes=[Mount("/kiket", app=sdk)])  # a mount: no lifespan reaches the sdk
    client = TestClient(host)
    with caplog.at_level(logging.WARNING, logger="kiket_sdk"):
        for n in range(3):
            body, headers = _signed(f"bare-{n}")
            answer = client.post("/kiket/v/1/webhooks/issue.created", content=body, headers=headers)
            assert answer.status_code == 200, answer.text
            assert record[-1] == f"bare-{n}"  # done before the request returned
    warnings = [r for r in caplog.records if "without the SDK's lifespan" in r.getMessage()]
    assert len(warnings) == 1
    assert "sdk.lifespan" in warnings[0].getMessage()


def test_test_client_without_with_runs_deferred_work_of_every_delivery() -> None:
    record: list[str] = []
    client = TestClient(_make_sdk(record))
    for n in range(5):
        body, headers = _signed(f"plain-{n}")
        assert client.post("/v/1/webhooks/issue.created", content=body, headers=headers).is_success
    assert record == [f"plain-{n}" for n in range(5)]


def test_health_reports_json_for_head_and_get() -> None:
    client = TestClient(_make_sdk([]))
    assert client.head("/health").status_code == 200
    assert json.loads(client.get("/health").content)["registered_events"] == ["issue.created@v1"]


def test_the_in_memory_ledger_outlives_a_serving_period() -> None:
    # One process, two lifespans (two `with TestClient` blocks): an event runs once.
    record: list[str] = []
    sdk = _make_sdk(record)
    body, headers = _signed("once-per-process")
    with TestClient(sdk) as client:
        first = client.post("/v/1/webhooks/issue.created", content=body, headers=headers)
    with TestClient(sdk) as client:
        again = client.post("/v/1/webhooks/issue.created", content=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("x-kiket-duplicate") == "true"
    assert record == ["once-per-process"]
