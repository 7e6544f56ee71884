"""Telemetry after every handler call, sent by one background thread per process.

A record (event, version, status, duration_ms, error_class, ...) goes to the ``feedback_hook``
(sync or async callable) and to a target: ``POST {KIKET_SDK_TELEMETRY_URL}/telemetry`` when that
URL is set, else the API's ``POST {base_url}/api/v1/ext/telemetry`` with
``Authorization: Bearer <workspace token>`` when a token is configured (see ``KiketSDK``). Opt
out with ``telemetry_enabled=False`` or ``KIKET_SDK_TELEMETRY_OPTOUT=1``.

Telemetry costs a delivery one non-blocking ``queue.Queue.put_nowait``; nothing else:

- One ``TelemetrySender`` per process (``TelemetrySender.shared()``), shared by every
  ``KiketSDK`` and every event loop: a daemon thread (started on the first record) draining a
  bounded queue (1000 records) and POSTing each record with its own sync ``httpx.Client``
  (connect timeout 1 s, 2 s for each read/write/pool wait, no retries, keep-alive).
- A full queue drops the record: ``sender.dropped`` counts it and at most one warning is logged
  per ``warn_interval`` (60 s). A failed send (network error, timeout, HTTP status >= 400)
  counts in ``sender.failed`` and is logged at debug level, by exception class or status only
  (never the URL, its credentials or a header). ``sender.sent`` counts answered 2xx/3xx sends.
- ``feedback_hook`` runs on the sender thread too, before the send, one record at a time.
  A sync hook is called there. An async hook (or a sync one returning an awaitable) is awaited
  on the sender thread's own event loop (one loop, kept for the thread's life), bounded by
  ``hook_timeout`` (5 s). So an async hook must not use objects bound to the app's event loop
  (``sdk.async_client``, an ``asyncio.Queue`` made by the app): make its own clients, or hand
  the record over with ``loop.call_soon_threadsafe``. A hook that raises is logged (warning)
  and counted in ``sender.hook_errors``. A slow hook delays telemetry (and then drops records
  once the queue is full), never a delivery.
- ``await reporter.drain(timeout)`` (``KiketSDK.aclose`` calls it, 2 s) waits in a worker
  thread until every record queued so far (by any SDK of the process) is handled, or the
  timeout passes. The thread is a daemon: process exit never waits for it; records still
  queued then are lost.

Example::

    records = []
    sdk = KiketSDK(webhook_secret="sh_123", feedback_hook=records.append)
    ...
    TelemetrySender.shared().dropped  # records lost to a full queue, since the process started
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from kiket_sdk._serialization import build_body

__all__ = [
    "FeedbackHook",
    "TelemetryRecord",
    "TelemetryReporter",
    "TelemetrySender",
    "TelemetryTarget",
    "telemetry_opted_out",
]

logger = logging.getLogger("kiket_sdk.telemetry")

FeedbackHook = Callable[["TelemetryRecord"], Any]
_TRUE = {"1", "true", "yes", "on"}
DEFAULT_MAX_QUEUE = 1000
DEFAULT_TIMEOUT = httpx.Timeout(2.0, connect=1.0)
DEFAULT_HOOK_TIMEOUT = 5.0
DEFAULT_WARN_INTERVAL = 60.0
DEFAULT_DRAIN_TIMEOUT = 2.0


def telemetry_opted_out(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``KIKET_SDK_TELEMETRY_OPTOUT`` is set to 1/true/yes/on."""
    env = os.environ if environ is None else environ
    return env.get("KIKET_SDK_TELEMETRY_OPTOUT", "").strip().lower() in _TRUE


@dataclass(frozen=True, slots=True)
class TelemetryRecord:
    """One handler call, as reported (the contract's telemetry body)."""

    event: str
    version: str
    status: str
    duration_ms: float
    extension_id: str | None = None
    extension_version: str | None = None
    error_class: str | None = None
    error_message: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict[str, Any])
    timestamp: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def to_json(self) -> dict[str, Any]:
        """The JSON body POSTed to the telemetry endpoint."""
        body = asdict(self)
        body["metadata"] = dict(self.metadata)
        return body


