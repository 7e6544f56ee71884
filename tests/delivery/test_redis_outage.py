"""The Redis ledger through outages, on real servers: a redis-server of the test's own is killed
and restarted while deliveries run through a real uvicorn server. Nothing is lost, no handler
runs twice, and no claim locks an event out for longer than one lease."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from kiket_sdk import RedisDeliveryStore
from kiket_sdk._delivery.ledger import _key
from kiket_sdk.testing import serve_app

from ._deliveries import EXT_ID, isolate, issue_body, make_sdk, post, sign, wait_until

pytestmark = pytest.mark.redis


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


def _blocking_sdk(
    store: RedisDeliveryStore, **options: Any
) -> tuple[Any, list[str], threading.Event]:
    sdk = make_sdk(delivery_store=store, **options)
    runs: list[str] = []
    release = threading.Event()

    @sdk.webhook("issue.created", version="v1")
    def on_issue(event: dict[str, Any], ctx: Any) -> dict[str, Any]:
        runs.append(str(event["id"]))
        release.wait(30)
        return {"run": len(runs)}

    return sdk, runs, release


def test_redis_down_at_delivery_time_is_503_then_the_retry_runs_once(
    redis_server: Callable[..., Any],
) -> None:
    server = redis_server(persistent=True)
    store = RedisDeliveryStore.from_url(server.url)
    sdk, runs, release = _blocking_sdk(store)
    release.set()
    body = issue_body()
    headers = sign(body)
    with serve_app(sdk) as url:
        server.kill()
        refused = post(url, body, headers)
        server.start()
        retried = post(url, body, headers)
        again = post(url, body, headers)
    assert refused.status_code == 503
    assert refused.headers["retry-after"]
    assert refused.json() == {"error": "the delivery ledger is unavailable; retry later"}
    assert retried.status_code == 200
    assert again.headers["x-kiket-duplicate"] == "true"
    assert len(runs) == 1


def test_redis_killed_and_restarted_mid_run_loses_nothing_and_runs_once(
    redis_server: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    server = redis_server(persistent=True)  # AOF, fsync always: the claim survives the kill
    store = RedisDeliveryStore.from_url(server.url)
    sdk, runs, release = _blocking_sdk(store)
    body = issue_body()
    headers = sign(body)
    with serve_app(sdk) as url, ThreadPoolExecutor(1) as pool:
        first = pool.submit(post, url, body, headers)
        wait_until(lambda: len(runs) == 1, what="the handler started")
        server.kill()
        release.set()  # the handler ends while Redis is down: its answer cannot be recorded yet
        wait_until(lambda: "recording its answer failed" in caplog.text, what="a failed completion")
        server.start()  # ... until Redis is back (the ledger retries the completion)
        answered = first.result(timeout=60)
        redelivered = post(url, body, sign(body))  # freshly signed redelivery of the event
    assert answered.status_code == 200
    assert answered.json() == {"run": 1}
    assert redelivered.status_code == 200
    assert redelivered.headers["x-kiket-duplicate"] == "true"
    assert redelivered.json() == {"run": 1}
    assert len(runs) == 1
    assert repr(json.loads(body)["id"]) in caplog.text  # the failed recording names the event


def test_a_claim_left_by_a_dead_process_frees_after_one_lease(
    redis_server: Callable[..., Any],
) -> None:
    server = redis_server()
    store = RedisDeliveryStore.from_url(server.url)
    sdk, runs, release = _blocking_sdk(store, claim_lease=1.0, duplicate_wait=0)
    release.set()
    body = issue_body()
    event_id = json.loads(body)["id"]

    async def dead_process_claims() -> None:  # another replica claimed the event, then died
        other = RedisDeliveryStore.from_url(server.url)
        await other.claim(_key("event", EXT_ID, "issue.created", "v1", "s:" + event_id), lease=1.0)
        await other.aclose()

    asyncio.run(dead_process_claims())
    with serve_app(sdk) as url:
        locked = post(url, body)
        wait_until(lambda: post(url, body).status_code == 200, what="the lease ran out")
    assert locked.status_code == 409
    assert locked.headers["retry-after"]
    assert len(runs) == 1
