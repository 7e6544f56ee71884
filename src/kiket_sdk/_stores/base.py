"""The delivery ledger's storage interface: `DeliveryStore` and the records it keeps.

A store keeps two kinds of record for the ledger (`kiket_sdk._delivery.ledger`), both under keys
the ledger has already hashed (fixed-length hex, so any event id JSON allows is a key):

* a **run record** per event (or per delivery, when the event has no id): *claimed* by the one
  delivery whose handler runs now, with a **lease** the running handler renews, then *done* with
  the answer to give every later redelivery;
* a **proof binding** per proof of origin (an HMAC signature, or a runtime token): the
  fingerprint of the route and body it first vouched for, so the same proof on another route or
  with another body is refused.

`DeliveryStore.claim` checks the binding and takes the claim in one atomic step (one round trip
for Redis). The implementations live beside this module: `memory.MemoryDeliveryStore` and
`redis.RedisDeliveryStore`; this module never imports them.
"""

from __future__ import annotations

import asyncio
import enum
import math
import secrets
import struct
import time
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import pydantic_core

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_RESULT_TTL",
    "Claim",
    "ClaimState",
    "DeliveryStore",
    "DeliveryStoreError",
    "ProofBinding",
    "StoredResponse",
    "check_ttl",
    "new_token",
    "wait_by_polling",
]

DEFAULT_LEASE = 30.0
"""Seconds a claim lives unless its running handler renews it (every third of the lease)."""
DEFAULT_RESULT_TTL = 24 * 3600.0
"""Seconds a done record is kept: longer than the platform's 8 h retry window (contract 1)."""

_FRAME_VERSION = 1
_FRAME_HEADER = struct.Struct(">BHH")  # version, status code, length of the content type


class DeliveryStoreError(Exception):
    """A store found a record it cannot read (another program writes under its prefix?)."""


