"""End to end: real uvicorn processes, a real Redis, real signed deliveries.

- Two replicas sharing one Redis get the same events several times each, concurrently and in
  random order: every handler side effect happens exactly once, nothing gets a 5xx, and
  duplicates carry the stored answer.
- SIGTERM while 50 slow deliveries are in flight: all 50 complete and their deferred work runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kiket_sdk.auth import generate_signature

SECRET = "replica-secret"

REPLICA_APP = textwrap.dedent(
    """
    import asyncio, os, random
    import redis.asyncio as redis
    from kiket_sdk import HandlerContext, KiketSDK, RedisDeliveryStore, allow

    sdk = KiketSDK(
        webhook_secret=os.environ["KIKET_WEBHOOK_SECRET"],
        extension_id=os.environ["EXT_ID"],
        delivery_store=RedisDeliveryStore.from_url(os.environ["KIKET_TEST_REDIS_URL"]),
        telemetry_enabled=False,
    )
    counters = redis.from_url(os.environ["KIKET_TEST_REDIS_URL"])

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: dict, ctx: HandlerContext):
        await asyncio.sleep(random.uniform(0, 0.05))
        runs = await counters.incr(f"{os.environ['EXT_ID']}:runs:{event['id']}")
        return allow(data={"id": event["id"], "pid": os.getpid(), "runs": runs})
    """
)

SLOW_APP = textwrap.dedent(
    """
    import asyncio, os
    from kiket_sdk import HandlerContext, KiketSDK, allow, pending

    sdk = KiketSDK(webhook_secret=os.environ["KIKET_WEBHOOK_SECRET"], telemetry_enabled=False)
    LOG = os.environ["DEFERRED_LOG"]

    async def finish(event_id):
        await asyncio.sleep(0.5)
        with open(LOG, "a") as fh:
            fh.write(event_id + "\\n")

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: dict, ctx: HandlerContext):
        await asyncio.sleep(1.5)
        ctx.defer(finish, event["id"])
        return pending("working on it")
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(app_dir: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app:sdk", "--port", str(port), "--log-level", "warning"],
        cwd=app_dir,
        env={**os.environ, **env, "KIKET_WEBHOOK_SECRET": SECRET},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=0.5).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("replica did not start")


@pytest.fixture
def replica_dir(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(REPLICA_APP)
    return tmp_path


def _signed(event_id: str, age: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"id": event_id, "issue": {"id": 1, "title": "t"}}).encode()
    sig = generate_signature(SECRET, body, timestamp=int(time.time()) - age)
    return body, {
        "content-type": "application/json",
        "x-kiket-signature": sig["signature"],
        "x-kiket-timestamp": sig["timestamp"],
    }


@pytest.fixture
def replicas(replica_dir: Path, redis_url: str) -> Iterator[tuple[list[str], str]]:
    ext_id = f"com.example.replicas.{uuid.uuid4().hex[:8]}"
    env = {"KIKET_TEST_REDIS_URL": redis_url, "EXT_ID": ext_id}
    started = [_start(replica_dir, env) for _ in range(2)]
    try:
        yield [url for _, url in started], ext_id
    finally:
        for proc, _ in started:
            proc.terminate()
            proc.wait(15)


@pytest.mark.slow
def test_two_replicas_run_each_event_exactly_once(
    replicas: tuple[list[str], str], redis_url: str
) -> None:
    urls, ext_id = replicas
    events = [f"evt-{uuid.uuid4().hex}" for _ in range(200)]
    deliveries = [(e, copy) for e in events for copy in range(3)]
    random.Random(7).shuffle(deliveries)

    async def run() -> list[tuple[str, httpx.Response]]:
        limits = httpx.Limits(max_connections=40)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            gate = asyncio.Semaphore(40)

            async def send(event_id: str, copy: int) -> tuple[str, httpx.Response]:
                body, headers = _signed(event_id, age=copy)  # a redelivery is signed anew
                async with gate:
                    url = urls[(hash(event_id) + copy) % 2]
                    r = await client.post(
                        f"{url}/v/v1/webhooks/issue.created", content=body, headers=headers
                    )
                    return event_id, r

            return await asyncio.gather(*(send(e, c) for e, c in deliveries))

    results = asyncio.run(run())
    assert all(r.status_code < 500 for _, r in results), [r.text for _, r in results][:3]

    import redis as sync_redis

    counters = sync_redis.from_url(redis_url)
    runs = {e: int(counters.get(f"{ext_id}:runs:{e}") or 0) for e in events}
    assert set(runs.values()) == {1}, "some event ran its handler more than once (or never)"

    by_event: dict[str, list[httpx.Response]] = {}
    for event_id, response in results:
        by_event.setdefault(event_id, []).append(response)
    duplicates = 0
    for responses in by_event.values():
        ok = [r for r in responses if r.status_code == 200]
        assert len({r.content for r in ok}) == 1, "duplicates must carry the stored answer"
        originals = [r for r in ok if r.headers.get("x-kiket-duplicate") != "true"]
        assert len(originals) == 1
        duplicates += len(ok) - 1
    assert duplicates > 0
    pids = {json.loads(r.content)["metadata"]["pid"] for _, r in results if r.status_code == 200}
    assert len(pids) == 2, "both replicas served deliveries"


@pytest.mark.slow
def test_sigterm_finishes_in_flight_deliveries_and_deferred_work(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(SLOW_APP)
    log = tmp_path / "deferred.log"
    proc, url = _start(tmp_path, {"DEFERRED_LOG": str(log)})
    events = [f"evt-{i}-{uuid.uuid4().hex[:6]}" for i in range(50)]

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=60), timeout=30) as c:
            tasks = [
                asyncio.create_task(
                    c.post(f"{url}/v/v1/webhooks/issue.created", content=b, headers=h)
                )
                for b, h in (_signed(e, 0) for e in events)
            ]
            await asyncio.sleep(0.7)  # all 50 are inside their 1.5 s handler now
            proc.send_signal(signal.SIGTERM)
            return await asyncio.gather(*tasks)

    try:
        responses = asyncio.run(run())
        # uvicorn finishes its graceful shutdown, then re-raises SIGTERM (exit -15)
        assert proc.wait(30) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert [r.status_code for r in responses] == [200] * 50
    assert {json.loads(r.content)["status"] for r in responses} == {"pending"}
    assert sorted(log.read_text().split()) == sorted(events)
