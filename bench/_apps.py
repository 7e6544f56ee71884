"""Apps under test for bench/dispatch.py (served by uvicorn from this folder)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kiket_sdk import Allow, HandlerContext, KiketSDK, allow
from kiket_sdk.events import IssueCreated

SECRET = "bench-secret"
_STORE = os.environ.get("BENCH_STORE", "memory")
_UPSTREAM = os.environ.get("BENCH_UPSTREAM", "http://127.0.0.1:9")


def _sdk() -> KiketSDK:
    store = None
    if _STORE == "redis":
        from kiket_sdk import RedisDeliveryStore

        store = RedisDeliveryStore.from_url(os.environ["KIKET_TEST_REDIS_URL"])
    return KiketSDK(
        webhook_secret=SECRET,
        extension_id="com.example.bench",
        base_url=_UPSTREAM,
        workspace_token="wk_bench",
        telemetry_enabled=False,
        delivery_store=store,
        deduplicate=_STORE != "none",
    )


sdk = _sdk()


@sdk.webhook("issue.created", version="v1")
async def on_issue(event: IssueCreated, ctx: HandlerContext) -> Allow:
    return allow(message="ok", data={"id": event.issue.id})


def _instrumented() -> KiketSDK:
    """The `sdk` app with ``kiket_sdk.otel.instrument``: ``BENCH_OTEL=global`` (default) uses
    the global providers, which are OpenTelemetry's no-ops when nothing configured them;
    ``BENCH_OTEL=sdk`` gives it an SDK ``TracerProvider`` and ``MeterProvider`` with no span
    processor, exporter or reader (spans and measurements are made, then dropped)."""
    from kiket_sdk.otel import instrument

    instrumented = _sdk()
    instrumented.register("issue.created", on_issue, version="v1")
    if os.environ.get("BENCH_OTEL", "global") == "sdk":
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.trace import TracerProvider

        instrument(instrumented, tracer_provider=TracerProvider(), meter_provider=MeterProvider())
    else:
        instrument(instrumented)
    return instrumented


sdk_otel = _instrumented()

sdk_outbound = _sdk()


@sdk_outbound.webhook("issue.created", version="v1")
async def on_issue_outbound(event: IssueCreated, ctx: HandlerContext) -> Allow:
    limits = await ctx.endpoints.rate_limit()
    return allow(message="ok", data={"id": event.issue.id, "remaining": limits.remaining})


def _verified(request_headers: dict[str, str], body: bytes) -> bool:
    timestamp = request_headers.get("x-kiket-timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return False
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), request_headers.get("x-kiket-signature", ""))


async def _raw_webhook(request: Request) -> Response:
    body = await request.body()
    if not _verified(dict(request.headers), body):
        return JSONResponse({"error": "bad signature"}, status_code=401)
    payload = json.loads(body)
    return JSONResponse(
        {"status": "allow", "message": "ok", "metadata": {"id": payload["issue"]["id"]}}
    )


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


raw = Starlette(
    routes=[
        Route("/v/{version}/webhooks/{event}", _raw_webhook, methods=["POST"]),
        Route("/health", _health),
    ]
)

_http = httpx.AsyncClient(base_url=_UPSTREAM)


async def _raw_outbound_webhook(request: Request) -> Response:
    body = await request.body()
    if not _verified(dict(request.headers), body):
        return JSONResponse({"error": "bad signature"}, status_code=401)
    payload = json.loads(body)
    answer = await _http.get("/api/v1/ext/rate_limit", headers={"authorization": "Bearer wk_bench"})
    remaining = answer.json()["rate_limit"]["remaining"]
    return JSONResponse(
        {
            "status": "allow",
            "message": "ok",
            "metadata": {"id": payload["issue"]["id"], "remaining": remaining},
        }
    )


raw_outbound = Starlette(
    routes=[
        Route("/v/{version}/webhooks/{event}", _raw_outbound_webhook, methods=["POST"]),
        Route("/health", _health),
    ]
)

_RATE = b'{"rate_limit":{"limit":600,"remaining":599,"window_seconds":60,"reset_in":30}}'


async def _rate_limit(request: Request) -> Response:
    return Response(_RATE, media_type="application/json")


upstream = Starlette(
    routes=[Route("/api/v1/ext/rate_limit", _rate_limit), Route("/health", _health)]
)
