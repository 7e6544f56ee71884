"""Delivery guarantees around the dispatcher: exactly-once handler runs, replay guard, deferred
work after the answer, and a graceful shutdown.

- Dedupe key: the event id inside the signed body (``id``, else ``event_id``/``delivery_id``).
  The first delivery claims it, runs the handler and stores the answer; a redelivery after that
  gets the stored answer with ``X-Kiket-Duplicate: true``; a duplicate that arrives while the
  first still runs waits up to ``duplicate_wait`` seconds, then gets 409 so Kiket retries later.
  A 5xx answer releases the claim so the retry runs the handler again. Events without an id are
  processed every time.
- Replay guard: a byte-identical request (same timestamp and signature) inside the signature
  tolerance window is refused with 401.
- ``ctx.defer(fn, ...)`` work runs after the answer is sent; shutdown waits for it and for
  in-flight deliveries up to ``shutdown_grace`` seconds and logs what it could not finish.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from kiket_sdk._delivery_store import (
    ClaimState,
    DeliveryStore,
    StoredResponse,
    delivery_store_from_env,
    replay_digest,
)
from kiket_sdk._dispatch import Answer, GuardTicket, InboundRequest, error_body
from kiket_sdk._telemetry import TelemetryRecord

if TYPE_CHECKING:
    from kiket_sdk._app import KiketSDK

__all__ = ["DeliveryRuntime"]

logger = logging.getLogger("kiket_sdk")

CLAIM_TTL = 15 * 60.0
RESULT_TTL = 24 * 3600.0


class DeliveryRuntime:
    """Wraps ``sdk.dispatcher`` with the guarantees above; one per SDK."""

    def __init__(self, sdk: KiketSDK, *, duplicate_wait: float = 10.0) -> None:
        self.sdk = sdk
        self.duplicate_wait = duplicate_wait
        self._store: DeliveryStore | None = sdk.delivery_store
        self._deferred: set[asyncio.Task[None]] = set()
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.accepting = True

    @property
    def store(self) -> DeliveryStore:
        """The delivery store (``KIKET_REDIS_URL`` -> Redis, else in memory)."""
        if self._store is None:
            self._store = delivery_store_from_env()
        return self._store

    async def handle(self, request: InboundRequest) -> Answer:
        """Dispatch one delivery under the guarantees; always returns an ``Answer``."""
        if not self.accepting:
            answer = Answer(503, error_body("extension is shutting down; retry later"))
            answer.headers["retry-after"] = "5"
            return answer
        self._inflight += 1
        self._idle.clear()
        try:
            guard = self if self.sdk.deduplicate else None
            answer = await self.sdk.dispatcher.dispatch(request, guard=guard)
        finally:
            self._inflight -= 1
            if self._inflight == 0:
                self._idle.set()
        if answer.deferred:
            self._schedule(answer)
        return answer

    # -- the guard the dispatcher calls around a handler ------------------------------------

    async def enter(
        self, event_id: str | None, signature: tuple[str, str] | None
    ) -> Answer | GuardTicket | None:
        """Before the handler: an ``Answer`` to send instead, or a ticket for ``leave``."""
        store = self.store
        if signature is not None:
            ttl = 2 * self.sdk.verifier.tolerance
            if not await store.remember_signature(replay_digest(*signature), ttl=ttl):
                return Answer(401, error_body("replayed delivery: this signature was already used"))
        if event_id is None:
            return None
        # Scoped by extension: several extensions may share one Redis database.
        key = f"{self.sdk.extension_id or '-'}:{event_id}"
        claim = await store.claim(key, ttl=CLAIM_TTL)
        if claim.state is ClaimState.IN_PROGRESS:
            claim = await store.wait(key, timeout=self.duplicate_wait, ttl=CLAIM_TTL)
        if claim.state is ClaimState.CLAIMED:
            return GuardTicket(key, claim.token)
        if claim.state is ClaimState.DONE and claim.response is not None:
            stored = claim.response
            answer = Answer(stored.status_code, stored.body)
            answer.headers = {"content-type": stored.content_type, "x-kiket-duplicate": "true"}
            return answer
        answer = Answer(409, error_body("this event is being processed by another delivery"))
        answer.headers["retry-after"] = "30"
        return answer

    async def leave(self, ticket: GuardTicket, answer: Answer) -> None:
        """After the handler: store a final answer, release the claim after a 5xx."""
        store = self.store
        try:
            if answer.status >= 500 or ticket.token is None:
                if ticket.token is not None:
                    await store.release(ticket.key, ticket.token)
                return
            response = StoredResponse(
                answer.status, answer.body, answer.headers.get("content-type", "application/json")
            )
            await store.complete(ticket.key, ticket.token, response, ttl=RESULT_TTL)
        except Exception:
            logger.exception("delivery store failed to record the outcome of %s", ticket.key)

    # -- deferred work and shutdown --------------------------------------------------------

    def _schedule(self, answer: Answer) -> None:
        for fn, args, kwargs in answer.deferred:
            task = asyncio.get_running_loop().create_task(self._run_deferred(fn, args, kwargs))
            self._deferred.add(task)
            task.add_done_callback(self._deferred.discard)

    async def _run_deferred(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        name = getattr(fn, "__qualname__", repr(fn))
        try:
            if inspect.iscoroutinefunction(fn):
                await fn(*args, **kwargs)
            else:
                result = await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))
                if inspect.isawaitable(result):
                    await result
        except Exception as exc:
            logger.exception("deferred work %s failed", name)
            self.sdk.telemetry.report(
                TelemetryRecord(
                    event="deferred",
                    version="-",
                    status="error",
                    duration_ms=0.0,
                    extension_id=self.sdk.extension_id,
                    extension_version=self.sdk.extension_version,
                    error_class=type(exc).__name__,
                    metadata={"function": name},
                )
            )

    @property
    def pending_deferred(self) -> int:
        """How many deferred jobs are still running."""
        return len(self._deferred)

    async def shutdown(self, grace: float | None = None) -> None:
        """Stop accepting, wait for in-flight deliveries and deferred work, log leftovers."""
        self.accepting = False
        grace = self.sdk.shutdown_grace if grace is None else grace
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=grace)
        except TimeoutError:
            logger.error(
                "shutdown: %d deliveries still running after %.0f s", self._inflight, grace
            )
        while self._deferred and loop.time() < deadline:
            await asyncio.wait(set(self._deferred), timeout=max(0.0, deadline - loop.time()))
        if self._deferred:
            names = sorted(getattr(t.get_coro(), "__qualname__", "?") for t in self._deferred)
            logger.error("shutdown: %d deferred jobs did not finish: %s", len(names), names)
        if self._store is not None:
            await self._store.aclose()
