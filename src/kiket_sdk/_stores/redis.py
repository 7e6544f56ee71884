"""`RedisDeliveryStore`: the delivery store shared by every replica, in Redis.

Needs the optional extra: ``pip install 'kiket-sdk[redis]'`` (``redis`` is imported only when a
store is created). Works with Redis >= 6.2 and compatible servers (Valkey); scripts are plain
Lua with single-key access, so a cluster works too.

Layout, under ``prefix`` (default ``kiket:delivery:``; give each extension its own prefix when
several share one database):

```
<prefix>event:<key>    {"state":"claimed","token":"<hex>"}            PX = claim ttl
                       {"state":"done","response":"<base64 frame>"}    PX = result ttl
<prefix>sig:<digest>   "1"                                             PX = replay ttl
```

* ``claim``: one script runs ``SET <record> NX PX ttl`` and, when the key exists, ``GET`` -- an
  atomic "claim or report" in one round trip.
* ``complete`` / ``release``: a script compares the stored value with the caller's exact claim
  record (its token) and only then ``SET``s the done record / ``DEL``s the key.
* ``remember_signature``: ``SET <prefix>sig:<digest> 1 NX PX ttl``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
from typing import TYPE_CHECKING, Any

from kiket_sdk._delivery_store import (
    DEFAULT_CLAIM_TTL,
    Claim,
    ClaimState,
    StoredResponse,
    check_ttl,
    new_token,
    wait_by_polling,
)
from kiket_sdk._exceptions import ConfigurationError

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ["DEFAULT_PREFIX", "RedisDeliveryStore"]

DEFAULT_PREFIX = "kiket:delivery:"
_POOL_SIZE = 50
_POOL_TIMEOUT_SECONDS = 20.0

logger = logging.getLogger("kiket_sdk._delivery_store")

# KEYS[1] = event key; ARGV = claim record, ttl in ms. Returns 1 (claimed) or the existing record.
_CLAIM_LUA = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return redis.call('GET', KEYS[1])
"""
# KEYS[1] = event key; ARGV = owner's claim record, done record, ttl in ms. Returns 1 if stored.
_COMPLETE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
# KEYS[1] = event key; ARGV[1] = owner's claim record. Returns 1 if the claim was dropped.
_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _redis_client_from_url(url: str) -> Redis:
    try:
        from redis.asyncio import BlockingConnectionPool, Redis
    except ImportError:
        raise ConfigurationError(
            "RedisDeliveryStore needs the redis package: pip install 'kiket-sdk[redis]' "
            "(or unset KIKET_REDIS_URL to keep deliveries in memory)"
        ) from None
    # A burst of deliveries waits for a free connection instead of failing ("Too many
    # connections" from the default pool); `?max_connections=N` in the URL overrides the size.
    pool = BlockingConnectionPool.from_url(
        url, max_connections=_POOL_SIZE, timeout=_POOL_TIMEOUT_SECONDS
    )
    return Redis.from_pool(pool)


def _milliseconds(ttl: float) -> int:
    return max(1, math.ceil(check_ttl(ttl) * 1000))


def _claim_record(token: str) -> bytes:
    return json.dumps({"state": "claimed", "token": token}, separators=(",", ":")).encode()


def _done_record(response: StoredResponse) -> bytes:
    frame = base64.b64encode(response.to_bytes()).decode("ascii")
    return json.dumps({"state": "done", "response": frame}, separators=(",", ":")).encode()


class RedisDeliveryStore:
    """A `DeliveryStore` in Redis, shared by all replicas of an extension.

    ``url_or_client`` is a ``redis://`` / ``rediss://`` / ``unix://`` URL (the store creates
    and owns the client; `aclose` closes it) or a ``redis.asyncio.Redis`` client (left open by
    `aclose`; ``decode_responses`` may be either). Nothing connects until the first call.

    A URL gets a blocking pool of 50 connections (``?max_connections=N`` in the URL changes
    it): calls beyond that wait up to 20 s for a free connection rather than fail.

    >>> store = RedisDeliveryStore.from_url("redis://127.0.0.1:6379/0", prefix="my-ext:")
    >>> store.prefix
    'my-ext:'
    """

    def __init__(self, url_or_client: str | Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        if isinstance(url_or_client, str):
            self._client = _redis_client_from_url(url_or_client)
            self._owns_client = True
        else:
            self._client = url_or_client
            self._owns_client = False
        self.prefix = prefix
        self._claim_script: AsyncScript = self._client.register_script(_CLAIM_LUA)
        self._complete_script: AsyncScript = self._client.register_script(_COMPLETE_LUA)
        self._release_script: AsyncScript = self._client.register_script(_RELEASE_LUA)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = DEFAULT_PREFIX) -> RedisDeliveryStore:
        """A store with its own client for ``url`` (closed by `aclose`)."""
        return cls(url, prefix=prefix)

    def __repr__(self) -> str:
        return f"RedisDeliveryStore(prefix={self.prefix!r})"

    def event_key(self, key: str) -> str:
        """The Redis key that holds event ``key``'s record."""
        return f"{self.prefix}event:{key}"

    async def claim(self, key: str, *, ttl: float) -> Claim:
        """See `DeliveryStore.claim`."""
        token = new_token()
        found = await self._claim_script(
            keys=[self.event_key(key)], args=[_claim_record(token), _milliseconds(ttl)]
        )
        if found == 1:
            return Claim(ClaimState.CLAIMED, token=token)
        return self._parse(key, found)

    async def complete(self, key: str, token: str, response: StoredResponse, *, ttl: float) -> None:
        """See `DeliveryStore.complete`."""
        stored = await self._complete_script(
            keys=[self.event_key(key)],
            args=[_claim_record(token), _done_record(response), _milliseconds(ttl)],
        )
        if stored != 1:
            logger.warning("delivery %r: claim lost before completion; not stored", key)

    async def release(self, key: str, token: str) -> None:
        """See `DeliveryStore.release`."""
        await self._release_script(keys=[self.event_key(key)], args=[_claim_record(token)])

    async def wait(
        self, key: str, *, timeout: float, poll: float = 0.05, ttl: float = DEFAULT_CLAIM_TTL
    ) -> Claim:
        """See `kiket_sdk._delivery_store.wait_by_polling`."""
        return await wait_by_polling(self, key, timeout=timeout, poll=poll, ttl=ttl)

    async def remember_signature(self, digest: str, *, ttl: float) -> bool:
        """See `DeliveryStore.remember_signature`."""
        first = await self._client.set(
            f"{self.prefix}sig:{digest}", b"1", nx=True, px=_milliseconds(ttl)
        )
        return bool(first)

    async def aclose(self) -> None:
        """Close the client if this store created it."""
        if self._owns_client:
            await self._client.aclose()

    def _parse(self, key: str, found: Any) -> Claim:
        # `found` is the record another claimant wrote (bytes, or str with decode_responses).
        try:
            record = json.loads(found)
            state = record["state"]
            if state == "claimed":
                return Claim(ClaimState.IN_PROGRESS)
            if state == "done":
                frame = base64.b64decode(record["response"], validate=True)
                return Claim(ClaimState.DONE, response=StoredResponse.from_bytes(frame))
        except (TypeError, ValueError, KeyError, binascii.Error):
            pass
        raise ValueError(
            f"unreadable delivery record at Redis key {self.event_key(key)!r}: is another "
            f"program writing under prefix {self.prefix!r}?"
        )
