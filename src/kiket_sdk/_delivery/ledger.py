"""The delivery ledger: retries, redeliveries, duplicates and replays as one model.

Every delivery that carries a proof, or an event id, is recorded in a `DeliveryStore`:

* **A delivery is its proven bytes on its route.** Its proof (see `proof.Proof`) is *bound* to
  the route and body it first came with: the same proof again on the same route is the same
  delivery (a retry), on another route or with another body it is refused (401).
* **An event is (extension, event, version, id).** Its *run record* is claimed by the one
  delivery whose handler runs; later deliveries of the event -- retries of the same bytes, or
  freshly signed redeliveries -- get the stored answer (``X-Kiket-Duplicate: true``), wait for
  a running one (at most ``duplicate_wait`` s, then 409 + ``Retry-After``), or run the handler
  again when the last run answered 5xx or timed out. A delivery without an id is its own event:
  its run record is keyed by its proof. ``deduplicate=False`` drops the id from the key (every
  freshly signed delivery runs), never the proof binding.
* **A claim is a lease.** It lasts ``lease`` seconds and the running handler renews it every
  third of that; a process that dies leaves a claim that others may take after at most one
  lease. A handler that outlives its delivery's answer (a thread past ``handler_timeout``)
  keeps renewing until it ends, and its outcome is then recorded.
* **It fails closed.** When the store cannot be reached the delivery gets 503 + ``Retry-After``
  and no handler runs; a completion that cannot be recorded is retried for up to
  ``completion_retry_window`` seconds (tenacity), then logged with the event id.

Keys are SHA-256 digests of their parts, so any id JSON allows is a key in every store, and
extensions sharing one store never see each other's records.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import tenacity

from kiket_sdk._delivery import messages as msg
from kiket_sdk._delivery.answer import Answer, failure
from kiket_sdk._delivery.proof import Proof
from kiket_sdk._stores.base import (
    DEFAULT_LEASE,
    DEFAULT_RESULT_TTL,
    ClaimState,
    DeliveryStore,
    ProofBinding,
    StoredResponse,
)

__all__ = ["DUPLICATE_HEADER", "Ledger", "Ticket"]

logger = logging.getLogger("kiket_sdk")

DUPLICATE_HEADER = "x-kiket-duplicate"
_RETRY_AFTER_IN_PROGRESS = 30.0
_RETRY_AFTER_UNAVAILABLE = 5.0


def _key(*parts: str | bytes) -> str:
    # The repr of a tuple quotes and escapes each part: no two tuples share one (any NUL,
    # colon or lone surrogate in an id included), and repr runs in C.
    return hashlib.sha256(repr(parts).encode("utf-8", "backslashreplace")).hexdigest()


@dataclass(frozen=True, slots=True)
class Ticket:
    """A claim on a run record, held while its handler can still run."""

    key: str
    token: str
    label: str
    """What to name in logs: the event id, or ``event@version`` when there is none."""


class Ledger:
    """Claims, waits and records handler runs in a store (see the module docstring).

    ``store``: a callable returning the `DeliveryStore` (created on first use). ``scope``: the
    extension id (keys of different extensions never meet). ``lease``, ``duplicate_wait``,
    ``result_ttl``, ``completion_retry_window``: seconds.
    """

    def __init__(
        self,
        store: Callable[[], DeliveryStore],
        *,
        scope: str,
        deduplicate: bool = True,
        duplicate_wait: float = 10.0,
        lease: float = DEFAULT_LEASE,
        result_ttl: float = DEFAULT_RESULT_TTL,
        completion_retry_window: float = 30.0,
    ) -> None:
        self._store = store
        self.scope = scope
        self.deduplicate = deduplicate
        self.duplicate_wait = duplicate_wait
        self.lease = lease
        self.result_ttl = result_ttl
        self.completion_retry_window = completion_retry_window
        self._held: dict[str, Ticket] = {}
        self._renewer: asyncio.Task[None] | None = None

    async def begin(
        self, *, event: str, version: str, body: bytes, proof: Proof, event_key: str | None
    ) -> Answer | Ticket | None:
        """Before the handler: an `Answer` to send instead (stored, 401, 409, 503), a `Ticket`
        to run under, or ``None`` when there is nothing to record (no proof and no id).
        ``event_key`` is the envelope's `envelope.event_key_of`."""
        if self.deduplicate and event_key is not None:
            run_key = _key("event", self.scope, event, version, event_key)
            label = repr(msg.echo(event_key[2:]))  # the id, without the kind tag
        elif proof.binding_key is not None:
            run_key = _key("delivery", self.scope, proof.binding_key)
            label = repr(msg.echo(f"{event}@{version}"))
        else:
            return None
        binding = None
        if proof.binding_key is not None:
            fingerprint = _key(event, version, hashlib.sha256(body).digest())
            binding = ProofBinding(
                _key("proof", self.scope, proof.binding_key), fingerprint, proof.binding_ttl
            )
        store = self._store()
        try:
            claim = await store.claim(run_key, lease=self.lease, binding=binding)
            if claim.state is ClaimState.IN_PROGRESS:
                claim = await store.wait(run_key, timeout=self.duplicate_wait, lease=self.lease)
        except Exception as exc:
            logger.error(
                "delivery ledger unavailable for %s (%s); answered 503",
                label,
                type(exc).__name__,
            )
            return failure(503, msg.LEDGER_UNAVAILABLE, retry_after=_RETRY_AFTER_UNAVAILABLE)
        if claim.state is ClaimState.CLAIMED and claim.token is not None:
            return Ticket(run_key, claim.token, label)
        if claim.state is ClaimState.DONE and claim.response is not None:
            stored = claim.response
            headers = {"content-type": stored.content_type, DUPLICATE_HEADER: "true"}
            return Answer(stored.status_code, stored.body, headers)
        if claim.state is ClaimState.PROOF_REUSED:
            reused = msg.PROOF_REUSED_SIGNATURE if proof.kind == "hmac" else msg.PROOF_REUSED_TOKEN
            return failure(401, reused)
        return failure(409, msg.IN_PROGRESS, retry_after=_RETRY_AFTER_IN_PROGRESS)

    def keep(self, ticket: Ticket) -> None:
        """Keep ``ticket``'s lease alive until `drop` (one renewer task per event loop renews
        every kept claim every third of the lease). Call from the event loop."""
        self._held[ticket.key] = ticket
        renewer = self._renewer
        loop = asyncio.get_running_loop()
        if renewer is None or renewer.done() or renewer.get_loop() is not loop:
            self._renewer = loop.create_task(self._renew_held())

    def drop(self, ticket: Ticket) -> None:
        """Stop renewing ``ticket`` (its handler ended)."""
        self._held.pop(ticket.key, None)

    async def _renew_held(self) -> None:
        while self._held:
            await asyncio.sleep(self.lease / 3)
            tickets = list(self._held.values())
            results = await asyncio.gather(
                *(self._store().renew(t.key, t.token, lease=self.lease) for t in tickets),
                return_exceptions=True,
            )
            for ticket, result in zip(tickets, results, strict=True):
                if isinstance(result, BaseException):
                    logger.warning(
                        "delivery %s: could not renew its claim (%s)",
                        ticket.label,
                        type(result).__name__,
                    )
                elif not result and ticket.key in self._held:
                    logger.warning("delivery %s: its claim was lost while running", ticket.label)

    async def aclose(self) -> None:
        """Stop renewing (at shutdown, after the last handler ended)."""
        renewer, self._renewer = self._renewer, None
        if renewer is not None and not renewer.done():
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await renewer

    async def finish(self, ticket: Ticket, answer: Answer) -> None:
        """After the handler: a 5xx releases the claim (the retry runs again); any other
        answer is recorded for redeliveries. Never raises."""
        store = self._store()
        if answer.status >= 500:
            try:
                await store.release(ticket.key, ticket.token)
            except Exception as exc:  # the lease runs out on its own
                logger.warning(
                    "delivery %s: could not release its claim (%s); it expires within %g s",
                    ticket.label,
                    type(exc).__name__,
                    self.lease,
                )
            return
        response = StoredResponse(
            answer.status, answer.body, answer.headers.get("content-type", "application/json")
        )
        try:
            try:  # the first attempt without the retry machinery: it is the hot path
                recorded = await store.complete(
                    ticket.key, ticket.token, response, ttl=self.result_ttl
                )
            except Exception as first:
                logger.warning(
                    "delivery %s: recording its answer failed (%s); retrying for up to %g s",
                    ticket.label,
                    type(first).__name__,
                    self.completion_retry_window,
                )
                recorded = await self._complete_with_retries(ticket, response)
        except Exception as exc:
            logger.error(
                "delivery %s: its answer (HTTP %d) could not be recorded (%s); a redelivery "
                "may run the handler again",
                ticket.label,
                answer.status,
                type(exc).__name__,
            )
            return
        if not recorded:
            logger.warning(
                "delivery %s: another delivery took its claim before its answer was recorded",
                ticket.label,
            )

    async def _complete_with_retries(self, ticket: Ticket, response: StoredResponse) -> bool:
        retrying = tenacity.AsyncRetrying(
            stop=tenacity.stop_after_delay(self.completion_retry_window),
            wait=tenacity.wait_exponential(multiplier=0.1, max=2.0),
            reraise=True,
        )
        recorded = False
        async for attempt in retrying:
            with attempt:
                recorded = await self._store().complete(
                    ticket.key, ticket.token, response, ttl=self.result_ttl
                )
        return recorded
