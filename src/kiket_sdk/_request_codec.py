"""Encoding of what goes over the wire and decoding of what comes back, without any I/O.

The HTTP core in ``_base_client`` builds each call from these pieces and only adds sending,
retrying and sleeping, which differ between its sync and async clients:

- out: ``render_path`` fills ``{name}`` placeholders (each value percent-encoded, a missing one
  raises ``ConfigurationError`` before anything is sent); ``encode_params`` flattens the query;
  ``encode_body`` serialises the JSON body; ``call_headers`` adds per-call headers, including
  the automatic ``Idempotency-Key`` of ``POST``/``PATCH``.
- not given vs ``null``: a query value or body field that is ``NOT_GIVEN`` is left out; a query
  value ``None`` too (a query has no ``null``). In a body, ``None`` is sent as ``null``, and a
  pydantic model is dumped by alias with only the fields that were set (``exclude_unset``): a
  field never set is left out, a field set to ``None`` is sent as ``null``. (The generated
  operations decide per field from the spec: ``kiket_sdk._serialization.build_body``.)
- datetimes: an aware ``datetime`` goes out as ISO-8601 with its offset; a naive one (no
  ``tzinfo``, e.g. ``datetime.now()``) raises ``ConfigurationError`` before anything is sent,
  in the query, the path or the body alike. The SDK does not assume UTC: a local
  ``datetime.now()`` read as UTC would be off by the local offset without any error.
- in: ``parse_model`` / ``parse_json`` read a 2xx body; ``status_error`` turns an error status
  (and its problem-details body) into the matching ``APIStatusError`` subclass;
  ``connection_error`` does the same for a transport failure.

Example:

```python
from datetime import datetime

from kiket_sdk._client_options import NOT_GIVEN
from kiket_sdk._request_codec import encode_body, encode_params, render_path
from kiket_sdk.types import Problem

render_path("GET", "/api/v1/things/{id}", {"id": "a/b"})  # -> "/api/v1/things/a%2Fb"
encode_params({"tags": ["x", "y"], "all": True, "page": None, "limit": NOT_GIVEN})
# -> [("tags", "x"), ("tags", "y"), ("all", "true")]
encode_body(Problem(title="Gone", detail=None))  # detail set to None, the rest never set
# -> b'{"title":"Gone","detail":null}'
encode_params({"since": datetime.now()})  # raises ConfigurationError: a naive datetime
```
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from datetime import time as time_of_day
from enum import Enum
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pydantic_core
from pydantic import BaseModel, ValidationError

from kiket_sdk._client_options import NOT_GIVEN, NotGiven, lower_keys
from kiket_sdk._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    status_error_class,
)
from kiket_sdk._json_shapes import is_array, is_json_object
from kiket_sdk._retry import KEYED_WRITE_METHODS
from kiket_sdk._serialization import aware_timestamp, outbound_json

__all__ = [
    "M",
    "call_headers",
    "connection_error",
    "encode_body",
    "encode_params",
    "parse_json",
    "parse_model",
    "render_path",
    "status_error",
]

M = TypeVar("M", bound=BaseModel)
_QueryPairs = list[tuple[str, str | int | float | bool | None]]  # the shape httpx accepts
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render_path(method: str, path: str, path_params: Mapping[str, object] | None) -> str:
    """``path`` with each ``{name}`` replaced by its percent-encoded value (``/`` included)."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        value = None if path_params is None else path_params.get(name)
        if value is None or isinstance(value, NotGiven):
            raise ConfigurationError(
                f"{method} {path} needs the path parameter {name!r}: pass {name}=..."
            )
        return quote(_param_text(value, name), safe="")

    return _PLACEHOLDER.sub(substitute, path)


def encode_params(params: Mapping[str, object] | None) -> _QueryPairs | None:
    """The query as pairs: ``None`` and ``NOT_GIVEN`` dropped, a list or tuple repeated once per
    item. A naive ``datetime`` raises ``ConfigurationError`` (see the module docstring)."""
    if not params:
        return None
    pairs: _QueryPairs = []
    for key, value in params.items():
        if is_array(value):
            pairs.extend((key, _param_text(item, key)) for item in value if item is not None)
        elif value is not None and not isinstance(value, NotGiven):
            pairs.append((key, _param_text(value, key)))
    return pairs


