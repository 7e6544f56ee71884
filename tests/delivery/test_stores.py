"""Delivery stores: `MemoryDeliveryStore` and `RedisDeliveryStore` (against a real redis-server).

Timing is never asserted tightly: short leases and ttls (0.2 s) are waited out with generous
sleeps and only the resulting states are checked; "raises promptly" allows several seconds.
"""

from __future__ import annotations

import asyncio
import doctest
import logging
import math
import signal
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import redis
import redis.asyncio
import redis.asyncio.connection
import redis.asyncio.retry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kiket_sdk._stores
import kiket_sdk._stores.base
import kiket_sdk._stores.memory
import kiket_sdk._stores.redis
from kiket_sdk._exceptions import ConfigurationError
from kiket_sdk._stores import (
    DEFAULT_RESULT_TTL,
    Claim,
    ClaimState,
    DeliveryStore,
    DeliveryStoreError,
    MemoryDeliveryStore,
    ProofBinding,
    RedisDeliveryStore,
    StoredResponse,
    delivery_store_from_env,
)

from .conftest import RedisServer, delete_prefix

LEASE = 30.0
SHORT = 0.2
PAST_SHORT = 0.5  # sleep this long to be well past SHORT, also on a loaded machine
PROMPTLY = 6.0  # seconds within which a call to an unreachable server must have raised
RESPONSE = StoredResponse(202, bytes(range(256)) + b'{"ok":true}', "application/x-kiket; v=1")
OTHER_RESPONSE = StoredResponse(500, b"late")
ARBITRARY_KEYS = {
    "empty": "",
    "nul": "\x00",
    "nuls": "a\x00b\x00",
    "colons": "run:proof:x:",
    "layout lookalike": "kiket:delivery:run:evt",
    "glob characters": "*?[ab]\\",
    "hash tag": "{tag}x",
    "whitespace": " \t\r\n ",
    "unicode": "évènement-🚀-事件-\u200b",
    "lone surrogate": "\ud800x\udfff",
    "10 KB": "k" * 10_240,
    "10 KB unicode": "🚀" * 2_560,
}

ServerFactory = Callable[..., RedisServer]


def new_key() -> str:
    return f"evt_{uuid.uuid4().hex}"


def new_binding(
    fingerprint: str = "fp-1", *, key: str | None = None, ttl: float = LEASE
) -> ProofBinding:
    return ProofBinding(key or f"proof_{uuid.uuid4().hex}", fingerprint, ttl)


async def claimed(
    store: DeliveryStore, key: str, lease: float = LEASE, binding: ProofBinding | None = None
) -> str:
    claim = await store.claim(key, lease=lease, binding=binding)
    assert claim.state is ClaimState.CLAIMED
    assert claim.token
    assert claim.response is None
    return claim.token


async def state(store: DeliveryStore, key: str) -> ClaimState:
    return (await store.claim(key, lease=LEASE)).state


# --- both stores: claim / complete / release -------------------------------------------------


async def test_store_satisfies_the_protocol(store: DeliveryStore) -> None:
    assert isinstance(store, DeliveryStore)


async def test_claim_then_in_progress_then_done_with_the_stored_response(
    store: DeliveryStore,
) -> None:
    key = new_key()
    token = await claimed(store, key)

    assert await store.claim(key, lease=LEASE) == Claim(ClaimState.IN_PROGRESS)
    assert await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL) is True

    done = await store.claim(key, lease=LEASE)
    assert done == Claim(ClaimState.DONE, response=RESPONSE)
    assert await store.claim(key, lease=LEASE) == done  # stays done


async def test_keys_are_independent(store: DeliveryStore) -> None:
    first, second = new_key(), new_key()
    await claimed(store, first)
    await claimed(store, second)


async def test_tokens_are_unique(store: DeliveryStore) -> None:
    tokens = {await claimed(store, new_key()) for _ in range(20)}
    assert len(tokens) == 20


async def test_only_the_owner_can_complete(store: DeliveryStore) -> None:
    key = new_key()
    token = await claimed(store, key)

    assert await store.complete(key, "not-the-token", RESPONSE, ttl=DEFAULT_RESULT_TTL) is False
    assert await state(store, key) is ClaimState.IN_PROGRESS

    assert await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL) is True
    assert await store.claim(key, lease=LEASE) == Claim(ClaimState.DONE, response=RESPONSE)


async def test_complete_when_the_record_vanished_stores_the_response(
    store: DeliveryStore,
) -> None:
    # The claim is gone (here: its lease ran out; in Redis also a restart without persistence
    # or an eviction) and nobody claimed since: the owner's answer is still recorded.
    key = new_key()
    token = await claimed(store, key, lease=SHORT)
    await asyncio.sleep(PAST_SHORT)

    assert await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL) is True
    assert await store.claim(key, lease=LEASE) == Claim(ClaimState.DONE, response=RESPONSE)


async def test_complete_of_a_key_never_claimed_stores_the_response(store: DeliveryStore) -> None:
    key = new_key()
    assert await store.complete(key, "whatever", RESPONSE, ttl=DEFAULT_RESULT_TTL) is True
    assert await store.claim(key, lease=LEASE) == Claim(ClaimState.DONE, response=RESPONSE)


async def test_complete_when_another_owner_holds_the_claim_overwrites_nothing(
    store: DeliveryStore,
) -> None:
    key = new_key()
    stale = await claimed(store, key, lease=SHORT)
    await asyncio.sleep(PAST_SHORT)
    fresh = await claimed(store, key)  # the crashed owner's claim ran out: another delivery

    assert await store.complete(key, stale, OTHER_RESPONSE, ttl=DEFAULT_RESULT_TTL) is False
    assert await state(store, key) is ClaimState.IN_PROGRESS
    assert await store.renew(key, fresh, lease=LEASE) is True  # still the new owner's claim

    assert await store.complete(key, fresh, RESPONSE, ttl=DEFAULT_RESULT_TTL) is True
    assert await store.claim(key, lease=LEASE) == Claim(ClaimState.DONE, response=RESPONSE)


