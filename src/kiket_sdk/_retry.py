"""When to retry a Kiket API call, and how long to wait first.

Pure functions with no I/O, shared by the sync and async clients in ``_base_client``:

- ``is_retryable_request(method, headers)``: idempotent methods always; ``POST``/``PATCH`` only
  when they carry an ``Idempotency-Key`` (the platform then deduplicates the repeated write).
- ``RETRYABLE_STATUSES``: ``408``, ``429``, ``502``, ``503``, ``504``.
- ``parse_retry_after(headers)``: ``retry-after-ms``, then ``Retry-After`` as (float) seconds or
  an HTTP date; garbage yields ``None`` (a bad header never raises).
- ``retry_delay(retries_done, response)``: ``Retry-After`` when sent (``None`` = "do not retry"
  when it exceeds ``MAX_RETRY_AFTER``), else exponential backoff ``0.5 s * 2**n`` capped at 8 s,
  times a jitter factor in ``[0.75, 1.0]``.

Example::

    >>> backoff_delay(0, jitter=1.0), backoff_delay(3, jitter=1.0), backoff_delay(9, jitter=1.0)
    (0.5, 4.0, 8.0)
    >>> parse_retry_after(httpx.Headers({"Retry-After": "1.5"}))
    1.5
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime

import httpx

__all__ = [
    "INITIAL_RETRY_DELAY",
    "MAX_RETRY_AFTER",
    "MAX_RETRY_DELAY",
    "RETRYABLE_STATUSES",
    "backoff_delay",
    "is_retryable_request",
    "parse_retry_after",
    "retry_delay",
]

INITIAL_RETRY_DELAY = 0.5
"""Seconds before the first retry (before jitter)."""
MAX_RETRY_DELAY = 8.0
"""Upper bound of the exponential backoff, in seconds."""
MAX_RETRY_AFTER = 60.0
"""The longest ``Retry-After`` the client waits for; a longer one raises instead of waiting."""

RETRYABLE_STATUSES = frozenset({408, 429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
KEYED_WRITE_METHODS = frozenset({"POST", "PATCH"})


def is_retryable_request(method: str, headers: Mapping[str, str]) -> bool:
    """Whether repeating this request is safe.

    ``headers`` must be case-insensitive (``httpx.Headers``) or use lower-case names.
    """
    if method in IDEMPOTENT_METHODS:
        return True
    return method in KEYED_WRITE_METHODS and "idempotency-key" in headers


def backoff_delay(retries_done: int, *, jitter: float | None = None) -> float:
    """Exponential backoff for the retry that follows ``retries_done`` earlier retries.

    ``jitter`` is the factor to apply (``[0.75, 1.0]``); random when ``None``.
    """
    base = min(INITIAL_RETRY_DELAY * 2.0 ** min(retries_done, 16), MAX_RETRY_DELAY)
    if jitter is None:
        # Jitter spreads simultaneous retries apart; it protects nothing, so no CSPRNG is needed.
        jitter = 1.0 - 0.25 * random.random()  # noqa: S311
    return base * jitter


def parse_retry_after(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """Seconds the server asks us to wait, or ``None`` when it sent nothing usable.

    Reads ``retry-after-ms`` (milliseconds) first, then ``Retry-After`` as seconds (``"2"``,
    ``"0.05"``) or as an HTTP date. A date in the past means "now" (``0.0``). Never raises.
    """
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = _finite_float(millis)
        if seconds is not None:
            return max(seconds / 1000.0, 0.0)
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _finite_float(value)
    if seconds is not None:
        return max(seconds, 0.0)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are always GMT; treat a naive one as UTC
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)


def retry_delay(retries_done: int, response: httpx.Response | None) -> float | None:
    """How long to wait before the next attempt, or ``None`` when the client must not wait.

    ``response`` is the retryable answer (``None`` after a connection error or timeout). A
    ``Retry-After`` beyond ``MAX_RETRY_AFTER`` returns ``None``: the caller raises rather than
    block a webhook handler for minutes.
    """
    if response is not None:
        requested = parse_retry_after(response.headers)
        if requested is not None:
            return requested if requested <= MAX_RETRY_AFTER else None
    return backoff_delay(retries_done)


def _finite_float(text: str) -> float | None:
    try:
        number = float(text.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None
