"""The delivery journal: the last N deliveries, assembled from the observation records.

`DeliveryJournal` is a delivery observer (``sdk.observe(journal)``). Each delivery becomes one
`JournalEntry`, filled in as its records arrive (start, proof, ledger, outbound calls, end,
deferred jobs); the journal keeps the newest ``capacity`` entries (a ring buffer: the oldest is
dropped first) and tells its listeners of every change, so a page can show deliveries live.

Records arrive on whatever thread made the step, so every change is made under one lock, and
listeners are called outside it with a JSON-ready copy of the entry.

>>> from kiket_sdk.observation import DeliveryObservers, DeliveryEnded
>>> journal = DeliveryJournal(capacity=2)
>>> observers = DeliveryObservers()
>>> _ = observers.add(journal)
>>> observed = observers.start("issue.created", "v1", {}, b'{"id": "evt_1"}')
>>> observed.emit(DeliveryEnded(observed, 200, b'{"status":"allow"}', "evt_1", 0.002))
>>> [(entry["serial"], entry["status"], entry["delivery_id"]) for entry in journal.entries()]
[(1, 200, 'evt_1')]
"""

from __future__ import annotations

import contextlib
import itertools
import re
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Generator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from kiket_sdk.observation import (
    DeferredEnded,
    DeferredStarted,
    DeliveryEnded,
    DeliveryStarted,
    HandlerFailed,
    LedgerChecked,
    Observation,
    OutboundCall,
    ProofChecked,
)

__all__ = ["DEFAULT_CAPACITY", "DeliveryJournal", "JournalEntry", "JournalListener"]

DEFAULT_CAPACITY = 200
"""How many deliveries a journal keeps by default."""

JournalListener = Callable[[dict[str, Any]], object]
"""Called with the JSON-ready entry (`JournalEntry.as_json`) after each change to it."""

_started_here: ContextVar[list[int] | None] = ContextVar("kiket_inspector_started", default=None)
"""Where `DeliveryJournal.noticing` collects the deliveries started in its context."""


