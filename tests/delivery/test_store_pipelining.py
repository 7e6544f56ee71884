"""Automatic pipelining of the Redis store: shared round trips, separate answers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio

from kiket_sdk._stores import (
    ClaimState,
    DeliveryStoreError,
    ProofBinding,
    RedisDeliveryStore,
    StoredResponse,
)

pytestmark = pytest.mark.redis


class _PipelineCounter:
    """Counts the pipelines a client opens (the calls still go to the real server)."""

    def __init__(self, client: redis.asyncio.Redis) -> None:
        self.count = 0
        original = client.pipeline

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(*args, **kwargs)

        client.pipeline = counting  # type: ignore[method-assign]


async def test_concurrent_claims_share_round_trips_and_get_their_own_answers(
    redis_url: str, redis_prefix: str
) -> None:
    store = RedisDeliveryStore.from_url(redis_url, prefix=redis_prefix)
    counter = _PipelineCounter(store._client)
    try:
        claims = await asyncio.gather(*(store.claim(f"evt_{i}", lease=30) for i in range(100)))
        assert [c.state for c in claims] == [ClaimState.CLAIMED] * 100
        assert len({c.token for c in claims}) == 100
        assert 1 <= counter.count < 10  # 100 claims, a handful of round trips
        done = await asyncio.gather(
            *(
                store.complete(f"evt_{i}", c.token or "", StoredResponse(200, b"%d" % i), ttl=60)
                for i, c in enumerate(claims)
            )
        )
        assert done == [True] * 100
        again = await asyncio.gather(*(store.claim(f"evt_{i}", lease=30) for i in range(100)))
        assert [c.response.body if c.response else None for c in again] == [
            b"%d" % i for i in range(100)
        ]
    finally:
        await store.aclose()


async def test_a_server_that_forgot_the_scripts_is_taught_them_again(
    redis_url: str, redis_prefix: str
) -> None:
    store = RedisDeliveryStore.from_url(redis_url, prefix=redis_prefix)
    admin = redis.asyncio.Redis.from_url(redis_url)
    try:
        await store.claim("warm", lease=30)
        await admin.script_flush()
        claims = await asyncio.gather(*(store.claim(f"k{i}", lease=30) for i in range(20)))
        assert {c.state for c in claims} == {ClaimState.CLAIMED}
    finally:
        await store.aclose()
        await admin.aclose()


async def test_one_failing_call_fails_alone(redis_url: str, redis_prefix: str) -> None:
    store = RedisDeliveryStore.from_url(redis_url, prefix=redis_prefix)
    admin = redis.asyncio.Redis.from_url(redis_url)
    try:
        await admin.rpush(store.run_key("a-list"), b"x")  # GET on a list: WRONGTYPE
        results = await asyncio.gather(
            *(store.claim(key, lease=30) for key in ("ok-1", "a-list", "ok-2")),
            return_exceptions=True,
        )
        assert isinstance(results[1], redis.ResponseError)
        assert [r.state for r in (results[0], results[2])] == [ClaimState.CLAIMED] * 2  # type: ignore[union-attr]
    finally:
        await store.aclose()
        await admin.aclose()


async def test_a_cancelled_caller_does_not_disturb_its_batch(
    redis_url: str, redis_prefix: str
) -> None:
    store = RedisDeliveryStore.from_url(redis_url, prefix=redis_prefix)
    try:
        binding = ProofBinding("proof", "fingerprint", 60)
        doomed = asyncio.ensure_future(store.claim("cancelled", lease=30, binding=binding))
        others = [asyncio.ensure_future(store.claim(f"kept-{i}", lease=30)) for i in range(5)]
        await asyncio.sleep(0)
        doomed.cancel()
        results = await asyncio.gather(*others)
        assert {r.state for r in results} == {ClaimState.CLAIMED}
        # the cancelled claim may or may not have reached Redis; the store answers either way
        again = await store.claim("cancelled", lease=30, binding=binding)
        assert again.state in (ClaimState.CLAIMED, ClaimState.IN_PROGRESS)
    finally:
        await store.aclose()


async def test_a_dead_server_fails_every_call_of_the_batch(redis_server: Any) -> None:
    server = redis_server()
    store = RedisDeliveryStore.from_url(server.url)
    try:
        await store.claim("warm", lease=30)
        server.kill()
        results = await asyncio.gather(
            *(store.claim(f"k{i}", lease=30) for i in range(10)), return_exceptions=True
        )
        assert all(isinstance(r, Exception) for r in results)
    finally:
        await store.aclose()


async def test_a_damaged_proof_record_is_an_error_not_a_refusal(
    redis_url: str, redis_prefix: str
) -> None:
    # A refusal (401) is permanent for the platform; a damaged record must fail the delivery
    # as "ledger unavailable" (503, retried) instead.
    store = RedisDeliveryStore.from_url(redis_url, prefix=redis_prefix)
    admin = redis.asyncio.Redis.from_url(redis_url)
    try:
        await admin.set(store.proof_key("damaged"), b"garbage")
        with pytest.raises(DeliveryStoreError):
            await store.claim("run", lease=30, binding=ProofBinding("damaged", "f", 60))
        assert await admin.get(store.run_key("run")) is None  # nothing claimed
    finally:
        await store.aclose()
        await admin.aclose()