def _checked_status(value: object) -> int:
    """A status code field: an int (``True`` is not one); ``TypeError`` otherwise."""
    if type(value) is int:  # the usual case, decided without isinstance
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("StoredResponse.status_code must be an int")
    return value


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The answer a handler run produced, kept so a redelivery is answered with it.

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
        status = _checked_status(self.status_code)
        if not 100 <= status <= 599:
            raise ValueError(f"StoredResponse.status_code out of range: {status}")
        if type(self.body) is not bytes:
            object.__setattr__(self, "body", bytes(self.body))
        # a character is at most 4 UTF-8 bytes: only long texts need encoding to be measured
        if len(self.content_type) > 0x3FFF and len(self.content_type.encode("utf-8")) > 0xFFFF:
            raise ValueError("StoredResponse.content_type is too long")

    def to_bytes(self) -> bytes:
        """Encode as ``version | status | len(content type) | content type | body``."""
        content_type = self.content_type.encode("utf-8")
        header = _FRAME_HEADER.pack(_FRAME_VERSION, self.status_code, len(content_type))
        return header + content_type + self.body

    @classmethod
    def from_bytes(cls, data: bytes) -> StoredResponse:
        """Decode what `to_bytes` produced; ``ValueError`` for anything else -- also for a frame
        that would send something the SDK never answers (a 1xx status, a content type with
        control characters, a JSON content type whose body is not strict JSON).

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
            content_type = data[start : start + type_length].decode("ascii")
        except UnicodeDecodeError:
            raise ValueError("not a stored response (content type is not ASCII)") from None
        if not 200 <= status_code <= 599:  # a stored answer is final: never 1xx
            raise ValueError(f"not a stored response (status {status_code})")
        if not content_type.isprintable():  # no CR/LF: it goes back out as a header
            raise ValueError("not a stored response (content type has control characters)")
        body = data[start + type_length :]
        if content_type.startswith("application/json"):
            try:
                pydantic_core.from_json(body, allow_inf_nan=False)
            except ValueError:
                raise ValueError("not a stored response (body is not strict JSON)") from None
        return cls(status_code, body, content_type)


@dataclass(frozen=True, slots=True)
class ProofBinding:
    """A proof of origin, bound to the one delivery it vouched for.

    ``key`` identifies the proof (a digest of the HMAC timestamp and signature, or of the runtime
    token); ``fingerprint`` is a digest of the route (event, version) and the body it came
    with; ``ttl`` is how long, in seconds, the proof itself stays acceptable (the signature
    tolerance window, or the token's lifetime), after which nothing can replay it anyway.
    """

    key: str
    fingerprint: str
    ttl: float


class ClaimState(enum.Enum):
    """What `DeliveryStore.claim` found."""

    CLAIMED = "claimed"
    """The run record was free and now belongs to the caller (``Claim.token``): run the handler."""
    IN_PROGRESS = "in_progress"
    """Another delivery holds the claim and its lease is alive."""
    DONE = "done"
    """The event was handled; ``Claim.response`` is what to answer."""
    PROOF_REUSED = "proof_reused"
    """The proof is bound to another route or body: the delivery is refused (nothing claimed)."""


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of `DeliveryStore.claim` / `DeliveryStore.wait`.

    ``token`` is set for `ClaimState.CLAIMED` (pass it to ``renew``/``complete``/``release``;
    nobody else can), ``response`` for `ClaimState.DONE`.
    """

    state: ClaimState
    response: StoredResponse | None = None
    token: str | None = None


@runtime_checkable
class DeliveryStore(Protocol):
    """Where the ledger records deliveries and handler runs (shared by all replicas).

    Every method is safe to call concurrently; ``lease`` and ``ttl`` are seconds (> 0). A store
    that cannot be reached raises (any exception): the ledger then answers 503 and runs nothing.
    """

    async def claim(self, key: str, *, lease: float, binding: ProofBinding | None = None) -> Claim:
        """Atomically: when ``binding`` is given, refuse (``PROOF_REUSED``) if its key is bound
        to another fingerprint, else bind it for ``binding.ttl``; then claim ``key`` -- free ->
        ``CLAIMED`` (with a token, for ``lease`` seconds), claimed -> ``IN_PROGRESS``, done ->
        ``DONE`` (with the response)."""
        ...

    async def renew(self, key: str, token: str, *, lease: float) -> bool:
        """Extend the claim's lease to ``lease`` seconds from now if ``token`` still owns it."""
        ...

    async def complete(self, key: str, token: str, response: StoredResponse, *, ttl: float) -> bool:
        """Record ``response`` as ``key``'s answer for ``ttl`` seconds if ``token`` owns the
        claim, or if the record is gone (a store restarted without persistence); ``False`` when
        another delivery owns it or it is already done (nothing is overwritten)."""
        ...

    async def release(self, key: str, token: str) -> None:
        """Drop the claim so that a retry runs the handler; only the owning ``token`` can."""
        ...

    async def wait(
        self, key: str, *, timeout: float, poll: float = 0.05, lease: float = DEFAULT_LEASE
    ) -> Claim:
        """Poll ``key`` every ``poll`` s for up to ``timeout`` s (see `wait_by_polling`)."""
        ...

    async def aclose(self) -> None:
        """Release connections (a store given a client it does not own leaves it open)."""
        ...


async def wait_by_polling(
    store: DeliveryStore, key: str, *, timeout: float, poll: float, lease: float
) -> Claim:
    """`DeliveryStore.wait` for every store: call ``claim`` until it is not ``IN_PROGRESS``.

    * the holder completed -> the ``DONE`` claim, with the stored response;
    * the claim was released or its lease ran out -> the caller claims the key itself and gets
      ``CLAIMED`` (a token with ``lease``): it must run the handler now;
    * still in progress after ``timeout`` -> ``Claim(ClaimState.IN_PROGRESS)``.

    The key is checked at least once, also with ``timeout=0``.
    """
    if not poll > 0:
        raise ValueError(f"poll must be > 0, got {poll!r}")
    if not timeout >= 0:
        raise ValueError(f"timeout must be >= 0, got {timeout!r}")
    deadline = time.monotonic() + timeout
    while True:
        claim = await store.claim(key, lease=lease)
        if claim.state is not ClaimState.IN_PROGRESS:
            return claim
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Claim(ClaimState.IN_PROGRESS)
        await asyncio.sleep(min(poll, remaining))


def check_ttl(ttl: float) -> float:
    """``ttl`` as a float, or ``ValueError`` unless it is a finite number of seconds > 0.

    >>> check_ttl(1)
    1.0
    """
    value = float(ttl)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"ttl must be a finite number of seconds > 0, got {ttl!r}")
    return value


def new_token() -> str:
    """An unguessable claim token (32 hex digits)."""
    return secrets.token_hex(16)