async def test_second_complete_does_not_overwrite(store: DeliveryStore) -> None:
    key = new_key()
    token = await claimed(store, key)
    assert await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL) is True
    assert await store.complete(key, token, OTHER_RESPONSE, ttl=DEFAULT_RESULT_TTL) is False
    assert await store.complete(key, "other", OTHER_RESPONSE, ttl=DEFAULT_RESULT_TTL) is False
    assert await store.claim(key, lease=LEASE) == Claim(ClaimState.DONE, response=RESPONSE)


async def test_only_the_owner_can_release(store: DeliveryStore) -> None:
    key = new_key()
    token = await claimed(store, key)

    await store.release(key, "not-the-token")
    assert await state(store, key) is ClaimState.IN_PROGRESS

    await store.release(key, token)
    await claimed(store, key)


async def test_release_lets_a_new_claim_succeed_and_the_old_token_is_void(
    store: DeliveryStore,
) -> None:
    key = new_key()
    old = await claimed(store, key)
    await store.release(key, old)
    new = await claimed(store, key)
    assert new != old

    await store.release(key, old)  # the previous owner cannot drop the new claim ...
    assert await store.renew(key, old, lease=LEASE) is False  # ... nor renew it ...
    assert await store.complete(key, old, RESPONSE, ttl=DEFAULT_RESULT_TTL) is False  # ... nor end
    assert await state(store, key) is ClaimState.IN_PROGRESS

    assert await store.complete(key, new, RESPONSE, ttl=DEFAULT_RESULT_TTL) is True
    assert await store.claim(key, lease=LEASE) == Claim(ClaimState.DONE, response=RESPONSE)


async def test_release_after_complete_keeps_the_response(store: DeliveryStore) -> None:
    key = new_key()
    token = await claimed(store, key)
    await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL)
    await store.release(key, token)
    assert await state(store, key) is ClaimState.DONE


async def test_release_of_a_free_key_does_nothing(store: DeliveryStore) -> None:
    key = new_key()
    await store.release(key, "whatever")
    await claimed(store, key)


async def test_stored_response_expires_after_its_ttl(store: DeliveryStore) -> None:
    key = new_key()
    token = await claimed(store, key)
    await store.complete(key, token, RESPONSE, ttl=SHORT)
    assert await state(store, key) is ClaimState.DONE
    await asyncio.sleep(PAST_SHORT)
    await claimed(store, key)


# --- both stores: leases -----------------------------------------------------------------------


async def test_claim_expires_after_its_lease(store: DeliveryStore) -> None:
    key = new_key()
    stale = await claimed(store, key, lease=SHORT)
    await asyncio.sleep(PAST_SHORT)

    fresh = await claimed(store, key)  # the crashed owner's claim is gone
    assert fresh != stale
    assert await store.renew(key, stale, lease=LEASE) is False


async def test_renew_extends_the_claim_past_its_original_lease(store: DeliveryStore) -> None:
    key = new_key()
    token = await claimed(store, key, lease=SHORT)
    assert await store.renew(key, token, lease=LEASE) is True
    await asyncio.sleep(PAST_SHORT)  # past the original lease

    assert await state(store, key) is ClaimState.IN_PROGRESS
    assert await store.renew(key, token, lease=LEASE) is True
    assert await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL) is True


async def test_renew_can_shorten_the_lease(store: DeliveryStore) -> None:
    key = new_key()
    token = await claimed(store, key)
    assert await store.renew(key, token, lease=SHORT) is True
    await asyncio.sleep(PAST_SHORT)
    await claimed(store, key)


async def test_renew_by_a_non_owner_fails_and_changes_nothing(store: DeliveryStore) -> None:
    key = new_key()
    token = await claimed(store, key, lease=SHORT)
    assert await store.renew(key, "not-the-token", lease=LEASE) is False
    await asyncio.sleep(PAST_SHORT)  # the lease was not extended
    await claimed(store, key)
    assert await store.renew(key, token, lease=LEASE) is False


async def test_renew_of_a_free_or_done_key_fails(store: DeliveryStore) -> None:
    key = new_key()
    assert await store.renew(key, "whatever", lease=LEASE) is False
    token = await claimed(store, key)
    await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL)
    assert await store.renew(key, token, lease=LEASE) is False
    assert await store.claim(key, lease=LEASE) == Claim(ClaimState.DONE, response=RESPONSE)


# --- both stores: proof bindings ---------------------------------------------------------------


async def test_binding_with_the_same_fingerprint_is_a_retry_of_the_same_delivery(
    store: DeliveryStore,
) -> None:
    key, binding = new_key(), new_binding()
    token = await claimed(store, key, binding=binding)

    again = ProofBinding(binding.key, binding.fingerprint, binding.ttl)
    assert await store.claim(key, lease=LEASE, binding=again) == Claim(ClaimState.IN_PROGRESS)
    await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL)
    assert await store.claim(key, lease=LEASE, binding=again) == Claim(
        ClaimState.DONE, response=RESPONSE
    )


async def test_binding_with_the_same_fingerprint_may_claim_after_a_release(
    store: DeliveryStore,
) -> None:
    key, binding = new_key(), new_binding()
    token = await claimed(store, key, binding=binding)
    await store.release(key, token)  # the handler failed: the platform retries, same bytes
    await claimed(store, key, binding=binding)


async def test_binding_with_another_fingerprint_is_refused_and_claims_nothing(
    store: DeliveryStore,
) -> None:
    first, second = new_key(), new_key()
    binding = new_binding("route-a/body-a")
    await claimed(store, first, binding=binding)

    reused = ProofBinding(binding.key, "route-b/body-b", LEASE)
    assert await store.claim(second, lease=LEASE, binding=reused) == Claim(ClaimState.PROOF_REUSED)
    assert await store.claim(second, lease=LEASE, binding=reused) == Claim(ClaimState.PROOF_REUSED)
    await claimed(store, second)  # nothing was claimed for the refused delivery
    assert await state(store, first) is ClaimState.IN_PROGRESS  # nor the first one touched


