"""Clients and the SDK from any event loop, any number of loops in sequence (issue 10).

A connection pool belongs to one event loop; these tests use the SDK and `AsyncKiketClient` the
way real programs and test suites do -- ``TestClient`` without ``with``, ``asyncio.run`` again
and again, pytest-asyncio's per-test loops -- against a real fake Kiket served on loopback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from kiket_sdk import (
    APIConnectionError,
    AsyncKiketClient,
    ClientClosedError,
    HandlerContext,
    KiketSDK,
    allow,
)
from kiket_sdk.events import IssueCreated
from kiket_sdk.testing import FakeKiket, delivery_body, event_payload, signed_headers

SECRET = "sh_loops"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeKiket]:
    served = FakeKiket()
    with served.serve():
        yield served


def _sdk_with_outbound_handler(fake: FakeKiket, pools_seen: list[httpx.AsyncClient]) -> KiketSDK:
    sdk = KiketSDK(
        webhook_secret=SECRET,
        base_url=fake.url,
        extension_id="com.example.loops",
        workspace_token="wk_test",
        telemetry_enabled=False,
    )

    @sdk.webhook("issue.created")
    async def on_issue(event: IssueCreated, ctx: HandlerContext) -> Any:
        await ctx.endpoints.log_event("seen", title=event.issue.title)
        pools_seen.append(ctx.client._client)
        return allow("ok")

    return sdk


def _rate_limit_calls(fake: FakeKiket) -> int:
    return sum(call.operation_id == "get_rate_limit" for call in fake.calls)


def _post(client: TestClient, number: int, fake: FakeKiket) -> httpx.Response:
    payload = event_payload("issue.created", "v1", id=f"loop-{number}", api={"base_url": fake.url})
    body = delivery_body(payload)
    return client.post(
        "/v/1/webhooks/issue.created", content=body, headers=signed_headers(SECRET, body)
    )


def test_test_client_without_with_serves_every_delivery(fake: FakeKiket) -> None:
    # Without `with`, TestClient runs each request in a new event loop and closes it after.
    pools: list[httpx.AsyncClient] = []
    sdk = _sdk_with_outbound_handler(fake, pools)
    client = TestClient(sdk)
    before = len(fake.events)
    answers = [_post(client, n, fake) for n in range(5)]
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    assert len(fake.events) - before == 5
    assert len({id(pool) for pool in pools}) == 5  # one pool per loop...
    assert all(pool.is_closed for pool in pools)  # ...closed when its loop shut down


def test_test_client_with_and_without_with_in_turn(fake: FakeKiket) -> None:
    pools: list[httpx.AsyncClient] = []
    sdk = _sdk_with_outbound_handler(fake, pools)
    assert _post(TestClient(sdk), 1, fake).status_code == 200
    with TestClient(sdk) as served:  # lifespan: one loop for the session
        assert _post(served, 2, fake).status_code == 200
        assert _post(served, 3, fake).status_code == 200
        assert pools[1] is pools[2]  # deliveries in one loop share its pool
    assert _post(TestClient(sdk), 4, fake).status_code == 200
    assert all(pool.is_closed for pool in pools)


def test_one_async_client_in_sequential_asyncio_runs(fake: FakeKiket) -> None:
    client = AsyncKiketClient(base_url=fake.url, workspace_token="wk_test")
    pools: list[httpx.AsyncClient] = []

    async def call(number: int) -> None:
        await client.extension.rate_limit()
        pools.append(client._client)

    before = _rate_limit_calls(fake)
    for number in range(3):
        asyncio.run(call(number))
    assert _rate_limit_calls(fake) - before >= 3  # a dropped keep-alive may be retried
    assert all(pool.is_closed for pool in pools)
    asyncio.run(client.aclose())
    with pytest.raises(ClientClosedError, match="AsyncKiketClient was closed"):
        asyncio.run(call(4))


def test_a_copy_follows_its_root_across_loops(fake: FakeKiket) -> None:
    root = AsyncKiketClient(base_url=fake.url, workspace_token="wk_test")
    copy = root.with_options(timeout=5.0)

    async def both() -> bool:
        await copy.extension.rate_limit()
        return copy._client is root._client

    assert asyncio.run(both())
    assert asyncio.run(both())
    asyncio.run(root.aclose())
    with pytest.raises(ClientClosedError):
        asyncio.run(both())


def test_a_given_pool_used_from_another_loop_is_a_connection_error(fake: FakeKiket) -> None:
    # The caller's own httpx pool cannot follow loops; the error says what to do instead.
    pool = httpx.AsyncClient()
    client = AsyncKiketClient(base_url=fake.url, workspace_token="wk_test", http_client=pool)
    first_loop = asyncio.new_event_loop()
    try:
        first_loop.run_until_complete(client.extension.rate_limit())  # a kept-alive connection
        with pytest.raises(APIConnectionError, match="belongs to another event loop"):
            asyncio.run(client.extension.rate_limit())
    finally:  # the pool's sockets belong to the first loop: closed there
        first_loop.run_until_complete(pool.aclose())
        first_loop.close()


# -- pytest-asyncio: a new loop for every test, one client for the module -------------------

_MODULE_CLIENT: dict[str, AsyncKiketClient] = {}


@pytest.mark.parametrize("number", [1, 2, 3])
async def test_module_level_client_in_per_test_loops(fake: FakeKiket, number: int) -> None:
    client = _MODULE_CLIENT.setdefault(
        "client", AsyncKiketClient(base_url=fake.url, workspace_token="wk_test")
    )
    before = _rate_limit_calls(fake)
    await client.extension.rate_limit()
    # >= 1: on a loaded machine a kept-alive connection the server dropped is retried once
    assert _rate_limit_calls(fake) - before >= 1
