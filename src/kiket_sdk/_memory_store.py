"""`MemoryDeliveryStore`: the `DeliveryStore` kept in this process's memory (the default).

The protocol, the data types and the helpers shared by the stores live in `_delivery_store`,
which re-exports this class.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from kiket_sdk._delivery_store import (
    DEFAULT_CLAIM_TTL,
    Claim,
    ClaimState,
    StoredResponse,
    check_ttl,
    new_token,
    wait_by_polling,
)

__all__ = ["MemoryDeliveryStore"]

logger = logging.getLogger("kiket_sdk._delivery_store")  # one logger for all delivery stores


@dataclass(slots=True)
class _Entry:
    token: str | None  # None once done
    response: StoredResponse | None  # set once done
    expires_at: float


class MemoryDeliveryStore:
    """A `DeliveryStore` in this process's memory: right for one replica (and for tests).

    All operations are O(1) (amortised) and atomic: they never await while touching state, and
    a lock makes them safe from several threads/event loops too. Time is ``time.monotonic``.

    At most ``max_entries`` events and ``max_entries`` signatures are kept. When a new one
    arrives at the bound, room is made by evicting, in this order:

    1. the oldest expired entry (expired entries are also dropped lazily as they are touched);
    2. the oldest *done* entry (a redelivery of it would run the handler again);
    3. only if every entry is an in-progress claim: the oldest claim (its owner's
       ``complete`` then stores nothing). A warning is logged: raise ``max_entries``.

    "Oldest" is by insertion (claim or completion) time, which matches expiry order when the
    ttls are uniform, as the runtime's are.

    >>> import asyncio
    >>> async def demo() -> list[str]:
    ...     store = MemoryDeliveryStore(max_entries=100)
    ...     first = await store.claim("evt_1", ttl=60)
    ...     second = await store.claim("evt_1", ttl=60)
    ...     await store.complete("evt_1", first.token, StoredResponse(200, b"{}"), ttl=3600)
    ...     third = await store.claim("evt_1", ttl=60)
    ...     return [first.state.name, second.state.name, third.state.name]
    >>> asyncio.run(demo())
    ['CLAIMED', 'IN_PROGRESS', 'DONE']
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"max_entries must be an int >= 1, got {max_entries!r}")
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._claims: OrderedDict[str, _Entry] = OrderedDict()  # in progress, oldest first
        self._done: OrderedDict[str, _Entry] = OrderedDict()  # completed, oldest first
        self._signatures: OrderedDict[str, float] = OrderedDict()  # digest -> expires at

    def __len__(self) -> int:
        """Events currently held (claimed or done; expired ones not yet dropped included)."""
        return len(self._claims) + len(self._done)

    async def claim(self, key: str, *, ttl: float) -> Claim:
        """See `DeliveryStore.claim`."""
        ttl = check_ttl(ttl)
        with self._lock:
            now = time.monotonic()
            entry = self._claims.get(key)
            if entry is not None and entry.expires_at > now:
                return Claim(ClaimState.IN_PROGRESS)
            entry = self._done.get(key)
            if entry is not None and entry.expires_at > now:
                return Claim(ClaimState.DONE, response=entry.response)
            self._claims.pop(key, None)
            self._done.pop(key, None)
            self._make_room(now)
            token = new_token()
            self._claims[key] = _Entry(token, None, now + ttl)
            return Claim(ClaimState.CLAIMED, token=token)

    async def complete(self, key: str, token: str, response: StoredResponse, *, ttl: float) -> None:
        """See `DeliveryStore.complete`."""
        ttl = check_ttl(ttl)
        with self._lock:
            now = time.monotonic()
            entry = self._claims.get(key)
            if entry is None or entry.token != token or entry.expires_at <= now:
                logger.warning("delivery %r: claim lost before completion; not stored", key)
                return
            del self._claims[key]
            self._done[key] = _Entry(None, response, now + ttl)

    async def release(self, key: str, token: str) -> None:
        """See `DeliveryStore.release`."""
        with self._lock:
            entry = self._claims.get(key)
            if entry is not None and entry.token == token:
                del self._claims[key]

    async def wait(
        self, key: str, *, timeout: float, poll: float = 0.05, ttl: float = DEFAULT_CLAIM_TTL
    ) -> Claim:
        """See `wait_by_polling`."""
        return await wait_by_polling(self, key, timeout=timeout, poll=poll, ttl=ttl)

    async def remember_signature(self, digest: str, *, ttl: float) -> bool:
        """See `DeliveryStore.remember_signature`. At the bound the oldest digest is forgotten
        (the timestamp tolerance still refuses it once it is old)."""
        ttl = check_ttl(ttl)
        with self._lock:
            now = time.monotonic()
            expires_at = self._signatures.get(digest)
            if expires_at is not None and expires_at > now:
                return False
            self._signatures.pop(digest, None)
            while len(self._signatures) >= self.max_entries:
                self._signatures.popitem(last=False)
            self._signatures[digest] = now + ttl
            return True

    async def aclose(self) -> None:
        """Forget everything."""
        with self._lock:
            self._claims.clear()
            self._done.clear()
            self._signatures.clear()

    def _make_room(self, now: float) -> None:
        """Drop a few expired entries, then evict per the class docs until one more fits."""
        for queue in (self._done, self._claims):
            for _ in range(2):  # more expiry pops than inserts: memory follows the live set
                if not queue or _first(queue).expires_at > now:
                    break
                queue.popitem(last=False)
        while len(self) >= self.max_entries:
            if self._claims and _first(self._claims).expires_at <= now:
                self._claims.popitem(last=False)  # expired claim (expired done: popped next)
            elif self._done:
                self._done.popitem(last=False)
            else:
                key, _ = self._claims.popitem(last=False)
                logger.warning(
                    "MemoryDeliveryStore is full of in-progress claims (max_entries=%d): "
                    "evicted the claim of %r",
                    self.max_entries,
                    key,
                )


def _first(queue: OrderedDict[str, _Entry]) -> _Entry:
    return next(iter(queue.values()))