async def test_binding_is_checked_before_the_run_record(store: DeliveryStore) -> None:
    key, binding = new_key(), new_binding("a")
    token = await claimed(store, key, binding=binding)
    await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL)

    reused = ProofBinding(binding.key, "b", LEASE)
    assert await store.claim(key, lease=LEASE, binding=reused) == Claim(ClaimState.PROOF_REUSED)


async def test_binding_is_kept_also_when_the_run_is_already_taken(store: DeliveryStore) -> None:
    key = new_key()
    await claimed(store, key)
    binding = new_binding("a")
    assert (await store.claim(key, lease=LEASE, binding=binding)).state is ClaimState.IN_PROGRESS
    reused = ProofBinding(binding.key, "b", LEASE)
    assert await store.claim(new_key(), lease=LEASE, binding=reused) == Claim(
        ClaimState.PROOF_REUSED
    )


async def test_binding_expires_after_its_ttl(store: DeliveryStore) -> None:
    binding = new_binding("a", ttl=SHORT)
    await claimed(store, new_key(), binding=binding)
    assert (
        await store.claim(new_key(), lease=LEASE, binding=ProofBinding(binding.key, "b", LEASE))
    ).state is ClaimState.PROOF_REUSED
    await asyncio.sleep(PAST_SHORT)

    rebound = ProofBinding(binding.key, "b", LEASE)
    await claimed(store, new_key(), binding=rebound)  # the old proof is void: "b" binds it now
    assert (
        await store.claim(new_key(), lease=LEASE, binding=ProofBinding(binding.key, "a", LEASE))
    ).state is ClaimState.PROOF_REUSED


async def test_bindings_and_run_records_do_not_collide(store: DeliveryStore) -> None:
    name = new_key()
    await claimed(store, name, binding=ProofBinding(name, "fingerprint", LEASE))
    await claimed(store, f"{name}-2", binding=ProofBinding(f"{name}-x", name, LEASE))


# --- both stores: wait -------------------------------------------------------------------------


async def test_wait_returns_done_when_another_task_completes(store: DeliveryStore) -> None:
    key = new_key()
    token = await claimed(store, key)
    waiter = asyncio.create_task(store.wait(key, timeout=30, poll=0.01))
    await asyncio.sleep(0.1)
    assert not waiter.done()

    await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL)
    assert await waiter == Claim(ClaimState.DONE, response=RESPONSE)


async def test_wait_times_out_as_in_progress(store: DeliveryStore) -> None:
    key = new_key()
    await claimed(store, key)
    assert await store.wait(key, timeout=SHORT, poll=0.02) == Claim(ClaimState.IN_PROGRESS)
    assert await store.wait(key, timeout=0) == Claim(ClaimState.IN_PROGRESS)


async def test_wait_claims_the_key_when_the_owner_releases(store: DeliveryStore) -> None:
    key = new_key()
    token = await claimed(store, key)
    waiter = asyncio.create_task(store.wait(key, timeout=30, poll=0.01))
    await asyncio.sleep(0.05)
    await store.release(key, token)

    claim = await waiter
    assert claim.state is ClaimState.CLAIMED
    assert claim.token not in (None, token)
    assert await state(store, key) is ClaimState.IN_PROGRESS


async def test_wait_claims_the_key_when_the_lease_runs_out_with_its_own_lease(
    store: DeliveryStore,
) -> None:
    key = new_key()
    await claimed(store, key, lease=SHORT)
    claim = await store.wait(key, timeout=30, poll=0.02, lease=SHORT)
    assert claim.state is ClaimState.CLAIMED
    await asyncio.sleep(PAST_SHORT)  # the waiter's claim has the lease it asked for
    await claimed(store, key)


async def test_wait_claims_a_free_key_at_once(store: DeliveryStore) -> None:
    claim = await store.wait(new_key(), timeout=0)
    assert claim.state is ClaimState.CLAIMED


async def test_concurrent_waiters_get_one_claim_when_the_owner_releases(
    store: DeliveryStore,
) -> None:
    key = new_key()
    token = await claimed(store, key)
    waiters = [
        asyncio.create_task(store.wait(key, timeout=SHORT * 3, poll=0.01)) for _ in range(20)
    ]
    await asyncio.sleep(0.05)
    await store.release(key, token)
    states = [claim.state for claim in await asyncio.gather(*waiters)]
    assert states.count(ClaimState.CLAIMED) == 1
    assert states.count(ClaimState.IN_PROGRESS) == 19


@pytest.mark.parametrize(("timeout", "poll"), [(-1, 0.05), (1, 0), (1, -1), (math.nan, 0.05)])
async def test_wait_refuses_bad_arguments(
    store: DeliveryStore, timeout: float, poll: float
) -> None:
    with pytest.raises(ValueError):
        await store.wait(new_key(), timeout=timeout, poll=poll)


@pytest.mark.parametrize("ttl", [0, -1, math.nan, math.inf])
async def test_bad_leases_and_ttls_are_refused(store: DeliveryStore, ttl: float) -> None:
    key = new_key()
    with pytest.raises(ValueError, match="ttl"):
        await store.claim(key, lease=ttl)
    with pytest.raises(ValueError, match="ttl"):
        await store.claim(key, lease=LEASE, binding=new_binding(ttl=ttl))
    token = await claimed(store, key)  # nothing was claimed (nor bound) by the refused calls
    with pytest.raises(ValueError, match="ttl"):
        await store.renew(key, token, lease=ttl)
    with pytest.raises(ValueError, match="ttl"):
        await store.complete(key, token, RESPONSE, ttl=ttl)
    assert await store.complete(key, token, RESPONSE, ttl=LEASE) is True


# --- both stores: concurrency ------------------------------------------------------------------


