"""The answers a handler gives: allow, deny, pending.

``allow``/``deny``/``pending`` build the generated ``Allow``/``Deny``/``Pending`` models, whose
JSON is exactly the contract's shape::

    >>> answer = allow(message="ok", data={"id": 7}, output_fields={"email": "a@b.c"})
    >>> render_result(answer)
    b'{"status":"allow","message":"ok","metadata":{"output_fields":{"email":"a@b.c"},"id":7}}'
    >>> render_result(allow())
    b'{"status":"allow","metadata":{}}'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from kiket_sdk._generated.models import Allow, AllowMetadata, Deny, Pending
from kiket_sdk._json_shapes import is_collection

__all__ = ["Allow", "Deny", "Pending", "allow", "deny", "pending", "render_result"]

_OK = b'{"ok":true}'


def allow(
    message: str | None = None,
    *,
    data: Mapping[str, Any] | None = None,
    output_fields: Mapping[str, str] | None = None,
) -> Allow:
    """Let the action proceed; ``output_fields`` are shown to the user in the extension's setup.

    Example::

        return allow("Connected", data={"route_id": 42}, output_fields={"inbound_email": addr})
    """
    metadata = AllowMetadata.model_validate(dict(data or {}))
    if output_fields is not None:
        metadata.output_fields = {str(k): str(v) for k, v in output_fields.items()}
    return Allow(status="allow", message=message, metadata=metadata)


def deny(message: str, *, data: Mapping[str, Any] | None = None) -> Deny:
    """Block the action and tell the user why.

    Example::

        return deny("Invalid credentials")
    """
    return Deny(status="deny", message=message, metadata=dict(data or {}))


def pending(message: str | None = None, *, data: Mapping[str, Any] | None = None) -> Pending:
    """Hold the action: the extension will decide later (for example after deferred work).

    Example::

        return pending("Awaiting approval", data={"ticket": "T-1"})
    """
    return Pending(status="pending", message=message, metadata=dict(data or {}))


_ANSWERS = (Allow, Deny, Pending)


def render_result(result: object) -> bytes:
    """Serialise a handler's return value to the JSON body of the answer.

    ``None`` -> ``{"ok": true}``; allow/deny/pending drop absent fields; any other pydantic model
    is dumped by alias; dicts, lists and scalars as JSON.
    """
    if result is None:
        return _OK
    if isinstance(result, _ANSWERS):
        return result.model_dump_json(by_alias=True, exclude_none=True).encode()
    if isinstance(result, BaseModel):
        return result.model_dump_json(by_alias=True).encode()
    return json.dumps(result, separators=(",", ":"), ensure_ascii=False, default=_fallback).encode()


def _fallback(value: object) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if is_collection(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(
        f"handler returned a value that is not JSON serialisable: {type(value).__name__}"
    )
