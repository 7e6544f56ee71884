"""Exactly one handler run per event, across retries and replicas.

Kiket retries a delivery when the extension answers 5xx or times out, and may redeliver an event
it already delivered. Extensions often run as several replicas behind a load balancer. The
runtime therefore records every event it handles in a `DeliveryStore` shared by all replicas:

1. The first delivery of an event **claims** its key (`dedupe_key`: the body's ``id``, else
   ``event_id``, else ``delivery_id``), runs the handler and **completes** the claim with the
   response, which is kept for 24 h (`DEFAULT_RESULT_TTL`, longer than the platform's 8 h retry
   window).
2. A redelivery after completion gets the stored response back, with the header
   ``X-Kiket-Duplicate: true``; the handler does not run again.
3. A duplicate that arrives while the first is still running **waits** (bounded) for it to
   finish and then answers like 2; past the bound it answers ``409 Conflict`` so that Kiket
   retries later.
4. When the handler fails (the runtime answers 5xx), the claim is **released**, so the retry
   runs the handler again. A crashed replica's claim expires after its ttl
   (`DEFAULT_CLAIM_TTL`).
5. Events without an id are processed normally, with no deduplication.

Independently, `remember_signature` turns away a replayed request (same timestamp and signature,
see `replay_digest`) inside the signature tolerance window.

Two stores ship: `MemoryDeliveryStore` (one process; the default) and `RedisDeliveryStore`
(``pip install 'kiket-sdk[redis]'``; shared by all replicas). `delivery_store_from_env` picks
Redis when ``KIKET_REDIS_URL`` is set.

```python
import asyncio

from kiket_sdk._delivery_store import ClaimState, MemoryDeliveryStore, StoredResponse, dedupe_key


async def handle(store: MemoryDeliveryStore, payload: dict[str, object]) -> StoredResponse:
    key = dedupe_key(payload)
    assert key is not None  # no id: just run the handler
    claim = await store.claim(key, ttl=60)
    if claim.state is ClaimState.IN_PROGRESS:
        claim = await store.wait(key, timeout=5)
    if claim.state is ClaimState.DONE:
        assert claim.response is not None
        return claim.response  # sent with X-Kiket-Duplicate: true
    if claim.state is ClaimState.IN_PROGRESS:
        return StoredResponse(409, b'{"error":"delivery in progress"}')
    assert claim.token is not None
    try:
        response = StoredResponse(200, b'{"ok":true}')  # the handler runs here
    except Exception:
        await store.release(key, claim.token)
        raise
    await store.complete(key, claim.token, response, ttl=24 * 3600)
    return response


async def main() -> None:
    store = MemoryDeliveryStore()
    first = await handle(store, {"id": "evt_1", "event": "issue.created"})
    again = await handle(store, {"id": "evt_1", "event": "issue.created"})
    assert first == again
    await store.aclose()


asyncio.run(main())
```
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import importlib
import logging
import math
import os
import secrets
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from kiket_sdk._envelope import dedupe_key  # the rule lives with the envelope; re-exported

if TYPE_CHECKING:
    from kiket_sdk._memory_store import MemoryDeliveryStore
    from kiket_sdk._redis_store import RedisDeliveryStore

__all__ = [
    "DEFAULT_CLAIM_TTL",
    "DEFAULT_REPLAY_TTL",
    "DEFAULT_RESULT_TTL",
    "DUPLICATE_HEADER",
    "REDIS_URL_ENV",
    "Claim",
    "ClaimState",
    "DeliveryStore",
    "MemoryDeliveryStore",
    "RedisDeliveryStore",
    "StoredResponse",
    "dedupe_key",
    "delivery_store_from_env",
    "replay_digest",
]

DEFAULT_CLAIM_TTL = 60.0
"""Seconds a claim lives without `complete`/`release` (a crashed replica's claim then expires)."""
DEFAULT_RESULT_TTL = 24 * 3600.0
"""Seconds a completed delivery's response is kept: longer than Kiket's 8 h retry window."""
DEFAULT_REPLAY_TTL = 600.0
"""Seconds a signature is remembered: the whole +-300 s window the timestamp check accepts."""
DUPLICATE_HEADER = "X-Kiket-Duplicate"
REDIS_URL_ENV = "KIKET_REDIS_URL"

logger = logging.getLogger(__name__)

_FRAME_VERSION = 1
_FRAME_HEADER = struct.Struct(">BHH")  # version, status code, length of the content type
_SIGNATURE_PREFIX = "sha256="


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The response a handler produced, kept so a redelivery can be answered with it.

    ``to_bytes`` is a compact binary frame (5 header bytes, the content type, the body as is):

    >>> response = StoredResponse(201, b'{"ok":true}')
    >>> response.to_bytes()
    b'\\x01\\x00\\xc9\\x00\\x10application/json{"ok":true}'
    >>> StoredResponse.from_bytes(response.to_bytes()) == response
    True
    """

    status_code: int
    body: bytes
    content_type: str = "application/json"

    def __post_init__(self) -> None:
        if isinstance(self.status_code, bool) or not isinstance(self.status_code, int):
            raise TypeError("StoredResponse.status_code must be an int")
        if not 100 <= self.status_code <= 599:
            raise ValueError(f"StoredResponse.status_code out of range: {self.status_code}")
        if not isinstance(self.body, bytes):
            object.__setattr__(self, "body", bytes(self.body))
        if len(self.content_type.encode("utf-8")) > 0xFFFF:
            raise ValueError("StoredResponse.content_type is too long")

    def to_bytes(self) -> bytes:
        """Encode as ``version | status | len(content type) | content type | body``."""
        content_type = self.content_type.encode("utf-8")
        header = _FRAME_HEADER.pack(_FRAME_VERSION, self.status_code, len(content_type))
        return header + content_type + self.body

    @classmethod
    def from_bytes(cls, data: bytes) -> StoredResponse:
        """Decode what `to_bytes` produced; ``ValueError`` for anything else.

        >>> StoredResponse.from_bytes(b"garbage")
        Traceback (most recent call last):
        ValueError: not a stored response (unknown frame version 103)
        """
        data = bytes(data)
        if len(data) < _FRAME_HEADER.size:
            raise ValueError("not a stored response (too short)")
        version, status_code, type_length = _FRAME_HEADER.unpack_from(data)
        if version != _FRAME_VERSION:
            raise ValueError(f"not a stored response (unknown frame version {version})")
        start = _FRAME_HEADER.size
        if len(data) < start + type_length:
            raise ValueError("not a stored response (truncated content type)")
        try:
            content_type = data[start : start + type_length].decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("not a stored response (content type is not UTF-8)") from None
        return cls(status_code, data[start + type_length :], content_type)


class ClaimState(enum.Enum):
    """What `DeliveryStore.claim` found."""

    CLAIMED = "claimed"
    """The key was free and now belongs to the caller (``Claim.token``): run the handler."""
    IN_PROGRESS = "in_progress"
    """Someone else holds the claim and has not completed it yet."""
    DONE = "done"
    """The event was handled; ``Claim.response`` is what to answer."""


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of `DeliveryStore.claim` / `DeliveryStore.wait`.

    ``token`` is set for `ClaimState.CLAIMED` (pass it to ``complete``/``release``; nobody else
    can), ``response`` for `ClaimState.DONE`.
    """

    state: ClaimState
    response: StoredResponse | None = None
    token: str | None = None


@runtime_checkable
class DeliveryStore(Protocol):
    """Where the runtime records which events were handled (shared by all replicas).

    Every method is safe to call concurrently. ``ttl`` arguments are seconds (> 0).
    """

    async def claim(self, key: str, *, ttl: float) -> Claim:
        """Atomically claim ``key``: first caller -> ``CLAIMED`` (with a token), while claimed
        -> ``IN_PROGRESS``, after `complete` -> ``DONE`` (with the response). The claim expires
        after ``ttl`` unless completed or released."""
        ...

    async def complete(self, key: str, token: str, response: StoredResponse, *, ttl: float) -> None:
        """Store ``response`` for ``ttl`` seconds and mark ``key`` done, if ``token`` still owns
        the claim (else nothing happens: it expired or was released)."""
        ...

    async def release(self, key: str, token: str) -> None:
        """Drop the claim so that a retry runs the handler; only the owning ``token`` can."""
        ...

    async def wait(
        self, key: str, *, timeout: float, poll: float = 0.05, ttl: float = DEFAULT_CLAIM_TTL
    ) -> Claim:
        """Poll ``key`` every ``poll`` s for up to ``timeout`` s (see `wait_by_polling`); ``ttl``
        is the lifetime of the claim taken when the key became free."""
        ...

    async def remember_signature(self, digest: str, *, ttl: float) -> bool:
        """``True`` the first time ``digest`` is seen within ``ttl``, ``False`` for a replay."""
        ...

    async def aclose(self) -> None:
        """Release connections (a store given a client it does not own leaves it open)."""
        ...


async def wait_by_polling(
    store: DeliveryStore, key: str, *, timeout: float, poll: float, ttl: float
) -> Claim:
    """`DeliveryStore.wait` for every store: call ``claim`` until it is not ``IN_PROGRESS``.

    * the holder completed -> the ``DONE`` claim, with the stored response;
    * the claim was released or expired -> the caller claims the key itself and gets
      ``CLAIMED`` (with a token that ``ttl`` applies to): it must run the handler now;
    * still in progress after ``timeout`` -> ``Claim(ClaimState.IN_PROGRESS)``.

    The key is checked at least once, also with ``timeout=0``.
    """
    if not poll > 0:
        raise ValueError(f"poll must be > 0, got {poll!r}")
    if not timeout >= 0:
        raise ValueError(f"timeout must be >= 0, got {timeout!r}")
    deadline = time.monotonic() + timeout
    while True:
        claim = await store.claim(key, ttl=ttl)
        if claim.state is not ClaimState.IN_PROGRESS:
            return claim
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Claim(ClaimState.IN_PROGRESS)
        await asyncio.sleep(min(poll, remaining))


def check_ttl(ttl: float) -> float:
    """``ttl`` as a float, or ``ValueError`` unless it is a finite number of seconds > 0."""
    value = float(ttl)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"ttl must be a finite number of seconds > 0, got {ttl!r}")
    return value