async def test_200_concurrent_claims_have_one_winner(store: DeliveryStore) -> None:
    key = new_key()
    claims = await asyncio.gather(*(store.claim(key, lease=LEASE) for _ in range(200)))
    states = [claim.state for claim in claims]
    assert states.count(ClaimState.CLAIMED) == 1
    assert states.count(ClaimState.IN_PROGRESS) == 199


async def test_200_concurrent_claims_with_one_proof_and_200_fingerprints_have_one_winner(
    store: DeliveryStore,
) -> None:
    proof = f"proof_{uuid.uuid4().hex}"
    claims = await asyncio.gather(
        *(
            store.claim(new_key(), lease=LEASE, binding=ProofBinding(proof, f"fp-{n}", LEASE))
            for n in range(200)
        )
    )
    states = [claim.state for claim in claims]
    assert states.count(ClaimState.CLAIMED) == 1
    assert states.count(ClaimState.PROOF_REUSED) == 199


async def test_concurrent_retries_of_10_fingerprints_of_one_proof_one_fingerprint_wins(
    store: DeliveryStore,
) -> None:
    # 10 different deliveries (own run key and fingerprint) claim with the same proof, 20 times
    # each, all at once: exactly one fingerprint gets through -- once claimed, 19 times in
    # progress -- and the 180 others are refused.
    proof = f"proof_{uuid.uuid4().hex}"
    runs = {f"fp-{n}": new_key() for n in range(10)}
    calls = [
        (
            fingerprint,
            store.claim(key, lease=LEASE, binding=ProofBinding(proof, fingerprint, LEASE)),
        )
        for fingerprint, key in runs.items()
        for _ in range(20)
    ]
    claims = await asyncio.gather(*(call for _, call in calls))
    through = {
        fp
        for (fp, _), claim in zip(calls, claims, strict=True)
        if claim.state is not ClaimState.PROOF_REUSED
    }
    assert len(through) == 1
    states = [claim.state for claim in claims]
    assert states.count(ClaimState.CLAIMED) == 1
    assert states.count(ClaimState.IN_PROGRESS) == 19
    assert states.count(ClaimState.PROOF_REUSED) == 180


async def test_aclose_can_be_called_twice(store: DeliveryStore) -> None:
    await store.aclose()
    await store.aclose()


# --- both stores: arbitrary keys ---------------------------------------------------------------


async def exercise_keys(store: DeliveryStore, key: str, other: str, proof: str) -> None:
    """``key`` and ``other`` (distinct) are records of their own; ``proof`` binds."""
    token = await claimed(store, key, binding=ProofBinding(proof, key, LEASE))
    assert await state(store, key) is ClaimState.IN_PROGRESS
    assert await store.claim(
        other, lease=LEASE, binding=ProofBinding(proof, other, LEASE)
    ) == Claim(ClaimState.PROOF_REUSED)
    other_token = await claimed(store, other)
    assert await store.renew(key, token, lease=LEASE) is True
    assert await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL) is True
    assert await store.claim(key, lease=LEASE, binding=ProofBinding(proof, key, LEASE)) == Claim(
        ClaimState.DONE, response=RESPONSE
    )
    assert await state(store, other) is ClaimState.IN_PROGRESS
    await store.release(other, other_token)
    await claimed(store, other)


@pytest.mark.parametrize("key", list(ARBITRARY_KEYS.values()), ids=list(ARBITRARY_KEYS))
async def test_any_str_is_a_key(store: DeliveryStore, key: str) -> None:
    await exercise_keys(store, key, key + "\x00", key)
    if key:  # a key's prefix is a key of its own
        await claimed(store, key[:-1])


@pytest.mark.parametrize("kind", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    keys=st.lists(
        st.one_of(
            st.text(alphabet=st.characters(exclude_categories=())),  # surrogates and NUL too
            st.builds(str.__mul__, st.characters(exclude_categories=()), st.integers(1, 12_000)),
        ),
        min_size=3,
        max_size=3,
        unique=True,
    )
)
def test_arbitrary_keys(request: pytest.FixtureRequest, kind: str, keys: list[str]) -> None:
    key, other, proof = keys
    if kind == "memory":
        asyncio.run(exercise_keys(MemoryDeliveryStore(), key, other, proof))
        return
    url: str = request.getfixturevalue("redis_url")
    prefix = f"kiket-test:{uuid.uuid4().hex}:"

    async def run() -> None:
        store = RedisDeliveryStore.from_url(url, prefix=prefix)
        try:
            await exercise_keys(store, key, other, proof)
        finally:
            await store.aclose()
            await delete_prefix(url, prefix)

    asyncio.run(run())


# --- MemoryDeliveryStore -----------------------------------------------------------------------


@pytest.mark.parametrize("max_entries", [0, -1, True, 1.5])
def test_memory_store_refuses_a_bad_bound(max_entries: object) -> None:
    with pytest.raises(ValueError, match="max_entries"):
        MemoryDeliveryStore(max_entries=max_entries)  # type: ignore[arg-type]


async def test_memory_store_evicts_the_oldest_done_entry_before_claims() -> None:
    store = MemoryDeliveryStore(max_entries=3)
    done_old, done_new, running = "a", "b", "c"
    for key in (done_old, done_new):
        await store.complete(key, await claimed(store, key), RESPONSE, ttl=DEFAULT_RESULT_TTL)
    await claimed(store, running)
    assert len(store) == 3

    await claimed(store, "d")  # full: the oldest done entry goes

    assert len(store) == 3
    assert await state(store, running) is ClaimState.IN_PROGRESS
    assert await state(store, done_new) is ClaimState.DONE
    assert await state(store, "d") is ClaimState.IN_PROGRESS
    assert await state(store, done_old) is ClaimState.CLAIMED  # forgotten


async def test_memory_store_evicts_expired_entries_first() -> None:
    store = MemoryDeliveryStore(max_entries=3)
    await claimed(store, "short", lease=SHORT)
    await store.complete("done", await claimed(store, "done"), RESPONSE, ttl=DEFAULT_RESULT_TTL)
    await claimed(store, "running")
    await asyncio.sleep(PAST_SHORT)

    await claimed(store, "new")

    assert len(store) == 3
    assert await state(store, "done") is ClaimState.DONE
    assert await state(store, "running") is ClaimState.IN_PROGRESS
    assert await state(store, "new") is ClaimState.IN_PROGRESS


