"""Claim + complete throughput of the delivery stores, against a no-op baseline.

One operation = ``claim`` of a fresh key with a fresh proof binding + ``complete`` with a small
response: what the ledger adds to every proven delivery.

    .venv/bin/python bench/delivery_store.py
    .venv/bin/python bench/delivery_store.py --redis-url redis://127.0.0.1:6379/0 -n 20000 -c 32

The Redis URL defaults to ``KIKET_REDIS_URL``; without one the Redis row is skipped. Keys go
under a fresh prefix that is deleted afterwards. Ratios are ops/s relative to the baseline
(an awaitable that does nothing), so they show the store's cost per delivery.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid

from kiket_sdk.stores import (
    Claim,
    ClaimState,
    DeliveryStore,
    MemoryDeliveryStore,
    ProofBinding,
    RedisDeliveryStore,
    StoredResponse,
)

RESPONSE = StoredResponse(200, b'{"ok":true,"message":"handled"}')
LEASE = 30.0
PROOF_TTL = 601.0
RESULT_TTL = 24 * 3600.0


class NoopStore:
    """The baseline: the same awaits, no work."""

    async def claim(self, key: str, *, lease: float, binding: ProofBinding | None = None) -> Claim:
        return Claim(ClaimState.CLAIMED, token="t")

    async def complete(self, key: str, token: str, response: StoredResponse, *, ttl: float) -> bool:
        return True


async def run(store: DeliveryStore | NoopStore, operations: int, concurrency: int) -> float:
    """Ops/s of ``operations`` claim+complete pairs spread over ``concurrency`` tasks."""
    run_id = uuid.uuid4().hex

    async def worker(worker_id: int) -> None:
        for number in range(worker_id, operations, concurrency):
            key = f"{run_id}:{number}"
            binding = ProofBinding(f"proof:{key}", "route-and-body", PROOF_TTL)
            claim = await store.claim(key, lease=LEASE, binding=binding)
            assert claim.state is ClaimState.CLAIMED
            assert claim.token is not None
            await store.complete(key, claim.token, RESPONSE, ttl=RESULT_TTL)

    started = time.perf_counter()
    await asyncio.gather(*(worker(index) for index in range(concurrency)))
    return operations / (time.perf_counter() - started)


async def delete_prefix(url: str, prefix: str) -> None:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(url)
    try:
        batch: list[bytes] = []
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                await client.delete(*batch)
                batch.clear()
        if batch:
            await client.delete(*batch)
    finally:
        await client.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", "--operations", type=int, default=10_000)
    parser.add_argument("-c", "--concurrency", type=int, default=1)
    parser.add_argument("--redis-url", default=os.environ.get("KIKET_REDIS_URL", ""))
    args = parser.parse_args()
    operations = args.operations
    concurrency = args.concurrency

    results: list[tuple[str, float]] = []
    results.append(("no-op baseline", await run(NoopStore(), operations, concurrency)))
    memory = MemoryDeliveryStore(max_entries=max(operations, 1))
    results.append(("MemoryDeliveryStore", await run(memory, operations, concurrency)))
    await memory.aclose()
    if args.redis_url:
        prefix = f"kiket-bench:{uuid.uuid4().hex}:"
        redis_store = RedisDeliveryStore.from_url(args.redis_url, prefix=prefix)
        try:
            results.append(("RedisDeliveryStore", await run(redis_store, operations, concurrency)))
        finally:
            await redis_store.aclose()
            await delete_prefix(args.redis_url, prefix)

    baseline = results[0][1]
    print(f"claim+complete, {operations} ops, concurrency {concurrency}")
    print(f"{'store':<22}{'ops/s':>14}{'vs baseline':>14}")
    for name, rate in results:
        print(f"{name:<22}{rate:>14,.0f}{rate / baseline:>13.4f}x")
    if len(results) == 3:
        print(f"Memory is {results[1][1] / results[2][1]:.1f}x the throughput of Redis")
    else:
        print("(Redis skipped: pass --redis-url or set KIKET_REDIS_URL)")


if __name__ == "__main__":
    asyncio.run(main())
