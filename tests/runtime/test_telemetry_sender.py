"""Telemetry leaves on one background thread per process and never holds a delivery.

Real loopback servers throughout: a collector (uvicorn) that records what it receives, and a
black hole (a socket that accepts connections and never answers). Most tests give their SDK
its own `TelemetrySender`, so a stuck sender cannot leak into other tests; one test uses the
process's shared sender on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

import anyio.to_thread
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from kiket_sdk import KiketSDK, TelemetryRecord
from kiket_sdk._telemetry import TelemetrySender, TelemetryTarget
from kiket_sdk.testing import serve_app

from ._helpers import SECRET, encode, issue_payload, post, signed_headers


class Collector:
    """A telemetry endpoint on loopback: records each POST; ``hold`` keeps answers back."""

    def __init__(self, status: int = 202) -> None:
        self.received: list[tuple[str, dict[str, str], Any]] = []
        self.arrived = threading.Event()
        self.hold = threading.Event()
        self.hold.set()
        self.status = status

    async def _telemetry(self, request: Request) -> JSONResponse:
        self.received.append((request.url.path, dict(request.headers), await request.json()))
        self.arrived.set()
        await anyio.to_thread.run_sync(self.hold.wait, 10)
        return JSONResponse({"ok": True}, status_code=self.status)

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        app = Starlette(
            routes=[
                Route("/telemetry", self._telemetry, methods=["POST"]),
                Route("/api/v1/ext/telemetry", self._telemetry, methods=["POST"]),
            ]
        )
        with serve_app(app) as url:
            yield url

    @property
    def bodies(self) -> list[Any]:
        return [body for _, _, body in self.received]


class BlackHole:
    """A TCP endpoint on loopback that accepts connections and never answers."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self.connected = threading.Event()
        self._accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self._accepted.append(conn)
            self.connected.set()

    def close(self) -> None:
        """Stop listening and close every accepted connection (a stuck send then fails)."""
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the accept() blocked in _accept
        self._server.close()
        self._thread.join(5)
        for conn in self._accepted:
            conn.close()


@contextlib.contextmanager
def black_hole() -> Iterator[BlackHole]:
    hole = BlackHole()
    try:
        yield hole
    finally:
        hole.close()


def _sdk(sender: TelemetrySender, **options: Any) -> KiketSDK:
    options.setdefault("webhook_secret", SECRET)
    options.setdefault("extension_id", "com.example.telemetry")
    options.setdefault("extension_version", "1.2.3")
    sdk = KiketSDK(**options)
    sdk.telemetry.sender = sender

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: dict[str, Any]) -> None:
        return None

    return sdk


def _record(event: str = "issue.created") -> TelemetryRecord:
    return TelemetryRecord(event=event, version="v1", status="ok", duration_ms=1.5)


# -- records reach a real endpoint -----------------------------------------------------------


def test_records_arrive_at_the_telemetry_url_with_the_record_body() -> None:
    collector, sender = Collector(), TelemetrySender()
    with collector.serve() as url:
        sdk = _sdk(sender, telemetry_url=url + "/", workspace_token="wk_secret")
        with TestClient(sdk) as client:
            assert post(client).status_code == 200
        # leaving the TestClient ran aclose, which drained the sender
        ((path, headers, body),) = collector.received
    assert path == "/telemetry"
    assert "authorization" not in headers  # a collector URL never gets the workspace token
    assert headers["user-agent"].startswith("kiket-sdk-python/")
    assert body["event"] == "issue.created"
    assert (body["version"], body["status"]) == ("v1", "ok")
    assert (body["extension_id"], body["extension_version"]) == ("com.example.telemetry", "1.2.3")
    assert body["error_class"] is None  # the collector gets `TelemetryRecord.to_json()` as is
    assert body["metadata"]["http_status"] == 200
    assert set(body) == set(_record().to_json())
    assert sender.sent == 1
    assert sender.failed == 0


def test_the_api_endpoint_gets_the_workspace_token_and_no_null_fields() -> None:
    collector, sender = Collector(), TelemetrySender()
    with collector.serve() as url:
        sdk = _sdk(sender, base_url=url, workspace_token="wk_secret")
        with TestClient(sdk) as client:
            assert post(client).status_code == 200
        ((path, headers, body),) = collector.received
    assert path == "/api/v1/ext/telemetry"
    assert headers["authorization"] == "Bearer wk_secret"
    assert "error_class" not in body
    assert body["event"] == "issue.created"