async def test_memory_store_full_of_claims_evicts_the_oldest_claim_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryDeliveryStore(max_entries=2)
    await claimed(store, "first")
    await claimed(store, "second")
    with caplog.at_level(logging.WARNING, logger="kiket_sdk.stores"):
        await claimed(store, "third")

    assert len(store) == 2
    assert "max_entries=2" in caplog.text
    assert await state(store, "second") is ClaimState.IN_PROGRESS
    assert await state(store, "third") is ClaimState.IN_PROGRESS


async def test_memory_store_complete_makes_room_too() -> None:
    store = MemoryDeliveryStore(max_entries=2)
    await claimed(store, "a")
    await claimed(store, "b")
    assert await store.complete("c", "whatever", RESPONSE, ttl=DEFAULT_RESULT_TTL) is True
    assert len(store) == 2


async def test_memory_store_stays_bounded_under_churn() -> None:
    store = MemoryDeliveryStore(max_entries=50)
    for number in range(1000):
        key = f"evt_{number}"
        token = await claimed(store, key, binding=ProofBinding(f"proof_{number}", key, LEASE))
        if number % 3:
            await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL)
        assert len(store) <= 50
        assert len(store._bindings) <= 50


async def test_memory_store_bounds_the_bindings() -> None:
    store = MemoryDeliveryStore(max_entries=3)
    for proof in "abcd":
        await claimed(store, new_key(), binding=ProofBinding(proof, "fp", LEASE))
    for proof in "cd":  # kept
        reused = ProofBinding(proof, "other", LEASE)
        assert (await store.claim(new_key(), lease=LEASE, binding=reused)).state is (
            ClaimState.PROOF_REUSED
        )
    # The oldest binding was dropped: the proof binds anew.
    await claimed(store, new_key(), binding=ProofBinding("a", "other", LEASE))


async def test_memory_store_drops_expired_bindings() -> None:
    store = MemoryDeliveryStore()
    for proof in "abc":
        await claimed(store, new_key(), binding=ProofBinding(proof, "fp", SHORT))
    await asyncio.sleep(PAST_SHORT)
    await claimed(store, new_key(), binding=ProofBinding("d", "fp", LEASE))
    assert len(store._bindings) < 4


async def test_memory_store_aclose_forgets_everything() -> None:
    store = MemoryDeliveryStore()
    await claimed(store, "k", binding=ProofBinding("p", "a", LEASE))
    await store.aclose()
    assert len(store) == 0
    await claimed(store, "k", binding=ProofBinding("p", "b", LEASE))


# --- RedisDeliveryStore: against the shared server ---------------------------------------------


@pytest.mark.redis
async def test_redis_two_clients_race_on_100_keys(redis_url: str, redis_prefix: str) -> None:
    # Two stores with their own connection pools: what two replicas do.
    first = RedisDeliveryStore.from_url(redis_url, prefix=redis_prefix)
    second = RedisDeliveryStore.from_url(redis_url, prefix=redis_prefix)
    keys = [new_key() for _ in range(100)]
    try:
        claims = await asyncio.gather(
            *(store.claim(key, lease=LEASE) for key in keys for store in (first, second))
        )
        for index, key in enumerate(keys):
            pair = {claims[2 * index].state, claims[2 * index + 1].state}
            assert pair == {ClaimState.CLAIMED, ClaimState.IN_PROGRESS}, key
    finally:
        await first.aclose()
        await second.aclose()


@pytest.mark.redis
async def test_redis_completion_is_seen_by_another_client(
    redis_url: str, redis_prefix: str
) -> None:
    first = RedisDeliveryStore.from_url(redis_url, prefix=redis_prefix)
    second = RedisDeliveryStore.from_url(redis_url, prefix=redis_prefix)
    key = new_key()
    try:
        token = await claimed(first, key)
        waiter = asyncio.create_task(second.wait(key, timeout=30, poll=0.01))
        await second.release(key, token)  # the token works from any client ...
        claim = await waiter
        assert claim.state is ClaimState.CLAIMED  # ... so the waiter took over
        assert claim.token is not None
        assert await second.renew(key, claim.token, lease=LEASE) is True
        assert await second.complete(key, claim.token, RESPONSE, ttl=DEFAULT_RESULT_TTL) is True
        assert await first.claim(key, lease=LEASE) == Claim(ClaimState.DONE, response=RESPONSE)
    finally:
        await first.aclose()
        await second.aclose()


@pytest.mark.redis
async def test_redis_prefixes_isolate_extensions(redis_url: str, redis_prefix: str) -> None:
    one = RedisDeliveryStore.from_url(redis_url, prefix=f"{redis_prefix}one:")
    two = RedisDeliveryStore.from_url(redis_url, prefix=f"{redis_prefix}two:")
    try:
        key = new_key()
        await claimed(one, key, binding=ProofBinding("proof", "a", LEASE))
        await claimed(two, key, binding=ProofBinding("proof", "b", LEASE))
    finally:
        await one.aclose()
        await two.aclose()