@dataclass(frozen=True, slots=True, repr=False)
class TelemetryTarget:
    """Where one SDK's records are POSTed: ``url`` and ``headers``, computed once per SDK.

    ``omit_nulls`` leaves ``None`` fields out of the body, as the API client does for
    ``POST /api/v1/ext/telemetry``; a ``KIKET_SDK_TELEMETRY_URL`` collector gets
    ``TelemetryRecord.to_json()`` unchanged. The repr names only the host: the URL may carry
    credentials and the headers a token.

    Example::

        TelemetryTarget("https://kiket.dev/api/v1/ext/telemetry",
                        {"authorization": "Bearer wk_..."}, omit_nulls=True)
    """

    url: str
    headers: Mapping[str, str] = field(default_factory=dict[str, str])
    omit_nulls: bool = False

    def body(self, record: TelemetryRecord) -> dict[str, Any]:
        """The JSON body sent for ``record``."""
        return build_body(record.to_json()) if self.omit_nulls else record.to_json()

    def __repr__(self) -> str:
        try:
            host = httpx.URL(self.url).host
        except httpx.InvalidURL:
            host = "?"
        return f"TelemetryTarget(host={host!r})"


_Job = tuple[TelemetryRecord, TelemetryTarget | None, FeedbackHook | None]


class TelemetrySender:
    """A daemon thread that sends queued records; ``submit`` never blocks.

    ``max_queue`` records may wait (more are dropped and counted in ``dropped``); ``timeout`` is
    the ``httpx`` timeout of one send (seconds; default connect 1 s, else 2 s); ``hook_timeout``
    bounds one async ``feedback_hook`` call (seconds); ``warn_interval`` is the least time
    between two "queue full" warnings (seconds). ``transport`` replaces httpx's (tests).
    Counters, read at any time: ``sent``, ``failed``, ``dropped``, ``hook_errors``.

    Use ``TelemetrySender.shared()``, the process's sender; own instances are for tests.

    Example::

        sender = TelemetrySender(max_queue=10)
        sender.submit(record, TelemetryTarget("http://127.0.0.1:9000/telemetry"), None)
        sender.drain(2.0)  # True once everything submitted so far is handled
    """

    _shared: ClassVar[TelemetrySender | None] = None
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()
    _instances: ClassVar[weakref.WeakSet[TelemetrySender]] = weakref.WeakSet()

    def __init__(
        self,
        *,
        max_queue: int = DEFAULT_MAX_QUEUE,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        hook_timeout: float = DEFAULT_HOOK_TIMEOUT,
        warn_interval: float = DEFAULT_WARN_INTERVAL,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.max_queue = max_queue
        self.timeout = timeout
        self.hook_timeout = hook_timeout
        self.warn_interval = warn_interval
        self._transport = transport
        self.sent: int = 0
        self.failed: int = 0
        self.dropped: int = 0
        self.hook_errors: int = 0
        self._reset()
        TelemetrySender._instances.add(self)

    def _reset(self) -> None:
        """Fresh queue, lock and no thread (at construction, and in a forked child)."""
        self._queue: queue.Queue[_Job | threading.Event] = queue.Queue(self.max_queue)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last_warning = -float("inf")
        self._dropped_since_warning = 0

    @classmethod
    def reset_all_after_fork(cls) -> None:
        """Give every sender of this process a fresh queue, lock and no thread; registered with
        ``os.register_at_fork(after_in_child=...)``, since a forked child inherits neither the
        parent's sending thread nor a usable lock."""
        for sender in list(cls._instances):
            sender._reset()

    @classmethod
    def shared(cls) -> TelemetrySender:
        """The process's sender (made on first use; its thread starts on the first record)."""
        sender = cls._shared
        if sender is None:
            with cls._shared_lock:
                sender = cls._shared
                if sender is None:
                    sender = cls._shared = cls()
        return sender

    @property
    def started(self) -> bool:
        """Whether the thread runs (it starts on the first ``submit``)."""
        return self._thread is not None

    @property
    def pending(self) -> int:
        """Records waiting in the queue (approximate)."""
        return self._queue.qsize()

    def submit(
        self,
        record: TelemetryRecord,
        target: TelemetryTarget | None,
        hook: FeedbackHook | None = None,
    ) -> bool:
        """Queue ``record`` for ``hook`` and ``target``; ``False`` when it was dropped.

        Never blocks and never raises for a full queue.
        """
        if self._thread is None:
            self._start()
        try:
            self._queue.put_nowait((record, target, hook))
        except queue.Full:
            self._count_drop()
            return False
        return True

    def drain(self, timeout: float = DEFAULT_DRAIN_TIMEOUT) -> bool:
        """Block up to ``timeout`` seconds until every record submitted so far is handled.

        Returns whether it was. Call it from a worker thread in async code
        (``TelemetryReporter.drain`` does).
        """
        if self._thread is None:
            return True
        deadline = time.monotonic() + max(timeout, 0.0)
        marker = threading.Event()
        try:
            self._queue.put(marker, timeout=max(timeout, 0.0))
        except queue.Full:
            return False
        return marker.wait(max(deadline - time.monotonic(), 0.0))

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="kiket-telemetry", daemon=True)
                thread.start()
                self._thread = thread

    def _count_drop(self) -> None:
        with self._lock:
            self.dropped += 1
            self._dropped_since_warning += 1
            now = time.monotonic()
            if now - self._last_warning < self.warn_interval:
                return
            self._last_warning, count = now, self._dropped_since_warning
            self._dropped_since_warning = 0
        logger.warning(
            "telemetry queue full (%d records): dropped %d record(s) since the last warning",
            self.max_queue,
            count,
        )

    def _run(self) -> None:
        jobs = self._queue  # a forked child gets a new queue and a new thread
        client = httpx.Client(timeout=self.timeout, transport=self._transport)
        runner: asyncio.Runner | None = None
        while True:
            job = jobs.get()
            if isinstance(job, threading.Event):
                job.set()
                continue
            record, target, hook = job
            try:
                if hook is not None:
                    runner = self._call_hook(hook, record, runner)
                if target is not None:
                    self._post(client, target, record)
            except BaseException:  # the thread must outlive anything a record does
                logger.debug("telemetry job failed", exc_info=True)

    def _call_hook(
        self, hook: FeedbackHook, record: TelemetryRecord, runner: asyncio.Runner | None
    ) -> asyncio.Runner | None:
        try:
            result = hook(record)
            if inspect.isawaitable(result):
                if runner is None:
                    runner = asyncio.Runner()
                runner.run(self._await_hook(result))
        except Exception:
            self.hook_errors += 1
            logger.warning("feedback_hook raised", exc_info=True)
        return runner

    async def _await_hook(self, result: Awaitable[Any]) -> None:
        async with asyncio.timeout(self.hook_timeout):
            await result

    def _post(self, client: httpx.Client, target: TelemetryTarget, record: TelemetryRecord) -> None:
        try:
            response = client.post(target.url, json=target.body(record), headers=target.headers)
        except Exception as exc:
            self.failed += 1
            logger.debug("telemetry send failed: %s", type(exc).__name__)
            return
        if response.status_code >= 400:
            self.failed += 1
            logger.debug("telemetry endpoint answered %d", response.status_code)
        else:
            self.sent += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=TelemetrySender.reset_all_after_fork)


