"""`RedisDeliveryStore`: the `DeliveryStore` shared by every replica, in Redis.

Needs the optional extra: ``pip install 'kiket-sdk[redis]'`` (``redis`` is imported only when a
store is created from a URL). Works with Redis >= 6.2 and compatible servers (Valkey).

Layout, under ``prefix`` (default ``kiket:delivery:``; give each extension its own prefix when
several share one database):

```
<prefix>run:<key>      {"state":"claimed","token":"<hex>"}            PX = lease
                       {"state":"done","response":"<base64 frame>"}    PX = result ttl
<prefix>proof:<key>    fp:<fingerprint>                                PX = binding ttl
```

``<key>`` is the caller's key as UTF-8 (lone surrogates kept as such, so every ``str`` is a key
of its own); Redis keys are binary-safe, so any length and any character (NUL, ``:``) works.
Each operation is one Lua script, sent with ``EVALSHA`` (one round trip; the script is loaded
on the first ``NOSCRIPT``); the ``claim``s and ``complete``s of concurrent deliveries share
round trips (`redis_pipelining.AutoPipeline`):

* ``claim``: with a binding, ``GET`` the proof key: a value that is not a ``fp:`` record ->
  an error (never "proof reused": a damaged record must not refuse a genuine delivery for
  good); another fingerprint -> *proof reused* (nothing claimed); none ->
  ``SET fp:<fingerprint> NX PX <binding ttl>`` (the same fingerprint is kept as it is).
  Then ``GET`` the run key: a record -> *in progress* / *done*; none ->
  ``SET <claim record> NX PX <lease>`` -> *claimed*.
* ``renew``: ``PEXPIRE`` the run key only if it holds the caller's exact claim record.
* ``complete``: ``SET <done record> PX <ttl>`` if the run key holds the caller's claim record
  *or is gone* (the server restarted without persistence, or evicted it); nothing is
  overwritten when another delivery holds the claim or the key is already done.
* ``release``: ``DEL`` the run key only if it holds the caller's claim record.

``claim`` touches two keys: on a Redis Cluster put a hash tag in the prefix (``{my-ext}:``) so
that both live in one slot.

A store made from a URL uses a blocking pool, socket timeouts and redis-py's retries (see
`RedisDeliveryStore`), so a dropped connection or a restart of a second or so is absorbed, and
an unreachable server raises within seconds: the ledger then answers 503 and runs nothing.
Nothing here swallows an error. A retry re-runs a script whose answer was lost; that is safe
(a lost ``claim`` answer reads as *in progress* until the lease runs out; a lost ``complete``
answer as ``False``): no handler ever runs twice for it.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
from typing import TYPE_CHECKING, Any

from kiket_sdk._exceptions import ConfigurationError
from kiket_sdk._per_event_loop import PerEventLoop
from kiket_sdk._stores.base import (
    DEFAULT_LEASE,
    Claim,
    ClaimState,
    DeliveryStoreError,
    ProofBinding,
    StoredResponse,
    check_ttl,
    new_token,
    wait_by_polling,
)
from kiket_sdk._stores.redis_pipelining import AutoPipeline

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ["DEFAULT_PREFIX", "RedisDeliveryStore"]

logger = logging.getLogger("kiket_sdk.stores")

DEFAULT_PREFIX = "kiket:delivery:"
POOL_SIZE = 50
"""Connections in the pool of a store made from a URL (``?max_connections=N`` overrides)."""
POOL_TIMEOUT = 20.0
"""Seconds a call waits for a free pooled connection before it fails."""
SOCKET_CONNECT_TIMEOUT = 2.0
"""Seconds to connect (``?socket_connect_timeout=`` in the URL overrides)."""
SOCKET_TIMEOUT = 2.0
"""Seconds to wait for an answer (``?socket_timeout=`` in the URL overrides)."""
RETRIES = 3
"""Retries after a connection error or timeout, with exponential backoff (0.2 s, 0.4 s, 0.8 s)."""
_BACKOFF_BASE = 0.1
_BACKOFF_CAP = 1.0

_CLAIMED = 1
_PROOF_REUSED = 2
_UNREADABLE_PROOF = 3

# KEYS = run key [, proof key]; ARGV = claim record, lease ms [, fingerprint, binding ttl ms].
# Returns 1 (claimed), 2 (proof reused), 3 (unreadable proof record) or the run key's record.
_CLAIM_LUA = """
if #KEYS == 2 then
  local bound = redis.call('GET', KEYS[2])
  if bound then
    if string.sub(bound, 1, 3) ~= 'fp:' then
      return 3
    end
    if bound ~= ARGV[3] then
      return 2
    end
  else
    redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4])
  end
