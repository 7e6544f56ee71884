"""Delivery observation: what happened during each delivery, as a stream of frozen records.

Register an observer with `KiketSDK.observe`; it is called with one record per step of every
delivery, in this order:

1. `DeliveryStarted` -- the request as the pipeline got it (route, headers, body bytes);
2. `ProofChecked` -- which proof vouched (``"hmac"``, ``"runtime_token"``, ``"none"``), or why
   the delivery was refused (absent when the delivery was refused before any proof was asked
   for: no version, no handler, a body that is not the event's JSON);
3. `LedgerChecked` -- what the delivery ledger decided (`LedgerOutcome`);
4. `OutboundCall` -- each HTTP request the handler (or its deferred work) sent to the Kiket API,
   one per attempt (a retry is another record, with ``resend_count`` > 0);
5. `HandlerFailed` -- only when the handler raised or timed out: the exception;
6. `DeliveryEnded` -- the answer (status, headers, body) and the time the pipeline took;
7. `DeferredStarted` / `DeferredEnded` -- each ``ctx.defer`` job, after the answer.

Every record carries ``delivery``, the `ObservedDelivery` it belongs to (its ``serial``
groups the records of one delivery). Observers are called synchronously, on the thread that made
the step (a plain ``def`` handler's outbound calls: its worker thread), so they should be quick
and thread-safe; one that raises is logged and the delivery goes on. With no observer registered
nothing here runs: the pipeline and the HTTP core check one attribute and one context variable.

The HTTP core finds the delivery an outbound call belongs to through `current_delivery`, a
``contextvars.ContextVar`` the pipeline sets while it serves an observed delivery (deferred jobs
and worker threads inherit it), and the deferred job through `current_deferred_job`.

Example::

    from kiket_sdk import KiketSDK
    from kiket_sdk.observation import DeliveryEnded, Observation

    sdk = KiketSDK(webhook_secret="sh_123")

    @sdk.observe
    def log_answers(record: Observation) -> None:
        if isinstance(record, DeliveryEnded):
            print(record.delivery.serial, record.status, f"{record.duration * 1000:.1f} ms")

>>> registry = DeliveryObservers()
>>> seen: list[Observation] = []
>>> registry.add(seen.append) is not None, bool(registry)
(True, True)
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

__all__ = [
    "DeferredEnded",
    "DeferredStarted",
    "DeliveryEnded",
    "DeliveryObserver",
    "DeliveryObservers",
    "DeliveryStarted",
    "HandlerFailed",
    "LedgerChecked",
    "LedgerOutcome",
    "Observation",
    "ObservedDelivery",
    "OutboundCall",
    "ProofChecked",
    "current_deferred_job",
    "current_delivery",
]

logger: logging.Logger = logging.getLogger("kiket_sdk")

ProofKind: TypeAlias = Literal["hmac", "runtime_token", "none"]

LedgerOutcome: TypeAlias = Literal[
    "first_run", "not_recorded", "duplicate", "in_progress", "proof_reused", "unavailable"
]
"""What the delivery ledger decided (``kiket_sdk._delivery.ledger``): ``first_run`` -- the
handler runs under a claim; ``not_recorded`` -- nothing to record (no proof and no event id), the
handler runs; ``duplicate`` -- answered from the ledger (``X-Kiket-Duplicate: true``);
``in_progress`` -- another delivery of the event is still running (409); ``proof_reused`` -- the
proof came with another route or body (401); ``unavailable`` -- the store could not be reached
(503)."""


class ObservedDelivery:
    """One observed delivery: the handle every record of it carries.

    ``serial``: the delivery's number in this process (1, 2, ...). ``notes``: a dict an
    observer may keep its own per-delivery state in (key it by the observer); it lives as long
    as the delivery's records and jobs do.
    """

    __slots__ = ("_jobs", "_observers", "delivery_id", "notes", "serial", "started")

    def __init__(self, serial: int, observers: tuple[DeliveryObserver, ...]) -> None:
        self.serial: int = serial
        self.notes: dict[object, Any] = {}
        self.delivery_id: str | None = None
        """The event id from the body, once the pipeline has read it."""
        self.started: float = time.perf_counter()
        """``time.perf_counter()`` when the delivery reached the pipeline."""
        self._observers: tuple[DeliveryObserver, ...] = observers
        self._jobs: int = 0

    def next_job(self) -> int:
        """The number of the deferred job about to start (1, 2, ...)."""
        self._jobs += 1
        return self._jobs

    def emit(self, record: Observation) -> None:
        """Give ``record`` to every observer; an observer that raises is logged, not raised."""
        for observer in self._observers:
            try:
                observer(record)
            except Exception:
                logger.exception(
                    "delivery observer %r failed on %s", observer, type(record).__name__
                )

    def __repr__(self) -> str:
        return f"ObservedDelivery(serial={self.serial})"


DeliveryObserver: TypeAlias = Callable[["Observation"], object]
"""An observer: any callable taking one `Observation` (its return value is ignored)."""

current_delivery: ContextVar[ObservedDelivery | None] = ContextVar(
    "kiket_sdk_current_delivery", default=None
)
"""The delivery being served in this context, when it is observed (else ``None``)."""

current_deferred_job: ContextVar[int | None] = ContextVar(
    "kiket_sdk_current_deferred_job", default=None
)
"""The number of the deferred job running in this context (its `DeferredStarted` ``job``), else
``None``: an outbound call made in it is reported with that ``job``."""


@dataclass(frozen=True, slots=True)
class DeliveryStarted:
    """A delivery reached the pipeline. ``version``: the route's version (``None`` when the
    request named none); ``headers``: lower-case names; ``started_at``: ``time.time()``."""

    delivery: ObservedDelivery = field(compare=False)
    event: str
    version: str | None
    headers: Mapping[str, str]
    body: bytes
    started_at: float


@dataclass(frozen=True, slots=True)
class ProofChecked:
    """The proof of origin: ``kind`` that vouched (or was required), ``refused`` the reason
    when the delivery was refused (401/503), else ``None``."""

    delivery: ObservedDelivery = field(compare=False)
    kind: ProofKind
    refused: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerChecked:
    """The delivery ledger's decision (see `LedgerOutcome`)."""

    delivery: ObservedDelivery = field(compare=False)
    outcome: LedgerOutcome


