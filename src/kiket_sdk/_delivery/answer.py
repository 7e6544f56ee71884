"""What the inbound path sends back: `Answer`, ``{"error": ...}`` bodies, rendered results.

>>> failure(404, "no handler").body
b'{"error":"no handler"}'
>>> render_result({"ratio": float("nan")})
b'{"ratio":null}'
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from kiket_sdk._delivery.json_codec import check_plain, dump
from kiket_sdk._generated.models import Allow, Deny, Pending

__all__ = ["Answer", "DeferredCall", "error_body", "failure", "render_result"]

DeferredCall = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
_OK = b'{"ok":true}'
_ANSWERS = (Allow, Deny, Pending)


def _json_headers() -> dict[str, str]:
    return {"content-type": "application/json"}


@dataclass(slots=True)
class Answer:
    """An HTTP answer (status, JSON body, headers) plus the work deferred until it is sent."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=_json_headers)
    deferred: list[DeferredCall] = field(default_factory=list[DeferredCall])
    jobs: list[asyncio.Task[None]] = field(default_factory=list[asyncio.Task[None]])
    """Work this delivery started that goes on after the answer (its deferred calls, a handler
    past its timeout); awaited in the request itself when no lifespan is running."""


def error_body(message: str, **details: Any) -> bytes:
    """``{"error": message, **details}`` as compact JSON."""
    return dump({"error": message, **details})


def failure(
    status: int, message: str, *, retry_after: float | None = None, **details: Any
) -> Answer:
    """An error `Answer`; ``retry_after`` (seconds, rounded up) adds a ``Retry-After`` header."""
    answer = Answer(status, error_body(message, **details))
    if retry_after is not None:
        answer.headers["retry-after"] = str(max(1, int(-(-retry_after // 1))))
    return answer


def render_result(result: object) -> bytes:
    """A handler's return value as the JSON body of its answer (strict JSON, see `json_codec`).

    ``None`` -> ``{"ok": true}``; allow/deny/pending drop absent fields; other pydantic models
    are dumped by alias; dicts, lists and scalars as JSON. Raises ``TypeError`` for a value with
    no JSON form.
    """
    if result is None:
        return _OK
    if isinstance(result, _ANSWERS):
        metadata = result.metadata
        check_plain(metadata.model_extra if isinstance(metadata, BaseModel) else metadata)
        return result.model_dump_json(by_alias=True, exclude_none=True).encode()
    if isinstance(result, BaseModel):
        check_plain(result)
        return result.model_dump_json(by_alias=True).encode()
    return dump(result)