def test_failed_sends_are_counted_and_logged_without_credentials(
    caplog: pytest.LogCaptureFixture,
) -> None:
    collector, sender = Collector(status=500), TelemetrySender()
    caplog.set_level(logging.DEBUG, logger="kiket_sdk.telemetry")
    with collector.serve() as url:
        credentialed = url.replace("http://", "http://user:s3cret@")
        sdk = _sdk(sender, telemetry_url=credentialed)
        with TestClient(sdk) as client:
            assert post(client).status_code == 200
        assert len(collector.received) == 1
    assert (sender.sent, sender.failed) == (0, 1)
    assert "answered 500" in caplog.text
    assert "s3cret" not in caplog.text
    assert sdk.telemetry.target is not None
    assert "s3cret" not in repr(sdk.telemetry.target)


# -- nothing telemetry does holds a delivery -------------------------------------------------


def test_a_black_hole_endpoint_does_not_hold_deliveries() -> None:
    # A long send timeout, so the sender stays stuck on the black hole for the whole test.
    sender = TelemetrySender(timeout=30.0)
    with black_hole() as hole:
        sdk = _sdk(sender, telemetry_url=hole.url)
        with TestClient(sdk) as client:
            assert post(client).status_code == 200
            assert hole.connected.wait(5)  # the sender waits for an answer that never comes
            answers = [post(client).status_code for _ in range(20)]
            assert answers == [200] * 20
            assert (sender.sent, sender.failed) == (0, 0)  # still stuck on the first record
            assert sender.pending == 20
            hole.close()  # now the stuck send fails, and the others too: drain ends
        assert sender.drain(10)
    assert sender.failed == 21


def test_a_blocking_sync_hook_does_not_hold_deliveries() -> None:
    entered, release = threading.Event(), threading.Event()
    heard: list[str] = []

    def hook(record: TelemetryRecord) -> None:
        entered.set()
        release.wait(10)
        heard.append(threading.current_thread().name)

    sender = TelemetrySender()
    sdk = _sdk(sender, feedback_hook=hook)
    try:
        with TestClient(sdk) as client:
            assert post(client).status_code == 200
            assert entered.wait(5)
            assert [post(client).status_code for _ in range(5)] == [200] * 5
            assert heard == []  # the hook is still blocked; the deliveries were not
            release.set()
    finally:
        release.set()
    assert heard == ["kiket-telemetry"] * 6


def test_an_async_hook_runs_on_the_sender_threads_loop_and_is_bounded() -> None:
    release = threading.Event()
    heard: list[tuple[str, str]] = []
    app_loops: list[asyncio.AbstractEventLoop] = []

    async def hook(record: TelemetryRecord) -> None:
        if record.event == "issue.created":
            await asyncio.to_thread(release.wait, 10)  # slow, yet awaiting: not blocking
        heard.append((threading.current_thread().name, record.event))
        assert asyncio.get_running_loop() not in app_loops
        if record.event == "custom.slow":
            await asyncio.sleep(10)  # past hook_timeout: cancelled and counted

    sender = TelemetrySender(hook_timeout=0.2)
    sdk = _sdk(sender, feedback_hook=hook)

    @sdk.webhook("custom.slow", version="v1")
    async def on_slow(event: dict[str, Any]) -> None:
        app_loops.append(asyncio.get_running_loop())

    try:
        with TestClient(sdk) as client:
            assert post(client).status_code == 200
            assert post(client, "custom.slow", {"id": "evt_slow"}).status_code == 200
            assert heard == []
            release.set()
            assert sender.drain(5)
    finally:
        release.set()
    assert heard == [("kiket-telemetry", "issue.created"), ("kiket-telemetry", "custom.slow")]
    assert sender.hook_errors == 1


# -- a bounded queue ---------------------------------------------------------------------------