@pytest.mark.redis
async def test_redis_key_layout_and_expiry(redis_url: str, redis_prefix: str) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    store = RedisDeliveryStore(client, prefix=redis_prefix)
    try:
        key, binding = new_key(), new_binding("route+body digest", ttl=600)
        run_key = f"{redis_prefix}run:{key}".encode()
        proof_key = f"{redis_prefix}proof:{binding.key}".encode()
        assert store.run_key(key) == run_key
        assert store.proof_key(binding.key) == proof_key

        token = await claimed(store, key, lease=LEASE, binding=binding)
        assert await client.get(run_key) == f'{{"state":"claimed","token":"{token}"}}'.encode()
        assert 0 < await client.pttl(run_key) <= LEASE * 1000
        assert await client.get(proof_key) == b"fp:route+body digest"
        assert LEASE * 1000 < await client.pttl(proof_key) <= 600_000

        assert await store.renew(key, token, lease=100) is True
        assert LEASE * 1000 < await client.pttl(run_key) <= 100_000

        await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL)
        raw = await client.get(run_key)
        assert isinstance(raw, bytes)
        assert raw.startswith(b'{"state":"done","response":"')
        assert 100_000 < await client.pttl(run_key) <= DEFAULT_RESULT_TTL * 1000

        keys = {k async for k in client.scan_iter(match=f"{redis_prefix}*")}
        assert keys == {run_key, proof_key}
    finally:
        await store.aclose()  # not the store's client: stays open
        assert await client.ping()
        await client.aclose()


@pytest.mark.redis
async def test_redis_keys_are_utf8_and_lone_surrogates_stay_distinct(
    redis_url: str, redis_prefix: str
) -> None:
    store = RedisDeliveryStore.from_url(redis_url, prefix=redis_prefix)
    try:
        assert store.run_key("é") == f"{redis_prefix}run:é".encode()
        assert store.run_key("\ud800") != store.run_key("\udc00")
        assert store.run_key("\ud800") != store.run_key("?")
        await claimed(store, "\ud800")
        await claimed(store, "\udc00")
        await claimed(store, "?")
    finally:
        await store.aclose()


@pytest.mark.redis
async def test_redis_complete_after_the_key_was_deleted_stores_the_response(
    redis_url: str, redis_prefix: str
) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    store = RedisDeliveryStore(client, prefix=redis_prefix)
    try:
        key = new_key()
        token = await claimed(store, key)
        await client.delete(store.run_key(key))  # evicted, or lost in a restart
        assert await store.renew(key, token, lease=LEASE) is False
        assert await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL) is True
        assert await store.claim(key, lease=LEASE) == Claim(ClaimState.DONE, response=RESPONSE)
    finally:
        await client.aclose()


@pytest.mark.redis
async def test_redis_store_works_with_decode_responses(redis_url: str, redis_prefix: str) -> None:
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    store = RedisDeliveryStore(client, prefix=redis_prefix)
    try:
        key, binding = new_key(), new_binding("a")
        token = await claimed(store, key, binding=binding)
        assert await state(store, key) is ClaimState.IN_PROGRESS
        reused = ProofBinding(binding.key, "b", LEASE)
        assert await store.claim(new_key(), lease=LEASE, binding=reused) == Claim(
            ClaimState.PROOF_REUSED
        )
        assert await store.renew(key, token, lease=LEASE) is True
        assert await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL) is True
        assert await store.claim(key, lease=LEASE) == Claim(ClaimState.DONE, response=RESPONSE)
        assert await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL) is False
        await claimed(store, key2 := new_key())
        await store.release(key2, "nope")
        assert await state(store, key2) is ClaimState.IN_PROGRESS
        await claimed(store, "é\x00\ud800")
    finally:
        await client.aclose()


@pytest.mark.redis
@pytest.mark.parametrize(
    "record",
    [
        b"not json",
        b'{"state":"weird"}',
        b'{"state":"done","response":"@@"}',
        b'{"state":"done","response":"AAAA"}',  # base64, but not a frame
        b'{"state":"done"}',
        b'{"token":"x"}',
        b"[]",
        b'"x"',
        b"1",
        b"\xff\xfe not UTF-8",
    ],
)
@pytest.mark.parametrize("decode_responses", [False, True])
async def test_redis_unreadable_run_record_is_dropped_and_claimed_anew(
    redis_url: str,
    redis_prefix: str,
    record: bytes,
    decode_responses: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Was "an error": a damaged record answered 503 to every redelivery for its whole life
    # (24 h, past the platform's retries). It is dropped, logged, and the event claimed anew.
    raw = redis.asyncio.Redis.from_url(redis_url)
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=decode_responses)
    store = RedisDeliveryStore(client, prefix=redis_prefix)
    try:
        key = new_key()
        await raw.set(store.run_key(key), record, px=60_000)
        if decode_responses and record.startswith(b"\xff"):
            # the client cannot even hand the bytes over: the store says so (-> 503)
            with pytest.raises(DeliveryStoreError, match="unreadable delivery record") as caught:
                await store.claim(key, lease=LEASE)
            assert repr(redis_prefix) in str(caught.value)
            assert "127.0.0.1" not in str(caught.value)
        else:
            claim = await store.claim(key, lease=LEASE)
            assert claim.state is ClaimState.CLAIMED
            assert "unreadable delivery record" in caplog.text
            assert await raw.get(store.run_key(key)) != record
        assert await state(store, new_key()) is ClaimState.CLAIMED  # the client still works
    finally:
        await client.aclose()
        await raw.aclose()


@pytest.mark.redis
async def test_redis_a_record_that_never_expires_is_claimed(
    redis_url: str, redis_prefix: str
) -> None:
    # A claim record without its lease (PERSIST, a restore) would answer 409 for ever.
    store = RedisDeliveryStore.from_url(redis_url, prefix=redis_prefix)
    try:
        key = new_key()
        await claimed(store, key)
        await store._client.persist(store.run_key(key))
        assert (await store.claim(key, lease=LEASE)).state is ClaimState.CLAIMED
    finally:
        await store.aclose()


@pytest.mark.redis
async def test_redis_unreadable_record_message_stays_short_for_a_huge_key(
    redis_url: str, redis_prefix: str
) -> None:
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    store = RedisDeliveryStore(client, prefix=redis_prefix)
    try:
        key = "k" * 10_000
        await client.set(store.run_key(key), b"\xff\xfe", px=60_000)
        with pytest.raises(DeliveryStoreError, match=redis_prefix) as caught:
            await store.claim(key, lease=LEASE)
        assert len(str(caught.value)) < 300
        assert redis_url not in str(caught.value)
    finally:
        await client.aclose()