def new_token() -> str:
    """An unguessable claim token."""
    return secrets.token_hex(16)


def replay_digest(timestamp: str, signature: str) -> str:
    """SHA-256 hex of ``timestamp + "." + signature``: the replay guard's key for a request.

    The signature is normalised the way verification reads it (``sha256=`` prefix dropped,
    lower case), so a replay cannot pass as new by re-spelling the header.

    >>> sig = "ab" * 32
    >>> replay_digest("1767225600", sig) == replay_digest(" 1767225600", "SHA256=" + sig.upper())
    True
    >>> len(replay_digest("1767225600", sig))
    64
    """
    stamp = timestamp.strip(" \t")
    text = signature.strip(" \t")
    if text[: len(_SIGNATURE_PREFIX)].lower() == _SIGNATURE_PREFIX:
        text = text[len(_SIGNATURE_PREFIX) :]
    message = f"{stamp}.{text.lower()}".encode()
    return hashlib.sha256(message).hexdigest()


def delivery_store_from_env(environ: Mapping[str, str] | None = None) -> DeliveryStore:
    """`RedisDeliveryStore` when ``KIKET_REDIS_URL`` is set (non-blank), else a
    `MemoryDeliveryStore`. ``environ`` defaults to ``os.environ``.

    >>> type(delivery_store_from_env({})).__name__
    'MemoryDeliveryStore'
    >>> type(delivery_store_from_env({"KIKET_REDIS_URL": "redis://127.0.0.1:6379/0"})).__name__
    'RedisDeliveryStore'
    """
    env = os.environ if environ is None else environ
    url = (env.get(REDIS_URL_ENV) or "").strip()
    if not url:
        from kiket_sdk._memory_store import MemoryDeliveryStore

        return MemoryDeliveryStore()
    from kiket_sdk._redis_store import RedisDeliveryStore

    return RedisDeliveryStore.from_url(url)


# The stores live in their own modules, which import this one: they are loaded on first use.
_LAZY_EXPORTS = {
    "MemoryDeliveryStore": "kiket_sdk._memory_store",
    "RedisDeliveryStore": "kiket_sdk._redis_store",
}

if not TYPE_CHECKING:  # type checkers see the imports at the top, so typos stay errors

    def __getattr__(name: str) -> Any:
        module = _LAZY_EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)