def test_a_full_queue_drops_records_counts_them_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    entered, release = threading.Event(), threading.Event()

    def hook(record: TelemetryRecord) -> None:
        entered.set()
        release.wait(10)

    sender = TelemetrySender(max_queue=2)
    sdk = _sdk(sender, feedback_hook=hook)
    caplog.set_level(logging.WARNING, logger="kiket_sdk.telemetry")
    try:
        with TestClient(sdk) as client:
            assert post(client).status_code == 200
            assert entered.wait(5)  # the thread holds record 1; the queue has room for 2 more
            assert [post(client).status_code for _ in range(7)] == [200] * 7
            assert sender.dropped == 5
            release.set()
    finally:
        release.set()
    warnings = [r for r in caplog.records if r.name == "kiket_sdk.telemetry"]
    assert len(warnings) == 1
    assert "dropped 1 record" in warnings[0].getMessage()


def test_submit_on_a_full_queue_returns_false_and_never_raises() -> None:
    sender = TelemetrySender(max_queue=1, warn_interval=0.0)
    entered, release = threading.Event(), threading.Event()

    def hook(record: TelemetryRecord) -> None:
        entered.set()
        release.wait(10)

    try:
        assert sender.submit(_record(), None, hook)
        assert entered.wait(5)
        assert sender.submit(_record(), None, hook)
        assert not sender.submit(_record(), None, hook)
        assert not sender.submit(_record(), None, hook)
        assert sender.dropped == 2
    finally:
        release.set()
    assert sender.drain(5)


# -- one sender for every event loop --------------------------------------------------------


def test_the_shared_sender_serves_sdks_on_sequential_event_loops() -> None:
    collector = Collector()
    with collector.serve() as url:
        sdk = _sdk(TelemetrySender.shared(), telemetry_url=url)
        assert sdk.telemetry.sender is TelemetrySender.shared()
        client = TestClient(sdk)  # no `with`: every request runs on its own event loop
        for _ in range(3):
            assert post(client).status_code == 200

        async def deliver() -> None:
            transport = httpx.ASGITransport(app=sdk)
            async with httpx.AsyncClient(transport=transport, base_url="http://sdk") as http:
                body = encode(issue_payload())
                answer = await http.post(
                    "/v/v1/webhooks/issue.created", content=body, headers=signed_headers(body)
                )
                assert answer.status_code == 200
            await sdk.aclose()

        asyncio.run(deliver())
        asyncio.run(deliver())
        assert TelemetrySender.shared().drain(5)
        assert [body["event"] for body in collector.bodies] == ["issue.created"] * 5


# -- drain -------------------------------------------------------------------------------------


def test_drain_waits_for_queued_records_without_blocking_the_event_loop() -> None:
    collector, sender = Collector(), TelemetrySender()
    collector.hold.clear()
    with collector.serve() as url:
        target = TelemetryTarget(url + "/telemetry")
        for _ in range(3):
            assert sender.submit(_record(), target)
        assert collector.arrived.wait(5)
        assert not sender.drain(0.1)  # the endpoint holds the first record

        async def drain_while_ticking() -> int:
            sdk = KiketSDK(webhook_secret=SECRET, telemetry_url=url)
            sdk.telemetry.sender = sender
            ticks = 0
            draining = asyncio.create_task(sdk.telemetry.drain(5))
            while ticks < 5:  # the loop keeps running while drain waits
                await asyncio.sleep(0.01)
                ticks += 1
            assert not draining.done()
            collector.hold.set()
            await draining
            return ticks

        assert asyncio.run(drain_while_ticking()) == 5
        assert len(collector.received) == 3
    assert sender.sent == 3


def test_drain_before_anything_was_sent_returns_at_once() -> None:
    sender = TelemetrySender()
    assert sender.drain(0.0)
    assert not sender.started


# -- opting out ------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["env", "flag"])
def test_opting_out_sends_nothing(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    heard: list[TelemetryRecord] = []
    options: dict[str, Any] = {"feedback_hook": heard.append, "workspace_token": "wk_secret"}
    if how == "env":
        monkeypatch.setenv("KIKET_SDK_TELEMETRY_OPTOUT", "1")
    else:
        options["telemetry_enabled"] = False
    collector, sender = Collector(), TelemetrySender()
    with collector.serve() as url:
        sdk = _sdk(sender, telemetry_url=url, base_url=url, **options)
        assert not sdk.telemetry.active
        with TestClient(sdk) as client:
            assert post(client).status_code == 200
        assert sender.drain(1)
    assert not sender.started
    assert collector.received == []
    assert heard == []