@dataclass(frozen=True, slots=True)
class OutboundCall:
    """One HTTP request to the Kiket API and its answer. ``status`` is ``None`` and ``error``
    names the exception class when no answer came (connection error, timeout).
    ``resend_count``: 0 for the first attempt, n for the n-th retry. ``started_at``:
    ``time.time()``; ``duration``: seconds."""

    delivery: ObservedDelivery = field(compare=False)
    method: str
    url: str
    path: str
    status: int | None
    request_body: bytes
    response_body: bytes | None
    started_at: float = field(compare=False)
    duration: float = field(compare=False)
    resend_count: int = 0
    error: str | None = None
    job: int | None = None
    """The deferred job that sent it (as in its `DeferredStarted`), ``None`` for the handler."""


@dataclass(frozen=True, slots=True)
class DeliveryEnded:
    """The pipeline's answer. ``delivery_id``: the event id from the body (``None`` when the
    body was not read, or has none); ``duration``: seconds since `DeliveryStarted`; ``jobs``:
    how many deferred jobs follow; ``headers``: the answer's headers, lower-case names
    (``x-kiket-duplicate``, ``retry-after``, ...)."""

    delivery: ObservedDelivery = field(compare=False)
    status: int
    body: bytes
    delivery_id: str | None
    duration: float = field(compare=False)
    jobs: int = 0
    headers: Mapping[str, str] = field(default_factory=dict[str, str], compare=False)


@dataclass(frozen=True, slots=True)
class DeferredStarted:
    """A ``ctx.defer`` job started; ``function``: its qualified name; ``job``: its number
    among the delivery's deferred jobs (1, 2, ...; they may run concurrently)."""

    delivery: ObservedDelivery = field(compare=False)
    function: str
    job: int
    started_at: float = field(compare=False)


@dataclass(frozen=True, slots=True)
class DeferredEnded:
    """A deferred job ended (``job`` as in its `DeferredStarted`): ``error`` is the exception
    class name when it raised; ``duration``: seconds."""

    delivery: ObservedDelivery = field(compare=False)
    function: str
    job: int
    duration: float = field(compare=False)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class HandlerFailed:
    """The handler raised, ran past ``handler_timeout`` (``timed_out``) or returned an answer
    that is not JSON, so the delivery is answered 500, 503 or 403 (a ``ScopeError``).
    ``error_type``: the exception's qualified class name (``builtins.TimeoutError``,
    ``myext.SyncError``); ``message``: its text;
    ``exception``: the exception itself, traceback included (``traceback.format_exception``).

    The answer carries only the class name (its text may name internal hosts); observers run
    in the extension's own process and see everything. Usually reported just before
    `DeliveryEnded`; for a plain ``def`` handler still running past its timeout, when its
    thread finally raises, after it."""

    delivery: ObservedDelivery = field(compare=False)
    error_type: str
    message: str
    timed_out: bool
    exception: BaseException = field(compare=False, repr=False)


Observation: TypeAlias = (
    DeliveryStarted
    | ProofChecked
    | LedgerChecked
    | OutboundCall
    | HandlerFailed
    | DeliveryEnded
    | DeferredStarted
    | DeferredEnded
)
"""One record of the stream (a union of the frozen dataclasses above)."""


class DeliveryObservers:
    """The observers registered on one SDK (``KiketSDK.observe`` adds to it). Falsy when
    empty: the pipeline asks that before anything else, so no observer costs nothing."""

    __slots__ = ("_serials", "observers")

    def __init__(self) -> None:
        self.observers: tuple[DeliveryObserver, ...] = ()
        self._serials: itertools.count[int] = itertools.count(1)

    def __bool__(self) -> bool:
        return bool(self.observers)

    def add(self, observer: DeliveryObserver) -> DeliveryObserver:
        """Register ``observer`` (from the next delivery on); returns it."""
        if not callable(observer):
            raise TypeError(f"a delivery observer must be callable, got {type(observer).__name__}")
        self.observers = (*self.observers, observer)
        return observer

    def remove(self, observer: DeliveryObserver) -> None:
        """Unregister ``observer`` (compared with ``==``, so ``records.append`` given twice is
        the same observer); deliveries already started keep reporting to it. Raises
        ``ValueError`` when it is not registered."""
        observers = list(self.observers)
        observers.remove(observer)
        self.observers = tuple(observers)

    def start(
        self, event: str, version: str | None, headers: Mapping[str, str], body: bytes
    ) -> ObservedDelivery:
        """A new `ObservedDelivery`, announced with its `DeliveryStarted` record."""
        observed = ObservedDelivery(next(self._serials), self.observers)
        observed.emit(DeliveryStarted(observed, event, version, headers, body, time.time()))
        return observed