end
local found = redis.call('GET', KEYS[1])
if found and redis.call('PTTL', KEYS[1]) ~= -1 then
  return found
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])  -- free, or a record that never expires
return 1
"""
# KEYS[1] = run key; ARGV = owner's claim record, lease ms. Returns 1 if extended.
_RENEW_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# KEYS[1] = run key; ARGV = owner's claim record, done record, ttl ms. Returns 1 if stored.
_COMPLETE_LUA = """
local found = redis.call('GET', KEYS[1])
if found == false or found == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
# KEYS[1] = run key; ARGV[1] = owner's claim record. Returns 1 if the claim was dropped.
_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


_REDIS_SCHEMES = ("redis", "rediss", "unix")
_UNREADABLE_URL = (
    "KIKET_REDIS_URL / the Redis URL cannot be used ({kind} while reading it): check its port "
    "and query options"
)


def check_redis_url(url: str) -> None:
    """Raise `ConfigurationError` unless ``url`` is a ``redis://``, ``rediss://`` or
    ``unix://`` URL (the message never echoes the URL: it may hold a password).

    >>> check_redis_url("redis://127.0.0.1:6379/0")
    >>> check_redis_url("localhost:6379")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kiket_sdk._exceptions.ConfigurationError: ... must start with redis://, rediss:// or unix://...
    """
    scheme, sep, _ = url.partition("://")
    if not sep or scheme.lower() not in _REDIS_SCHEMES:
        raise ConfigurationError(
            "KIKET_REDIS_URL / the Redis URL must start with redis://, rediss:// or unix:// "
            "(for example redis://127.0.0.1:6379/0)"
        )
    try:
        from redis.asyncio.connection import parse_url
    except ImportError:  # said when the store is made: the package is missing
        return
    try:
        parse_url(url)
    except ValueError as exc:  # redis-py's own checks (a bad port, an unknown query option)
        raise ConfigurationError(_UNREADABLE_URL.format(kind=type(exc).__name__)) from None


def _redis_client_from_url(url: str) -> Redis:
    check_redis_url(url)
    try:
        from redis.asyncio import BlockingConnectionPool, Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError, TimeoutError
    except ImportError:
        raise ConfigurationError(
            "RedisDeliveryStore needs the redis package: pip install 'kiket-sdk[redis]' "
            "(or unset KIKET_REDIS_URL to keep deliveries in memory)"
        ) from None
    # A burst of deliveries waits for a free connection instead of failing ("Too many
    # connections" from the default pool). Options in the URL's query override these.
    try:
        # redis-py leaves from_url's **kwargs unannotated (they go to the connection class).
        pool = BlockingConnectionPool.from_url(  # pyright: ignore[reportUnknownMemberType]
            url,
            max_connections=POOL_SIZE,
            timeout=POOL_TIMEOUT,
            socket_connect_timeout=SOCKET_CONNECT_TIMEOUT,
            socket_timeout=SOCKET_TIMEOUT,
            retry=Retry(
                ExponentialBackoff(cap=_BACKOFF_CAP, base=_BACKOFF_BASE),
                RETRIES,
                supported_errors=(ConnectionError, TimeoutError),
            ),
        )
    except ValueError as exc:
        raise ConfigurationError(_UNREADABLE_URL.format(kind=type(exc).__name__)) from None
    return Redis.from_pool(pool)


