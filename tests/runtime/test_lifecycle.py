"""SDK lifecycle and concurrent duplicates, through the real ASGI app."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import pytest

from kiket_sdk import HandlerContext, KiketSDK
from kiket_sdk.testing import serve_app

from ._helpers import SECRET, encode, issue_payload, signed_headers


def test_sdk_serves_again_after_an_app_shutdown() -> None:
    sdk = KiketSDK(webhook_secret=SECRET, telemetry_enabled=False)
    sdk.register("issue.created", lambda event, ctx: {"n": 1})
    for _ in range(2):  # each `with` runs the lifespan: startup, then shutdown (sdk.aclose)
        with serve_app(sdk) as url:
            body = encode(issue_payload())
            answer = httpx.post(
                f"{url}/v/v1/webhooks/issue.created", content=body, headers=signed_headers(body)
            )
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"n": 1}


def test_concurrent_duplicate_gets_409_after_the_wait_bound() -> None:
    sdk = KiketSDK(webhook_secret=SECRET, telemetry_enabled=False, duplicate_wait=0.2)
    runs: list[str] = []

    @sdk.webhook("issue.created", version="v1")
    async def slow(event: dict[str, object], ctx: HandlerContext) -> dict[str, str]:
        runs.append(str(event["id"]))
        await asyncio.sleep(1.0)
        return {"done": "yes"}

    payload = issue_payload()
    first_body = encode(payload)
    second_body = encode(payload)

    async def scenario(url: str) -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            first = asyncio.create_task(
                client.post(
                    "/v/v1/webhooks/issue.created",
                    content=first_body,
                    headers=signed_headers(first_body),
                )
            )
            await asyncio.sleep(0.3)  # the first delivery is inside its handler now
            second = await client.post(
                "/v/v1/webhooks/issue.created",
                content=second_body,
                # a redelivery is signed anew (another timestamp, so another signature)
                headers=signed_headers(second_body, timestamp=int(time.time()) - 5),
            )
            return await first, second

    with serve_app(sdk) as url:
        first, second = asyncio.run(scenario(url))
    assert first.status_code == 200
    assert first.json() == {"done": "yes"}
    assert second.status_code == 409
    assert second.headers["retry-after"]
    assert runs == [payload["id"]]


def test_unhandled_event_logs_a_snippet_but_never_a_crafted_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from starlette.testclient import TestClient

    from ._helpers import post

    sdk = KiketSDK(webhook_secret=SECRET, telemetry_enabled=False)
    with caplog.at_level(logging.WARNING, logger="kiket_sdk"), TestClient(sdk) as client:
        assert post(client, "slack.notify").status_code == 404
        crafted = "/v/v1/webhooks/evil%0AFAKE%20LOG%20LINE"  # decodes to a newline
        assert post(client, path=crafted).status_code == 404
    messages = [r.getMessage() for r in caplog.records]
    assert any('@sdk.webhook("slack.notify", version="v1")' in m for m in messages)
    assert not any("FAKE LOG LINE" in m for m in messages)