@pytest.mark.redis
async def test_redis_a_dropped_connection_is_retried(redis_server: ServerFactory) -> None:
    server = redis_server()
    store = RedisDeliveryStore.from_url(server.url, prefix="p:")
    admin = redis.asyncio.Redis.from_url(server.url)
    try:
        key = new_key()
        token = await claimed(store, key)
        own_id = await admin.client_id()
        killed = 0
        for client in await admin.client_list():
            if int(client["id"]) != own_id:  # the store's pooled connection
                killed += await admin.client_kill_filter(_id=client["id"])
        assert killed == 1
        assert await state(store, key) is ClaimState.IN_PROGRESS  # no ConnectionError
        assert await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL) is True
    finally:
        await store.aclose()
        await admin.aclose()


async def test_redis_store_from_a_url_has_timeouts_retries_and_a_blocking_pool() -> None:
    store = RedisDeliveryStore.from_url("redis://127.0.0.1:6379/0")
    pool = store._client.connection_pool
    assert isinstance(pool, redis.asyncio.BlockingConnectionPool)
    options = pool.connection_kwargs
    assert 0 < options["socket_connect_timeout"] <= 5
    assert 0 < options["socket_timeout"] <= 5
    retry = options["retry"]
    assert isinstance(retry, redis.asyncio.retry.Retry)
    assert 1 <= retry.get_retries() <= 5
    assert pool.max_connections == 50

    override = RedisDeliveryStore.from_url(
        "redis://127.0.0.1:6379/0?socket_timeout=0.5&max_connections=7"
    )
    assert override._client.connection_pool.connection_kwargs["socket_timeout"] == 0.5
    assert override._client.connection_pool.max_connections == 7
    await store.aclose()
    await override.aclose()


async def test_redis_store_repr_names_the_prefix_not_the_url() -> None:
    store = RedisDeliveryStore.from_url("redis://user:s3cret@example.invalid:6379/0", prefix="p:")
    assert repr(store) == "RedisDeliveryStore(prefix='p:')"
    assert store.run_key("k") == b"p:run:k"
    assert store.proof_key("k") == b"p:proof:k"
    await store.aclose()


