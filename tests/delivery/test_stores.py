"""Delivery stores: `MemoryDeliveryStore` and `RedisDeliveryStore` (against a real redis-server).

Timing is never asserted: short ttls (0.2 s) are waited out with generous sleeps and only the
resulting states are checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import doctest
import hashlib
import io
import logging
import math
import re
import sys
import uuid

import pytest
import redis.asyncio
from hypothesis import given
from hypothesis import strategies as st

import kiket_sdk._delivery_store
import kiket_sdk._redis_store
from kiket_sdk._delivery_store import (
    DEFAULT_RESULT_TTL,
    Claim,
    ClaimState,
    DeliveryStore,
    MemoryDeliveryStore,
    StoredResponse,
    dedupe_key,
    delivery_store_from_env,
    replay_digest,
)
from kiket_sdk._exceptions import ConfigurationError
from kiket_sdk._redis_store import RedisDeliveryStore

CLAIM_TTL = 30.0
SHORT_TTL = 0.2
PAST_SHORT_TTL = 0.5  # sleep this long to be well past SHORT_TTL, also on a loaded machine
RESPONSE = StoredResponse(202, bytes(range(256)) + b'{"ok":true}', "application/x-kiket; v=1")


def new_key() -> str:
    return f"evt_{uuid.uuid4().hex}"


async def claimed(store: DeliveryStore, key: str, ttl: float = CLAIM_TTL) -> str:
    claim = await store.claim(key, ttl=ttl)
    assert claim.state is ClaimState.CLAIMED
    assert claim.token
    assert claim.response is None
    return claim.token


# --- both stores -----------------------------------------------------------------------------


async def test_store_satisfies_the_protocol(store: DeliveryStore) -> None:
    assert isinstance(store, DeliveryStore)


async def test_claim_then_in_progress_then_done_with_the_stored_response(
    store: DeliveryStore,
) -> None:
    key = new_key()
    token = await claimed(store, key)

    assert await store.claim(key, ttl=CLAIM_TTL) == Claim(ClaimState.IN_PROGRESS)
    await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL)

    done = await store.claim(key, ttl=CLAIM_TTL)
    assert done == Claim(ClaimState.DONE, response=RESPONSE)
    assert await store.claim(key, ttl=CLAIM_TTL) == done  # stays done


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

    await store.complete(key, "not-the-token", RESPONSE, ttl=DEFAULT_RESULT_TTL)
    assert (await store.claim(key, ttl=CLAIM_TTL)).state is ClaimState.IN_PROGRESS

    await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL)
    assert (await store.claim(key, ttl=CLAIM_TTL)).state is ClaimState.DONE


async def test_complete_of_an_unclaimed_key_stores_nothing(store: DeliveryStore) -> None:
    key = new_key()
    await store.complete(key, "whatever", RESPONSE, ttl=DEFAULT_RESULT_TTL)
    await claimed(store, key)


async def test_only_the_owner_can_release(store: DeliveryStore) -> None:
    key = new_key()
    token = await claimed(store, key)

    await store.release(key, "not-the-token")
    assert (await store.claim(key, ttl=CLAIM_TTL)).state is ClaimState.IN_PROGRESS

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
    await store.complete(key, old, RESPONSE, ttl=DEFAULT_RESULT_TTL)  # ... nor complete it
    assert (await store.claim(key, ttl=CLAIM_TTL)).state is ClaimState.IN_PROGRESS

    await store.complete(key, new, RESPONSE, ttl=DEFAULT_RESULT_TTL)
    assert await store.claim(key, ttl=CLAIM_TTL) == Claim(ClaimState.DONE, response=RESPONSE)


async def test_release_after_complete_keeps_the_response(store: DeliveryStore) -> None:
    key = new_key()
    token = await claimed(store, key)
    await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL)
    await store.release(key, token)
    assert (await store.claim(key, ttl=CLAIM_TTL)).state is ClaimState.DONE


async def test_second_complete_does_not_overwrite(store: DeliveryStore) -> None:
    key = new_key()
    token = await claimed(store, key)
    await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL)
    await store.complete(key, token, StoredResponse(500, b"late"), ttl=DEFAULT_RESULT_TTL)
    assert await store.claim(key, ttl=CLAIM_TTL) == Claim(ClaimState.DONE, response=RESPONSE)


async def test_claim_expires_after_its_ttl(store: DeliveryStore) -> None:
    key = new_key()
    stale = await claimed(store, key, ttl=SHORT_TTL)
    await asyncio.sleep(PAST_SHORT_TTL)

    fresh = await claimed(store, key)  # the crashed owner's claim is gone
    await store.complete(key, stale, RESPONSE, ttl=DEFAULT_RESULT_TTL)  # too late: ignored
    assert (await store.claim(key, ttl=CLAIM_TTL)).state is ClaimState.IN_PROGRESS
    await store.complete(key, fresh, RESPONSE, ttl=DEFAULT_RESULT_TTL)
    assert (await store.claim(key, ttl=CLAIM_TTL)).state is ClaimState.DONE


async def test_complete_after_expiry_stores_nothing(store: DeliveryStore) -> None:
    key = new_key()
    token = await claimed(store, key, ttl=SHORT_TTL)
    await asyncio.sleep(PAST_SHORT_TTL)
    await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL)
    await claimed(store, key)


async def test_stored_response_expires_after_its_ttl(store: DeliveryStore) -> None:
    key = new_key()
    token = await claimed(store, key)
    await store.complete(key, token, RESPONSE, ttl=SHORT_TTL)
    assert (await store.claim(key, ttl=CLAIM_TTL)).state is ClaimState.DONE
    await asyncio.sleep(PAST_SHORT_TTL)
    await claimed(store, key)


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
    assert await store.wait(key, timeout=SHORT_TTL, poll=0.02) == Claim(ClaimState.IN_PROGRESS)
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
    assert (await store.claim(key, ttl=CLAIM_TTL)).state is ClaimState.IN_PROGRESS


async def test_wait_claims_a_free_key_at_once(store: DeliveryStore) -> None:
    claim = await store.wait(new_key(), timeout=0)
    assert claim.state is ClaimState.CLAIMED


async def test_concurrent_waiters_get_one_claim_when_the_owner_releases(
    store: DeliveryStore,
) -> None:
    key = new_key()
    token = await claimed(store, key)
    waiters = [
        asyncio.create_task(store.wait(key, timeout=SHORT_TTL * 3, poll=0.01)) for _ in range(20)
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
async def test_bad_ttls_are_refused(store: DeliveryStore, ttl: float) -> None:
    key = new_key()
    with pytest.raises(ValueError, match="ttl"):
        await store.claim(key, ttl=ttl)
    token = await claimed(store, key)
    with pytest.raises(ValueError, match="ttl"):
        await store.complete(key, token, RESPONSE, ttl=ttl)
    with pytest.raises(ValueError, match="ttl"):
        await store.remember_signature("d", ttl=ttl)


async def test_replay_guard(store: DeliveryStore) -> None:
    digest = replay_digest("1767225600", uuid.uuid4().hex * 2)
    other = replay_digest("1767225601", uuid.uuid4().hex * 2)

    assert await store.remember_signature(digest, ttl=CLAIM_TTL) is True
    assert await store.remember_signature(digest, ttl=CLAIM_TTL) is False
    assert await store.remember_signature(other, ttl=CLAIM_TTL) is True


async def test_replay_guard_forgets_after_its_ttl(store: DeliveryStore) -> None:
    digest = uuid.uuid4().hex
    assert await store.remember_signature(digest, ttl=SHORT_TTL) is True
    assert await store.remember_signature(digest, ttl=SHORT_TTL) is False
    await asyncio.sleep(PAST_SHORT_TTL)
    assert await store.remember_signature(digest, ttl=SHORT_TTL) is True


async def test_replay_guard_is_separate_from_claims(store: DeliveryStore) -> None:
    name = new_key()
    assert await store.remember_signature(name, ttl=CLAIM_TTL) is True
    await claimed(store, name)


async def test_200_concurrent_claims_have_one_winner(store: DeliveryStore) -> None:
    key = new_key()
    claims = await asyncio.gather(*(store.claim(key, ttl=CLAIM_TTL) for _ in range(200)))
    states = [claim.state for claim in claims]
    assert states.count(ClaimState.CLAIMED) == 1
    assert states.count(ClaimState.IN_PROGRESS) == 199


async def test_200_concurrent_signatures_have_one_first(store: DeliveryStore) -> None:
    digest = uuid.uuid4().hex
    firsts = await asyncio.gather(
        *(store.remember_signature(digest, ttl=CLAIM_TTL) for _ in range(200))
    )
    assert firsts.count(True) == 1


async def test_aclose_can_be_called_twice(store: DeliveryStore) -> None:
    await store.aclose()
    await store.aclose()


# --- MemoryDeliveryStore ---------------------------------------------------------------------


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
    assert (await store.claim(running, ttl=CLAIM_TTL)).state is ClaimState.IN_PROGRESS
    assert (await store.claim(done_new, ttl=CLAIM_TTL)).state is ClaimState.DONE
    assert (await store.claim("d", ttl=CLAIM_TTL)).state is ClaimState.IN_PROGRESS
    assert (await store.claim(done_old, ttl=CLAIM_TTL)).state is ClaimState.CLAIMED  # forgotten


async def test_memory_store_evicts_expired_entries_first() -> None:
    store = MemoryDeliveryStore(max_entries=3)
    await claimed(store, "short", ttl=SHORT_TTL)
    await store.complete("done", await claimed(store, "done"), RESPONSE, ttl=DEFAULT_RESULT_TTL)
    await claimed(store, "running")
    await asyncio.sleep(PAST_SHORT_TTL)

    await claimed(store, "new")

    assert len(store) == 3
    assert (await store.claim("done", ttl=CLAIM_TTL)).state is ClaimState.DONE
    assert (await store.claim("running", ttl=CLAIM_TTL)).state is ClaimState.IN_PROGRESS
    assert (await store.claim("new", ttl=CLAIM_TTL)).state is ClaimState.IN_PROGRESS


async def test_memory_store_full_of_claims_evicts_the_oldest_claim_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryDeliveryStore(max_entries=2)
    await claimed(store, "first")
    await claimed(store, "second")
    with caplog.at_level(logging.WARNING, logger="kiket_sdk._delivery_store"):
        await claimed(store, "third")

    assert len(store) == 2
    assert "max_entries=2" in caplog.text
    assert (await store.claim("second", ttl=CLAIM_TTL)).state is ClaimState.IN_PROGRESS
    assert (await store.claim("third", ttl=CLAIM_TTL)).state is ClaimState.IN_PROGRESS


async def test_memory_store_stays_bounded_under_churn() -> None:
    store = MemoryDeliveryStore(max_entries=50)
    for number in range(1000):
        key = f"evt_{number}"
        token = await claimed(store, key)
        if number % 3:
            await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL)
        assert len(store) <= 50


async def test_memory_store_bounds_the_replay_guard() -> None:
    store = MemoryDeliveryStore(max_entries=3)
    for digest in "abcd":
        assert await store.remember_signature(digest, ttl=CLAIM_TTL) is True
    assert await store.remember_signature("d", ttl=CLAIM_TTL) is False
    assert await store.remember_signature("c", ttl=CLAIM_TTL) is False
    assert await store.remember_signature("a", ttl=CLAIM_TTL) is True  # the oldest was dropped


async def test_memory_store_aclose_forgets_everything() -> None:
    store = MemoryDeliveryStore()
    await claimed(store, "k")
    await store.remember_signature("d", ttl=CLAIM_TTL)
    await store.aclose()
    assert len(store) == 0
    await claimed(store, "k")
    assert await store.remember_signature("d", ttl=CLAIM_TTL) is True


# --- RedisDeliveryStore ----------------------------------------------------------------------


@pytest.mark.redis
async def test_redis_two_clients_race_on_100_keys(redis_url: str, redis_prefix: str) -> None:
    # Two stores with their own connection pools: what two replicas do.
    first = RedisDeliveryStore.from_url(redis_url, prefix=redis_prefix)
    second = RedisDeliveryStore.from_url(redis_url, prefix=redis_prefix)
    keys = [new_key() for _ in range(100)]
    try:
        claims = await asyncio.gather(
            *(store.claim(key, ttl=CLAIM_TTL) for key in keys for store in (first, second))
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
        await second.complete(key, claim.token, RESPONSE, ttl=DEFAULT_RESULT_TTL)
        assert await first.claim(key, ttl=CLAIM_TTL) == Claim(ClaimState.DONE, response=RESPONSE)
    finally:
        await first.aclose()
        await second.aclose()


@pytest.mark.redis
async def test_redis_prefixes_isolate_extensions(redis_url: str, redis_prefix: str) -> None:
    one = RedisDeliveryStore.from_url(redis_url, prefix=f"{redis_prefix}one:")
    two = RedisDeliveryStore.from_url(redis_url, prefix=f"{redis_prefix}two:")
    try:
        key = new_key()
        await claimed(one, key)
        await claimed(two, key)
        assert await one.remember_signature("d", ttl=CLAIM_TTL) is True
        assert await two.remember_signature("d", ttl=CLAIM_TTL) is True
    finally:
        await one.aclose()
        await two.aclose()


@pytest.mark.redis
async def test_redis_key_layout_and_expiry(redis_url: str, redis_prefix: str) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    store = RedisDeliveryStore(client, prefix=redis_prefix)
    try:
        key = new_key()
        token = await claimed(store, key)
        raw = await client.get(f"{redis_prefix}event:{key}")
        assert isinstance(raw, bytes)
        assert raw.startswith(b'{"state":"claimed"')
        assert 0 < await client.pttl(f"{redis_prefix}event:{key}") <= CLAIM_TTL * 1000

        await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL)
        assert await client.pttl(f"{redis_prefix}event:{key}") > CLAIM_TTL * 1000
        await store.remember_signature("abc", ttl=CLAIM_TTL)
        assert await client.get(f"{redis_prefix}sig:abc") == b"1"
    finally:
        await store.aclose()  # not the store's client: stays open
        assert await client.ping()
        await client.aclose()


@pytest.mark.redis
async def test_redis_store_works_with_decode_responses(redis_url: str, redis_prefix: str) -> None:
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    store = RedisDeliveryStore(client, prefix=redis_prefix)
    try:
        key = new_key()
        token = await claimed(store, key)
        assert (await store.claim(key, ttl=CLAIM_TTL)).state is ClaimState.IN_PROGRESS
        await store.complete(key, token, RESPONSE, ttl=DEFAULT_RESULT_TTL)
        assert await store.claim(key, ttl=CLAIM_TTL) == Claim(ClaimState.DONE, response=RESPONSE)
        await claimed(store, key2 := new_key())
        await store.release(key2, "nope")
        assert (await store.claim(key2, ttl=CLAIM_TTL)).state is ClaimState.IN_PROGRESS
    finally:
        await client.aclose()


@pytest.mark.redis
@pytest.mark.parametrize(
    "record",
    [b"not json", b'{"state":"weird"}', b'{"state":"done","response":"@@"}', b"[]", b'"x"'],
)
async def test_redis_unreadable_record_is_an_error(
    redis_url: str, redis_prefix: str, record: bytes
) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    store = RedisDeliveryStore(client, prefix=redis_prefix)
    try:
        key = new_key()
        await client.set(store.event_key(key), record)
        with pytest.raises(ValueError, match="unreadable delivery record"):
            await store.claim(key, ttl=CLAIM_TTL)
    finally:
        await client.aclose()


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
    await store.aclose()


def test_redis_store_is_reexported_lazily() -> None:
    assert kiket_sdk._delivery_store.RedisDeliveryStore is RedisDeliveryStore
    with pytest.raises(AttributeError):
        _ = kiket_sdk._delivery_store.NoSuchThing  # type: ignore[attr-defined]


# --- dedupe_key / replay_digest --------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"id": "evt_01HZX0"}, "evt_01HZX0"),
        ({"id": 42}, "42"),
        ({"id": 0}, "0"),
        ({"id": "  evt_1 \n"}, "evt_1"),
        ({"event_id": "e-1"}, "e-1"),
        ({"delivery_id": "d-1"}, "d-1"),
        ({"id": "i", "event_id": "e", "delivery_id": "d"}, "i"),
        ({"event_id": "e", "delivery_id": "d"}, "e"),
        ({"id": "", "event_id": "e"}, "e"),
        ({"id": "   ", "delivery_id": 7}, "7"),
        ({"id": None, "event_id": "e"}, "e"),
        ({"id": True}, None),
        ({"id": 1.5}, None),
        ({"id": {"nested": 1}}, None),
        ({"id": ""}, None),
        ({"issue": {"id": 5}, "event": "issue.created"}, None),
        ({}, None),
    ],
)
def test_dedupe_key(payload: dict[str, object], expected: str | None) -> None:
    assert dedupe_key(payload) == expected


def test_replay_digest_is_sha256_of_timestamp_and_normalised_signature() -> None:
    signature = "c44a09c50cb128c17213f6e089242cb7b76c7d3441fd5326044bf9e1b832e9c6"
    expected = hashlib.sha256(f"1767225600.{signature}".encode()).hexdigest()
    assert replay_digest("1767225600", signature) == expected
    assert replay_digest("1767225600", f"sha256={signature}") == expected
    assert replay_digest("1767225600 ", f" SHA256={signature.upper()}") == expected
    assert replay_digest("1767225601", signature) != expected
    assert replay_digest("1767225600", signature[::-1]) != expected


# --- StoredResponse --------------------------------------------------------------------------


@given(
    status=st.integers(min_value=100, max_value=599),
    body=st.binary(max_size=4096),
    content_type=st.text(max_size=200),
)
def test_stored_response_bytes_round_trip(status: int, body: bytes, content_type: str) -> None:
    response = StoredResponse(status, body, content_type)
    assert StoredResponse.from_bytes(response.to_bytes()) == response


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


# --- documentation ---------------------------------------------------------------------------


@pytest.mark.parametrize("module", [kiket_sdk._delivery_store, kiket_sdk._redis_store])
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0


def test_module_example_runs() -> None:
    code = re.search(r"```python\n(.*?)```", kiket_sdk._delivery_store.__doc__ or "", re.DOTALL)
    assert code is not None
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code.group(1), "<_delivery_store example>", "exec"), {})
