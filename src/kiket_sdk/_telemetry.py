"""Telemetry after every handler call, sent in the background.

A record (event, version, status, duration_ms, error_class, ...) goes to the ``feedback_hook``
(sync or async callable) and to a sender: ``POST {KIKET_SDK_TELEMETRY_URL}/telemetry`` when that
URL is set, else the API's ``POST /api/v1/ext/telemetry`` when a workspace token is configured
(see ``KiketSDK``). Sending never blocks or fails a delivery: it runs as a background task with
a short timeout and no retries, and errors are logged at debug level. Opt out with
``telemetry_enabled=False`` or ``KIKET_SDK_TELEMETRY_OPTOUT=1``.

Example::

    records = []
    sdk = KiketSDK(webhook_secret="sh_123", feedback_hook=records.append)
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "FeedbackHook",
    "TelemetryRecord",
    "TelemetryReporter",
    "TelemetrySender",
    "telemetry_opted_out",
]

logger = logging.getLogger("kiket_sdk.telemetry")

FeedbackHook = Callable[["TelemetryRecord"], Any]
TelemetrySender = Callable[["TelemetryRecord"], Awaitable[Any]]
_TRUE = {"1", "true", "yes", "on"}
_MAX_PENDING = 1000


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
    metadata: Mapping[str, Any] = field(default_factory=dict)
    timestamp: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def to_json(self) -> dict[str, Any]:
        """The JSON body POSTed to the telemetry endpoint."""
        body = asdict(self)
        body["metadata"] = dict(self.metadata)
        return body


class TelemetryReporter:
    """Fire-and-forget delivery of telemetry records (strong references to in-flight sends)."""

    def __init__(self, *, feedback_hook: FeedbackHook | None, send: TelemetrySender | None) -> None:
        self.feedback_hook = feedback_hook
        self._send_record = send
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def active(self) -> bool:
        """Whether records go anywhere (a hook or a sender is configured)."""
        return self._send_record is not None or self.feedback_hook is not None

    def report(self, record: TelemetryRecord) -> None:
        """Queue ``record``; returns at once."""
        if not self.active:
            return
        if len(self._pending) >= _MAX_PENDING:
            logger.debug("telemetry backlog full; dropping a record for %s", record.event)
            return
        task = asyncio.get_running_loop().create_task(self._send(record))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send(self, record: TelemetryRecord) -> None:
        if self.feedback_hook is not None:
            try:
                result = self.feedback_hook(record)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.warning("feedback_hook raised", exc_info=True)
        if self._send_record is not None:
            try:
                await self._send_record(record)
            except Exception as exc:
                logger.debug("telemetry send failed: %s", type(exc).__name__)

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait (up to ``timeout``) for queued records to be sent; used at shutdown."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=timeout)