class TelemetryReporter:
    """One SDK's telemetry: hands each record to the process's ``TelemetrySender``.

    ``target`` is where records are POSTed (``None``: nowhere); ``feedback_hook`` hears every
    record; ``sender`` defaults to ``TelemetrySender.shared()``.
    """

    def __init__(
        self,
        *,
        feedback_hook: FeedbackHook | None,
        target: TelemetryTarget | None,
        sender: TelemetrySender | None = None,
    ) -> None:
        self.feedback_hook = feedback_hook
        self.target = target
        self.sender: TelemetrySender = sender if sender is not None else TelemetrySender.shared()

    @property
    def active(self) -> bool:
        """Whether records go anywhere (a hook or a target is configured)."""
        return self.target is not None or self.feedback_hook is not None

    def report(self, record: TelemetryRecord) -> None:
        """Queue ``record`` (non-blocking); a full queue drops it (``sender.dropped``)."""
        if self.target is not None or self.feedback_hook is not None:
            self.sender.submit(record, self.target, self.feedback_hook)

    async def drain(self, timeout: float = DEFAULT_DRAIN_TIMEOUT) -> None:
        """Wait up to ``timeout`` seconds, off the event loop, for queued records to be sent."""
        if self.active and self.sender.started:
            await asyncio.to_thread(self.sender.drain, timeout)