def _param_text(value: object, name: str) -> str:
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return _param_text(value.value, name)
    if isinstance(value, datetime):
        return aware_timestamp(value, name)
    if isinstance(value, date | time_of_day):
        return value.isoformat()
    if isinstance(value, Mapping):  # e.g. custom data ``filters``: a JSON-encoded object
        return pydantic_core.to_json(value).decode()
    return str(value)


def encode_body(body: object) -> bytes | None:
    """JSON bytes of ``body`` (``None``: no body).

    A model (also inside a mapping or list) is dumped by alias with only the fields that were
    set: never set = left out, set to ``None`` = ``null``. A naive ``datetime`` anywhere raises
    ``ConfigurationError``.
    """
    if body is None:
        return None
    return pydantic_core.to_json(outbound_json(body), by_alias=True)


def call_headers(
    shared: dict[str, str],
    method: str,
    *,
    has_body: bool,
    extra_headers: Mapping[str, str] | None,
    idempotency_key: str | NotGiven | None,
) -> dict[str, str]:
    """The headers of one call: the client's ``shared`` headers plus what this call adds.

    ``shared`` itself is returned (never mutated) when the call adds nothing, so a plain ``GET``
    copies no dict. ``method`` must already be upper-case.
    """
    keyed_write = method in KEYED_WRITE_METHODS
    if not (extra_headers or has_body or keyed_write or idempotency_key is not NOT_GIVEN):
        return shared
    headers = dict(shared)
    if has_body:
        headers["content-type"] = "application/json"
    if extra_headers:
        headers.update(lower_keys(extra_headers))
    if isinstance(idempotency_key, str):
        headers["idempotency-key"] = idempotency_key
    elif idempotency_key is None:
        headers.pop("idempotency-key", None)
    elif keyed_write and "idempotency-key" not in headers:
        headers["idempotency-key"] = str(uuid.uuid4())
    return headers


def parse_model(response: httpx.Response, cast_to: type[M] | None, path: str) -> M | None:
    """The 2xx body validated as ``cast_to`` (an empty body as ``{}``); ``APIError`` if unfit."""
    if cast_to is None:
        return None
    try:
        return cast_to.model_validate_json(response.content or b"{}")
    except ValidationError as exc:
        raise _unexpected_body(response, path, exc) from exc


def parse_json(response: httpx.Response, path: str) -> Any:
    """The 2xx body as parsed JSON, ``None`` when blank; ``APIError`` when it is not JSON."""
    if not response.content.strip():
        return None
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise _unexpected_body(response, path, exc) from exc


def _unexpected_body(response: httpx.Response, path: str, exc: Exception) -> APIError:
    if isinstance(exc, ValidationError):
        # Locations and messages only: the offending values may be secrets (e.g. a secret's value).
        problems = [
            f"{'.'.join(str(part) for part in error['loc']) or '(body)'}: {error['msg']}"
            for error in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
        reason = f"{exc.title} does not fit: " + "; ".join(problems[:5])
        if len(problems) > 5:
            reason += f"; and {len(problems) - 5} more"
    else:
        reason = f"not JSON ({exc})"
    return APIError(
        f"Kiket API returned an unexpected response body for {response.request.method} {path}: "
        + reason,
        request=response.request,
    )


def status_error(response: httpx.Response, path: str) -> APIStatusError:
    """The ``APIStatusError`` subclass for an error response, its message from the body.

    A JSON object body is kept as ``problem``; its ``detail``/``title``/``error``/``message``
    (the first present) joins the status line in the message.
    """
    status = response.status_code
    problem: dict[str, Any] = {}
    if response.content:
        try:
            parsed: object = json.loads(response.content)
        except ValueError:
            parsed = None
        if is_json_object(parsed):
            problem = parsed
    reason = response.reason_phrase or _reason_phrase(status)
    detail = next(
        (problem[k] for k in ("detail", "title", "error", "message") if problem.get(k)), None
    )
    message = f"{status} {reason}: {detail}" if detail else f"{status} {reason}"
    message += f" ({response.request.method} {path})"
    return status_error_class(status)(message, response=response, problem=problem)


def connection_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    """``APITimeoutError`` for a timeout, else an ``APIConnectionError`` naming the host."""
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(request=request)
    return APIConnectionError(
        f"Could not reach the Kiket API at {request.url.scheme}://{request.url.netloc.decode()}: "
        f"{str(exc) or type(exc).__name__}. Check KIKET_BASE_URL or base_url=.",
        request=request,
    )


def _reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