def _iso(epoch_seconds: float) -> str:
    """``time.time()`` seconds as ISO-8601 UTC text with milliseconds."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(body: bytes | None) -> str | None:
    """A body as text for the page (UTF-8, undecodable bytes replaced)."""
    return None if body is None else body.decode("utf-8", errors="replace")


def _job_function(entry: JournalEntry, job: int | None) -> str | None:
    """The function of deferred job ``job`` of ``entry`` (``None`` for the handler itself, or
    when its start was not seen)."""
    if job is None:
        return None
    return next(
        (
            item["function"]
            for item in entry.timeline
            if item["kind"] == "deferred_started" and item["job"] == job
        ),
        None,
    )


_WEBHOOK_PATH = re.compile(r"^(?:/v/(?P<version>[^/]+))?/webhooks/(?P<event>[^/]+)/?$")


def _route(path: str) -> tuple[str, str | None]:
    """The event and version a path names (``/v/v1/webhooks/issue.created``); a path that is
    no delivery path is its own "event" (so the page shows what was asked for)."""
    matched = _WEBHOOK_PATH.match(path)
    if matched is None:
        return path, None
    version = matched["version"]
    return unquote(matched["event"]), unquote(version) if version else None


@dataclass(slots=True)
class JournalEntry:
    """One delivery as the journal has seen it so far.

    ``body`` and ``headers`` are the request exactly as received (what "resend same bytes"
    posts again); ``answer_headers`` the answer's (lower-case names); ``timeline`` holds
    the outbound calls and deferred jobs, in arrival order,
    as JSON-ready dicts with a ``kind`` (``"outbound"``, ``"handler_failed"``,
    ``"deferred_started"``, ``"deferred_ended"``) and ``at`` (seconds since the delivery
    started); an outbound call has its ``path`` and ``query`` (the URL's query string, ``""``
    for none) and names who made it: ``job`` and ``job_function`` (``None`` for the handler
    itself); a handler failure has ``error_type``, ``message``, ``timed_out`` and the
    ``traceback`` text (shown on this machine only: the answer carries just the class).
    """

    serial: int
    event: str
    version: str | None
    headers: Mapping[str, str]
    body: bytes
    started_at: float
    started: float
    proof: str | None = None
    proof_refused: str | None = None
    ledger: str | None = None
    status: int | None = None
    answer: bytes | None = None
    answer_headers: Mapping[str, str] = field(default_factory=dict[str, str])
    delivery_id: str | None = None
    duration: float | None = None
    jobs: int = 0
    timeline: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    answered_by: str = "pipeline"
    """``"pipeline"``, or ``"routing"`` for a request answered before it (`add_unrouted`)."""
    method: str = "POST"
    path: str | None = None
    """The request's path, kept for requests answered by the routing (``None`` otherwise)."""
    observed_serial: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The entry as JSON-ready data (bodies as text, times as ISO-8601 and seconds)."""
        return {
            "serial": self.serial,
            "event": self.event,
            "version": self.version,
            "time": _iso(self.started_at),
            "delivery_id": self.delivery_id,
            "proof": {"kind": self.proof, "refused": self.proof_refused},
            "ledger": self.ledger,
            "status": self.status,
            "duration": self.duration,
            "request": {"headers": dict(self.headers), "body": _text(self.body)},
            "answer": _text(self.answer),
            "answer_headers": dict(self.answer_headers),
            "jobs": self.jobs,
            "timeline": [dict(item) for item in self.timeline],
            "answered_by": self.answered_by,
            "method": self.method,
            "path": self.path,
        }


class DeliveryJournal:
    """A delivery observer keeping the newest ``capacity`` deliveries (default 200).

    Raises ``ValueError`` when ``capacity`` < 1. Register it with ``sdk.observe(journal)``;
    read it with `entries` (newest first) and `entry`; `listen` to be told of every change.
    Entries are numbered by the journal (1, 2, ...), so requests the pipeline never saw
    (`add_unrouted`) take their place in the same sequence.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"a journal keeps at least one delivery, got capacity={capacity}")
        self.capacity: int = capacity
        self._entries: OrderedDict[int, JournalEntry] = OrderedDict()
        self._lock = threading.Lock()
        self._listeners: tuple[JournalListener, ...] = ()
        self._serials = itertools.count(1)
        self._observed: dict[int, int] = {}
        """The journal's serial of each kept delivery, by its observation serial."""

    def listen(self, listener: JournalListener) -> Callable[[], None]:
        """Call ``listener`` after every change; returns the function that stops it."""
        with self._lock:
            self._listeners = (*self._listeners, listener)

        def stop() -> None:
            with self._lock:
                self._listeners = tuple(item for item in self._listeners if item is not listener)

        return stop

    def entries(self) -> list[dict[str, Any]]:
        """Every kept delivery, newest first, as JSON-ready dicts."""
        with self._lock:
            return [entry.as_json() for entry in reversed(self._entries.values())]

    def entry(self, serial: int) -> JournalEntry | None:
        """The kept delivery numbered ``serial`` (``None`` when unknown or dropped)."""
        with self._lock:
            return self._entries.get(serial)

    @contextlib.contextmanager
    def noticing(self) -> Generator[list[int], None, None]:
        """Collect in the yielded list the serials of the deliveries that start in this context
        (tasks and threads started from it included): still empty after a request means the
        pipeline never saw it."""
        started: list[int] = []
        token = _started_here.set(started)
        try:
            yield started
        finally:
            _started_here.reset(token)

    def add_unrouted(
        self,
        request: tuple[str, str, Mapping[str, str], bytes],
        answer: tuple[int, Mapping[str, str], bytes],
        started_at: float,
        duration: float,
    ) -> None:
        """Journal a request answered before the pipeline (an unknown path, a wrong method):
        ``request`` is (method, path, headers, body), ``answer`` (status, headers, body);
        ``started_at`` in ``time.time()`` seconds."""
        method, path, headers, body = request
        status, answer_headers, answer_body = answer
        event, version = _route(path)
        with self._lock:
            entry = JournalEntry(
                serial=next(self._serials),
                event=event,
                version=version,
                headers=dict(headers),
                body=body,
                started_at=started_at,
                started=0.0,
                status=status,
                answer=answer_body,
                answer_headers=dict(answer_headers),
                duration=duration,
                answered_by="routing",
                method=method,
                path=path,
            )
            self._keep(entry)
            snapshot = entry.as_json()
            listeners = self._listeners
        for listener in listeners:
            listener(snapshot)

    def _keep(self, entry: JournalEntry) -> None:
        """Add ``entry``, dropping the oldest past capacity (call under the lock)."""
        self._entries[entry.serial] = entry
        while len(self._entries) > self.capacity:
            _, dropped = self._entries.popitem(last=False)
            if dropped.observed_serial is not None:
                self._observed.pop(dropped.observed_serial, None)

    def __call__(self, record: Observation) -> None:
        with self._lock:
            if isinstance(record, DeliveryStarted):
                entry = JournalEntry(
                    serial=next(self._serials),
                    event=record.event,
                    version=record.version,
                    headers=dict(record.headers),
                    body=record.body,
                    started_at=record.started_at,
                    started=record.delivery.started,
                    observed_serial=record.delivery.serial,
                )
                self._observed[record.delivery.serial] = entry.serial
                self._keep(entry)
                started = _started_here.get()
                if started is not None:
                    started.append(entry.serial)
            else:
                serial = self._observed.get(record.delivery.serial)
                if serial is None:  # dropped from the ring already
                    return
                entry = self._entries[serial]
                self._apply(entry, record)
            snapshot = entry.as_json()
            listeners = self._listeners
        for listener in listeners:
            listener(snapshot)

    @staticmethod
    def _apply(entry: JournalEntry, record: Observation) -> None:
        """Fold one record (other than the start) into its delivery's entry."""
        if isinstance(record, ProofChecked):
            entry.proof, entry.proof_refused = record.kind, record.refused
        elif isinstance(record, LedgerChecked):
            entry.ledger = record.outcome
        elif isinstance(record, DeliveryEnded):
            entry.status, entry.answer = record.status, record.body
            entry.delivery_id, entry.duration = record.delivery_id, record.duration
            entry.jobs, entry.answer_headers = record.jobs, dict(record.headers)
        elif isinstance(record, OutboundCall):
            entry.timeline.append(
                {
                    "kind": "outbound",
                    "at": record.started_at - entry.started_at,
                    "method": record.method,
                    "path": record.path,
                    "query": urlsplit(record.url).query,
                    "status": record.status,
                    "error": record.error,
                    "resend_count": record.resend_count,
                    "duration": record.duration,
                    "request_body": _text(record.request_body),
                    "response_body": _text(record.response_body),
                    "job": record.job,
                    "job_function": _job_function(entry, record.job),
                }
            )
        elif isinstance(record, HandlerFailed):
            entry.timeline.append(
                {
                    "kind": "handler_failed",
                    "at": time.time() - entry.started_at,
                    "error_type": record.error_type,
                    "message": record.message,
                    "timed_out": record.timed_out,
                    "traceback": "".join(traceback.format_exception(record.exception)),
                }
            )
        elif isinstance(record, DeferredStarted):
            entry.timeline.append(
                {
                    "kind": "deferred_started",
                    "at": record.started_at - entry.started_at,
                    "function": record.function,
                    "job": record.job,
                }
            )
        elif isinstance(record, DeferredEnded):
            entry.timeline.append(
                {
                    "kind": "deferred_ended",
                    "function": record.function,
                    "job": record.job,
                    "duration": record.duration,
                    "error": record.error,
                }
            )