def test_redis_store_without_redis_installed_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [name for name in sys.modules if name == "redis" or name.startswith("redis.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ConfigurationError, match=r"kiket-sdk\[redis\]"):
        RedisDeliveryStore.from_url("redis://127.0.0.1:6379/0")
    with pytest.raises(ConfigurationError, match="KIKET_REDIS_URL"):
        delivery_store_from_env({"KIKET_REDIS_URL": "redis://127.0.0.1:6379/0"})


async def test_delivery_store_from_env() -> None:
    assert isinstance(delivery_store_from_env({}), MemoryDeliveryStore)
    assert isinstance(delivery_store_from_env({"KIKET_REDIS_URL": "  "}), MemoryDeliveryStore)
    store = delivery_store_from_env({"KIKET_REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert isinstance(store, RedisDeliveryStore)
    assert store.prefix == "kiket:delivery:"
    await store.aclose()


def test_delivery_store_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIKET_REDIS_URL", raising=False)
    assert isinstance(delivery_store_from_env(), MemoryDeliveryStore)
    monkeypatch.setenv("KIKET_REDIS_URL", "redis://127.0.0.1:6379/0")
    assert isinstance(delivery_store_from_env(), RedisDeliveryStore)


# --- RedisDeliveryStore: dedicated servers -----------------------------------------------------


async def command_calls(client: redis.asyncio.Redis) -> dict[str, int]:
    stats = await client.info("commandstats")
    return {name: int(entry["calls"]) for name, entry in stats.items()}


@pytest.mark.redis
async def test_redis_claim_is_one_round_trip(
    redis_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = redis_server()
    store = RedisDeliveryStore.from_url(server.url, prefix="p:")
    admin = redis.asyncio.Redis.from_url(server.url)
    sent: list[int] = []
    original = redis.asyncio.connection.Connection.send_packed_command

    async def counting(self: Any, command: Any, check_health: bool = True) -> None:
        sent.append(1)
        await original(self, command, check_health)

    try:
        await claimed(store, "warm-up")  # connects and loads the script (NOSCRIPT -> LOAD)
        await admin.ping()
        before = await command_calls(admin)
        monkeypatch.setattr(redis.asyncio.connection.Connection, "send_packed_command", counting)
        token = await claimed(store, "evt", binding=ProofBinding("proof", "fp", LEASE))
        assert len(sent) == 1  # client side: one request
        assert await state(store, "evt") is ClaimState.IN_PROGRESS
        assert len(sent) == 2
        monkeypatch.undo()
        after = await command_calls(admin)

        # Server side: only EVALSHA came from a client (plus this test's INFO); the GETs,
        # SETs and the PTTL are the scripts' (proof GET + SET NX, run GET + SET; then the run
        # GET and the PTTL that checks the record still expires).
        delta = {name: after[name] - before.get(name, 0) for name in after}
        delta = {name: calls for name, calls in delta.items() if calls}
        assert delta == {
            "cmdstat_evalsha": 2,
            "cmdstat_get": 3,
            "cmdstat_set": 2,
            "cmdstat_pttl": 1,
            "cmdstat_info": 1,
        }
        assert await store.complete("evt", token, RESPONSE, ttl=LEASE) is True
    finally:
        await store.aclose()
        await admin.aclose()


@pytest.mark.redis
async def test_redis_restart_with_persistence_keeps_the_claim(redis_server: ServerFactory) -> None:
    server = redis_server(persistent=True)
    store = RedisDeliveryStore.from_url(server.url, prefix="p:")
    try:
        key, binding = new_key(), new_binding("a")
        token = await claimed(store, key, binding=binding)

        server.kill()
        started = time.monotonic()
        with pytest.raises(redis.RedisError):
            await store.claim(key, lease=LEASE)
        assert time.monotonic() - started < PROMPTLY  # raised (-> 503), did not hang
        with pytest.raises(redis.RedisError):
            await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL)

        server.start()  # same port, same directory: the append-only file is read back
        assert await state(store, key) is ClaimState.IN_PROGRESS
        reused = ProofBinding(binding.key, "b", LEASE)
        assert await store.claim(new_key(), lease=LEASE, binding=reused) == Claim(
            ClaimState.PROOF_REUSED
        )
        assert await store.renew(key, token, lease=LEASE) is True
        assert await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL) is True
        assert await store.claim(key, lease=LEASE) == Claim(ClaimState.DONE, response=RESPONSE)
    finally:
        await store.aclose()


@pytest.mark.redis
async def test_redis_restart_without_persistence_lets_the_owner_complete(
    redis_server: ServerFactory,
) -> None:
    server = redis_server(persistent=False)
    store = RedisDeliveryStore.from_url(server.url, prefix="p:")
    try:
        key = new_key()
        token = await claimed(store, key)
        server.kill()
        server.start()

        assert await store.renew(key, token, lease=LEASE) is False  # the record is gone ...
        assert await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL) is True  # ...
        assert await store.claim(key, lease=LEASE) == Claim(ClaimState.DONE, response=RESPONSE)
    finally:
        await store.aclose()


@pytest.mark.redis
async def test_redis_a_hung_server_times_out(redis_server: ServerFactory) -> None:
    server = redis_server()
    # Short socket timeouts from the URL keep the test short; the defaults are 2 s.
    store = RedisDeliveryStore.from_url(
        f"{server.url}?socket_timeout=0.3&socket_connect_timeout=0.3", prefix="p:"
    )
    try:
        key = new_key()
        await claimed(store, key)
        assert server.proc is not None
        server.proc.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(redis.RedisError):
                await store.claim(key, lease=LEASE)
            assert time.monotonic() - started < PROMPTLY
        finally:
            server.proc.send_signal(signal.SIGCONT)
        assert await state(store, key) is ClaimState.IN_PROGRESS  # and back once it answers
    finally:
        await store.aclose()


@pytest.mark.redis
async def test_redis_a_server_that_comes_back_within_the_retries_is_not_noticed(
    redis_server: ServerFactory,
) -> None:
    server = redis_server(persistent=True)
    store = RedisDeliveryStore.from_url(server.url, prefix="p:")
    try:
        key = new_key()
        await claimed(store, key)
        server.kill()
        call = asyncio.create_task(store.claim(key, lease=LEASE))
        await asyncio.sleep(0.05)
        await asyncio.to_thread(server.start)  # back within the retries' backoff (1.4 s)?
        if call.done() and call.exception() is not None:
            pytest.skip("redis-server took longer to restart than the retries wait")
        assert (await call).state is ClaimState.IN_PROGRESS
    finally:
        await store.aclose()


# --- StoredResponse ----------------------------------------------------------------------------


@given(
    status=st.integers(min_value=200, max_value=599),
    body=st.binary(max_size=4096),
    content_type=st.text(
        alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200
    ).filter(lambda text: not text.startswith("application/json")),
)
def test_stored_response_bytes_round_trip(status: int, body: bytes, content_type: str) -> None:
    response = StoredResponse(status, body, content_type)
    assert StoredResponse.from_bytes(response.to_bytes()) == response


@pytest.mark.parametrize(
    "response",
    [
        StoredResponse(101, b"{}"),
        StoredResponse(200, b"{}", "application/json\r\nX-Evil: 1"),
        StoredResponse(200, b"{NaN"),
        StoredResponse(200, b'{"a": NaN}'),
        StoredResponse(200, b"{}", "application/jsön"),
    ],
    ids=["1xx", "CRLF in content type", "not JSON", "NaN", "non-ASCII content type"],
)
def test_a_stored_response_the_sdk_would_never_send_is_unreadable(
    response: StoredResponse,
) -> None:
    with pytest.raises(ValueError, match="not a stored response"):
        StoredResponse.from_bytes(response.to_bytes())


@given(data=st.binary(max_size=64))
def test_stored_response_from_arbitrary_bytes_is_a_response_or_value_error(data: bytes) -> None:
    try:
        response = StoredResponse.from_bytes(data)
    except ValueError:
        return
    assert response.to_bytes() == data


def test_stored_response_defaults_and_encoding() -> None:
    response = StoredResponse(200, b"{}")
    assert response.content_type == "application/json"
    assert len(response.to_bytes()) == 5 + len("application/json") + 2


@pytest.mark.parametrize(
    "data", [b"", b"\x01\x00", b"\x02\x00\xc8\x00\x00", b"\x01\x00\xc8\x00\x09short"]
)
def test_stored_response_refuses_malformed_frames(data: bytes) -> None:
    with pytest.raises(ValueError, match="not a stored response"):
        StoredResponse.from_bytes(data)


@pytest.mark.parametrize("status", [99, 600, -1, 70000])
def test_stored_response_refuses_bad_status(status: int) -> None:
    with pytest.raises(ValueError, match="status_code"):
        StoredResponse(status, b"")


def test_stored_response_refuses_non_int_status() -> None:
    with pytest.raises(TypeError):
        StoredResponse(True, b"")
    with pytest.raises(TypeError):
        StoredResponse("200", b"")  # type: ignore[arg-type]


def test_stored_response_copies_bytearray_bodies() -> None:
    body = bytearray(b"abc")
    response = StoredResponse(200, body)  # type: ignore[arg-type]
    body[0] = ord("x")
    assert response.body == b"abc"


# --- documentation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module",
    [
        kiket_sdk._stores,
        kiket_sdk._stores.base,
        kiket_sdk._stores.memory,
        kiket_sdk._stores.redis,
    ],
    ids=lambda module: module.__name__,
)
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0


def test_redis_module_documents_the_key_layout() -> None:
    doc = kiket_sdk._stores.redis.__doc__ or ""
    assert "<prefix>run:<key>" in doc
    assert "<prefix>proof:<key>" in doc
    assert kiket_sdk._stores.redis.DEFAULT_PREFIX == "kiket:delivery:"
