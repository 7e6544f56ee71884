"""`MemoryDeliveryStore`: the `DeliveryStore` kept in this process's memory (the default)."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from kiket_sdk._stores.base import (
    DEFAULT_LEASE,
    Claim,
    ClaimState,
    ProofBinding,
    StoredResponse,
    check_ttl,
    new_token,
    wait_by_polling,
)

__all__ = ["MemoryDeliveryStore"]

logger = logging.getLogger("kiket_sdk.stores")


@dataclass(slots=True)
class _Entry:
    token: str | None  # None once done
    response: StoredResponse | None  # set once done
    expires_at: float


class MemoryDeliveryStore:
    """A `DeliveryStore` in this process's memory: right for one replica (and for tests).

    Every operation is O(1) (amortised) and atomic: nothing awaits while touching state, and a
    lock makes it safe from several threads and event loops too. Time is ``time.monotonic``.
    Nothing survives a restart of the process: a redelivery after a restart runs the handler
    again (use `RedisDeliveryStore` with persistence for that).

    At most ``max_entries`` run records (default 100,000) and as many proof bindings are kept.
    At the bound, room is made by evicting, in this order: an expired record; the oldest *done*
    record (a redelivery of it would run the handler again); only if every record is a live
    claim, the oldest claim (a warning is logged: raise ``max_entries``).

    >>> import asyncio
    >>> async def demo() -> list[str]:
    ...     store = MemoryDeliveryStore(max_entries=100)
    ...     first = await store.claim("evt_1", lease=30)
    ...     second = await store.claim("evt_1", lease=30)
    ...     await store.complete("evt_1", first.token, StoredResponse(200, b"{}"), ttl=3600)
    ...     third = await store.claim("evt_1", lease=30)
    ...     return [first.state.name, second.state.name, third.state.name]
    >>> asyncio.run(demo())
    ['CLAIMED', 'IN_PROGRESS', 'DONE']
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries: int = _checked_max_entries(max_entries)
        self._lock = threading.Lock()
        self._claims: OrderedDict[str, _Entry] = OrderedDict()  # in progress, oldest first
        self._done: OrderedDict[str, _Entry] = OrderedDict()  # completed, oldest first
        self._bindings: OrderedDict[str, tuple[str, float]] = OrderedDict()  # fingerprint, expiry

    def __len__(self) -> int:
        """Run records currently held (claimed or done; expired ones not yet dropped included)."""
        return len(self._claims) + len(self._done)

    async def claim(self, key: str, *, lease: float, binding: ProofBinding | None = None) -> Claim:
        """See `DeliveryStore.claim`."""
        lease = check_ttl(lease)
        binding_ttl = check_ttl(binding.ttl) if binding is not None else 0.0
        with self._lock:
            now = time.monotonic()
            if binding is not None and not self._bind(binding, binding_ttl, now):
                return Claim(ClaimState.PROOF_REUSED)
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
            self._claims[key] = _Entry(token, None, now + lease)
            return Claim(ClaimState.CLAIMED, token=token)

    async def renew(self, key: str, token: str, *, lease: float) -> bool:
        """See `DeliveryStore.renew`."""
        lease = check_ttl(lease)
        with self._lock:
            now = time.monotonic()
            entry = self._claims.get(key)
            if entry is None or entry.token != token or entry.expires_at <= now:
                return False
            entry.expires_at = now + lease
            return True

    async def complete(self, key: str, token: str, response: StoredResponse, *, ttl: float) -> bool:
        """See `DeliveryStore.complete`."""
        ttl = check_ttl(ttl)
        with self._lock:
            now = time.monotonic()
            done = self._done.get(key)
            if done is not None and done.expires_at > now:
                return False
            entry = self._claims.get(key)
            if entry is not None and entry.expires_at > now and entry.token != token:
                return False
            if self._claims.pop(key, None) is None:  # no claim made room for this record
                self._done.pop(key, None)
                self._make_room(now)
            self._done[key] = _Entry(None, response, now + ttl)
            return True

    async def release(self, key: str, token: str) -> None:
        """See `DeliveryStore.release`."""
        with self._lock:
            entry = self._claims.get(key)
            if entry is not None and entry.token == token:
                del self._claims[key]

    async def wait(
        self, key: str, *, timeout: float, poll: float = 0.05, lease: float = DEFAULT_LEASE
    ) -> Claim:
        """See `wait_by_polling`."""
        return await wait_by_polling(self, key, timeout=timeout, poll=poll, lease=lease)

    async def aclose(self) -> None:
        """Forget everything."""
        with self._lock:
            self._claims.clear()
            self._done.clear()
            self._bindings.clear()

    def _bind(self, binding: ProofBinding, ttl: float, now: float) -> bool:
        found = self._bindings.get(binding.key)
        if found is not None and found[1] > now:
            return found[0] == binding.fingerprint
        bindings = self._bindings
        if found is not None:
            del bindings[binding.key]
        for _ in range(2):  # drop expired bindings as fast as new ones arrive
            if not bindings or next(iter(bindings.values()))[1] > now:
                break
            bindings.popitem(last=False)
        while len(bindings) >= self.max_entries:
            bindings.popitem(last=False)
        self._bindings[binding.key] = (binding.fingerprint, now + ttl)
        return True

    def _make_room(self, now: float) -> None:
        """Drop a few expired records, then evict per the class docs until one more fits."""
        for queue in (self._done, self._claims):
            for _ in range(2):  # more expiry pops than inserts: memory follows the live set
                if not queue or next(iter(queue.values())).expires_at > now:
                    break
                queue.popitem(last=False)
        if len(self._claims) + len(self._done) < self.max_entries:
            return
        while len(self) >= self.max_entries:
            if self._claims and _first(self._claims).expires_at <= now:
                self._claims.popitem(last=False)
            elif self._done:
                self._done.popitem(last=False)
            else:
                key, _ = self._claims.popitem(last=False)
                logger.warning(
                    "MemoryDeliveryStore is full of live claims (max_entries=%d): evicted the "
                    "claim of %s",
                    self.max_entries,
                    key[:16],
                )


def _first(queue: OrderedDict[str, _Entry]) -> _Entry:
    return next(iter(queue.values()))


def _checked_max_entries(value: object) -> int:
    """``max_entries``: an int >= 1 (``True`` is not one); ``ValueError`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_entries must be an int >= 1, got {value!r}")
    return value