def _milliseconds(ttl: float) -> int:
    return max(1, math.ceil(check_ttl(ttl) * 1000))


def _utf8(text: str) -> bytes:
    # "surrogatepass": every str (also one with lone surrogates) is a distinct byte string.
    return text.encode("utf-8", "surrogatepass")


def _claim_record(token: str) -> bytes:
    return json.dumps({"state": "claimed", "token": token}, separators=(",", ":")).encode()


def _done_record(response: StoredResponse) -> bytes:
    frame = base64.b64encode(response.to_bytes()).decode("ascii")
    return json.dumps({"state": "done", "response": frame}, separators=(",", ":")).encode()


class _RedisSession:
    """A Redis client with the store's scripts and pipeline registered on it (a Redis client's
    connections belong to one event loop, so a store made from a URL has one per loop)."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        self.claim_script: AsyncScript = client.register_script(_CLAIM_LUA)
        self.renew_script: AsyncScript = client.register_script(_RENEW_LUA)
        self.complete_script: AsyncScript = client.register_script(_COMPLETE_LUA)
        self.release_script: AsyncScript = client.register_script(_RELEASE_LUA)
        self.pipeline = AutoPipeline(client)


async def _never_close(session: _RedisSession) -> None:
    """A client given to the store belongs to its giver."""


class RedisDeliveryStore:
    """A `DeliveryStore` in Redis, shared by all replicas of an extension.

    ``url_or_client`` is a ``redis://`` / ``rediss://`` / ``unix://`` URL (the store creates
    and owns the client; `aclose` closes it) or a ``redis.asyncio.Redis`` client (used as
    configured, give it timeouts; left open by `aclose`; ``decode_responses`` may be either).
    Nothing connects until the first call. A store made from a URL works from any event loop,
    and from loops in sequence (``TestClient`` without ``with``, ``asyncio.run`` twice): each
    loop gets its own client, closed with the loop; a given client is used as it is.

    A URL gets a blocking pool of 50 connections (calls beyond that wait up to 20 s for one),
    2 s connect and read timeouts, and 3 retries with exponential backoff on connection errors
    and timeouts; the URL's query (``?max_connections=N&socket_timeout=5``) overrides them.

    >>> store = RedisDeliveryStore.from_url("redis://127.0.0.1:6379/0", prefix="my-ext:")
    >>> store
    RedisDeliveryStore(prefix='my-ext:')
    >>> store.run_key("evt_1"), store.proof_key("c0ffee")
    (b'my-ext:run:evt_1', b'my-ext:proof:c0ffee')
    """

    def __init__(self, url_or_client: str | Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self.prefix = prefix
        self._run_prefix = _utf8(f"{prefix}run:")
        self._proof_prefix = _utf8(f"{prefix}proof:")
        if isinstance(url_or_client, str):
            url = url_or_client
            # The first client is made now: a bad URL or a missing redis package fails here.
            unused = [_RedisSession(_redis_client_from_url(url))]
            self._sessions: PerEventLoop[_RedisSession] = PerEventLoop(
                lambda: unused.pop() if unused else _RedisSession(_redis_client_from_url(url)),
                close=lambda session: session.client.aclose(),
                name=type(self).__name__,
            )
            self._owns_client = True
        else:
            self._sessions = PerEventLoop(
                lambda: _RedisSession(url_or_client),
                close=_never_close,
                given=_RedisSession(url_or_client),
                name=type(self).__name__,
            )
            self._owns_client = False

    @classmethod
    def from_url(cls, url: str, *, prefix: str = DEFAULT_PREFIX) -> RedisDeliveryStore:
        """A store with its own client for ``url`` (closed by `aclose`)."""
        return cls(url, prefix=prefix)

    @property
    def _client(self) -> Redis:
        """The Redis client of the running event loop."""
        return self._sessions.current().client

    def __repr__(self) -> str:
        # Never the URL: it may hold a password.
        return f"RedisDeliveryStore(prefix={self.prefix!r})"

    def run_key(self, key: str) -> bytes:
        """The Redis key that holds ``key``'s run record (claimed or done)."""
        return self._run_prefix + _utf8(key)

    def proof_key(self, key: str) -> bytes:
        """The Redis key that holds the fingerprint bound to the proof ``key``."""
        return self._proof_prefix + _utf8(key)

    async def claim(self, key: str, *, lease: float, binding: ProofBinding | None = None) -> Claim:
        """See `DeliveryStore.claim`: one script, one round trip."""
        return await self._claim(key, lease=lease, binding=binding, retried=False)

    async def _claim(
        self, key: str, *, lease: float, binding: ProofBinding | None, retried: bool
    ) -> Claim:
        token = new_token()
        keys = [self.run_key(key)]
        args: list[bytes | int] = [_claim_record(token), _milliseconds(lease)]
        if binding is not None:
            keys.append(self.proof_key(binding.key))
            args += [b"fp:" + _utf8(binding.fingerprint), _milliseconds(binding.ttl)]
        try:
            session = self._sessions.current()
            found = await session.pipeline.call(session.claim_script, keys, args)
        except UnicodeDecodeError:  # a client with decode_responses got a non-UTF-8 record
            raise self._unreadable(key) from None
        if found == _CLAIMED:
            return Claim(ClaimState.CLAIMED, token=token)
        if found == _PROOF_REUSED:
            return Claim(ClaimState.PROOF_REUSED)
        if found == _UNREADABLE_PROOF and binding is not None:
            raise self._unreadable(binding.key)
        try:
            return self._parse(key, found)
        except DeliveryStoreError:
            if retried:
                raise
        # A damaged run record would answer 503 to every redelivery until it expires (24 h,
        # past the platform's retries): it is dropped -- only if unchanged -- and claimed anew.
        logger.error(
            "dropping an unreadable delivery record for key %r under prefix %r",
            key[:64],
            self.prefix,
        )
        await session.release_script(keys=[self.run_key(key)], args=[found])
        return await self._claim(key, lease=lease, binding=binding, retried=True)

    async def renew(self, key: str, token: str, *, lease: float) -> bool:
        """See `DeliveryStore.renew`."""
        renewed = await self._sessions.current().renew_script(
            keys=[self.run_key(key)], args=[_claim_record(token), _milliseconds(lease)]
        )
        return bool(renewed == 1)

    async def complete(self, key: str, token: str, response: StoredResponse, *, ttl: float) -> bool:
        """See `DeliveryStore.complete`."""
        session = self._sessions.current()
        stored = await session.pipeline.call(
            session.complete_script,
            [self.run_key(key)],
            [_claim_record(token), _done_record(response), _milliseconds(ttl)],
        )
        return bool(stored == 1)

    async def release(self, key: str, token: str) -> None:
        """See `DeliveryStore.release`."""
        await self._sessions.current().release_script(
            keys=[self.run_key(key)], args=[_claim_record(token)]
        )

    async def wait(
        self, key: str, *, timeout: float, poll: float = 0.05, lease: float = DEFAULT_LEASE
    ) -> Claim:
        """See `wait_by_polling`."""
        return await wait_by_polling(self, key, timeout=timeout, poll=poll, lease=lease)

    async def aclose(self) -> None:
        """Close the clients if this store created them (one per event loop it was used
        from; see ``kiket_sdk._per_event_loop``); a given client is left open."""
        if self._owns_client:
            await self._sessions.aclose()

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
        raise self._unreadable(key)

    def _unreadable(self, key: str) -> DeliveryStoreError:
        shown = key if len(key) <= 64 else f"{key[:64]}..."
        return DeliveryStoreError(
            f"unreadable delivery record for key {shown!r} under prefix {self.prefix!r}: is "
            "another program writing there?"
        )
