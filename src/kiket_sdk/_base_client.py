"""The HTTP core that every generated Kiket API operation calls.

Design:

- A root client owns one long-lived ``httpx`` pool. ``with_options()`` returns a shallow copy
  that *shares* that pool; the webhook router makes one per delivery to add
  ``X-Kiket-Runtime-Token`` / ``X-Kiket-Event-Version``, so it copies a few attributes and one
  small header dict, and never re-reads the environment.
- Headers are computed once per client with lower-case names (``User-Agent``, ``Accept``,
  ``Authorization``, then ``default_headers``); a call adds ``extra_headers`` on top.
- ``_request()`` fills ``{name}`` placeholders (each value percent-encoded), encodes the query
  and JSON body, sends with retries (rules in ``_retry``), turns failures into the
  ``_exceptions`` tree and validates a 2xx body straight from bytes into ``cast_to``.
- ``SyncAPIClient`` / ``AsyncAPIClient`` differ only in send, sleep and close; everything else
  lives in ``_BaseAPIClient``. Subclasses (the generated ``KiketClient``) should expose their
  resources as ``functools.cached_property`` so a copy builds its own lazily, and list any extra
  state a copy must keep in ``_copied_attributes``.

Example:

```python
from pydantic import BaseModel
from kiket_sdk._base_client import SyncAPIClient

class SecretValue(BaseModel):
    value: str

with SyncAPIClient(base_url="http://127.0.0.1:3000", workspace_token="wk") as client:
    secret = client._request(
        "GET", "/api/v1/extensions/{extension_id}/secrets/{key}",
        path_params={"extension_id": "com.example", "key": "API_KEY"}, cast_to=SecretValue,
    )
    per_delivery = client.with_options(default_headers={"X-Kiket-Runtime-Token": "rt"})
    per_delivery.post("/api/v1/extensions/metrics", json={"name": "runs", "value": 1})
```
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as time_of_day
from enum import Enum
from http import HTTPStatus
from types import TracebackType
from typing import Any, ClassVar, Generic, Literal, Self, TypedDict, TypeVar, Unpack, overload
from urllib.parse import quote

import anyio
import httpx
import pydantic_core
from pydantic import BaseModel, ValidationError

from kiket_sdk._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    status_error_class,
)
from kiket_sdk._retry import KEYED_WRITE_METHODS, RETRYABLE_STATUSES, is_retryable_request
from kiket_sdk._retry import retry_delay as _retry_delay
from kiket_sdk._version import __version__

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "NOT_GIVEN",
    "AsyncAPIClient",
    "CallOptions",
    "NotGiven",
    "RateLimitInfo",
    "RequestOptions",
    "SyncAPIClient",
]

DEFAULT_BASE_URL = "https://kiket.dev"
DEFAULT_TIMEOUT = httpx.Timeout(30.0)
DEFAULT_MAX_RETRIES = 2
USER_AGENT = f"kiket-sdk-python/{__version__}"

TimeoutTypes = float | httpx.Timeout | None
_QueryPairs = list[tuple[str, str | int | float | bool | None]]  # the shape httpx accepts
M = TypeVar("M", bound=BaseModel)
_HttpxClientT = TypeVar("_HttpxClientT", httpx.Client, httpx.AsyncClient)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Failures after which the request may not have reached the server: safe to repeat when the
# request itself is retryable. Others (a bad URL scheme, a local protocol error) raise at once.
_RETRYABLE_TRANSPORT_ERRORS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


class NotGiven:
    """Type of ``NOT_GIVEN``: "argument omitted", as distinct from an explicit ``None``."""

    __slots__ = ()
    _instance: ClassVar[NotGiven | None] = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


class RequestOptions(TypedDict, total=False):
    """Keyword options of ``_request`` / ``_request_raw`` (all optional).

    - ``path_params``: values for the ``{name}`` placeholders of ``path``, each percent-encoded.
    - ``params``: the query; ``None`` values dropped, bools as ``true``/``false``, lists repeated.
    - ``body``: a pydantic model (by alias, ``None`` fields left out) or any JSON value.
    - ``timeout``: this call's timeout (``None`` = none); default: the client's.
    - ``extra_headers``: headers for this call, over the client's.
    - ``idempotency_key``: for ``POST``/``PATCH`` a fresh UUID is sent when omitted; ``None``
      sends no key, which also turns retries off for that write.
    """

    path_params: Mapping[str, object] | None
    params: Mapping[str, object] | None
    body: object
    timeout: TimeoutTypes | NotGiven
    extra_headers: Mapping[str, str] | None
    idempotency_key: str | NotGiven | None


class CallOptions(TypedDict, total=False):
    """Keyword options of ``get``/``post``/``put``/``patch``/``delete`` (all optional).

    ``json`` is the body; ``params``, ``timeout`` and ``extra_headers`` as in ``RequestOptions``.
    """

    json: object
    params: Mapping[str, object] | None
    timeout: TimeoutTypes | NotGiven
    extra_headers: Mapping[str, str] | None


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """The ``X-RateLimit-*`` headers of a response (``None`` for a header that was absent).

    ``reset`` is the ``X-RateLimit-Reset`` number exactly as sent.
    """

    limit: int | None
    remaining: int | None
    reset: float | None

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> RateLimitInfo | None:
        """Read the headers; ``None`` when none is present. A malformed value reads as ``None``."""
        limit = headers.get("x-ratelimit-limit")
        remaining = headers.get("x-ratelimit-remaining")
        reset = headers.get("x-ratelimit-reset")
        if limit is None and remaining is None and reset is None:
            return None
        return cls(_integer(limit), _integer(remaining), _number(reset))


class _BaseAPIClient(Generic[_HttpxClientT]):
    """Configuration, request encoding and retry decisions shared by both clients."""

    # What ``with_options`` copies; a subclass with more per-client state extends this tuple.
    _copied_attributes: ClassVar[tuple[str, ...]] = (
        "_client",
        "_base_url",
        "_workspace_token",
        "_timeout",
        "_max_retries",
        "_default_headers",
        "_headers",
        "_sleep",
        "_last_rate_limit",
    )
    _client: _HttpxClientT
    _owns_client: bool

    def _configure(
        self,
        base_url: str | None,
        workspace_token: str | None,
        timeout: TimeoutTypes,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
    ) -> None:
        self._base_url = _checked_base_url(base_url or os.environ.get("KIKET_BASE_URL"))
        self._workspace_token = workspace_token or os.environ.get("KIKET_WORKSPACE_TOKEN") or None
        self._timeout = timeout
        self._max_retries = _checked_max_retries(max_retries)
        self._default_headers = _lower_keys(default_headers)
        self._headers = _base_headers(self._workspace_token, self._default_headers)
        self._last_rate_limit: RateLimitInfo | None = None

    @property
    def base_url(self) -> str:
        """The API root that every path is appended to (no trailing slash)."""
        return self._base_url

    @property
    def workspace_token(self) -> str | None:
        """The token sent as ``Authorization: Bearer ...``, or ``None``."""
        return self._workspace_token

    @property
    def max_retries(self) -> int:
        """How many times a failed, retryable call is repeated after the first attempt."""
        return self._max_retries

    @property
    def timeout(self) -> TimeoutTypes:
        """The default timeout of a call (``None`` = wait forever)."""
        return self._timeout

    @property
    def last_rate_limit(self) -> RateLimitInfo | None:
        """The ``X-RateLimit-*`` headers of the latest response that carried any of them."""
        return self._last_rate_limit

    def with_options(
        self,
        *,
        base_url: str | NotGiven = NOT_GIVEN,
        workspace_token: str | NotGiven | None = NOT_GIVEN,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
    ) -> Self:
        """A copy with some settings changed that shares this client's connection pool.

        ``default_headers`` are merged over this client's; ``workspace_token=None`` drops the
        ``Authorization`` header; the environment is not read again. Cheap enough to call once
        per webhook delivery. Closing the copy leaves the shared pool open.
        """
        clone = object.__new__(type(self))
        state = self.__dict__
        clone.__dict__.update({name: state[name] for name in self._copied_attributes})
        clone._owns_client = False
        if not isinstance(base_url, NotGiven):
            clone._base_url = _checked_base_url(base_url)
        if not isinstance(timeout, NotGiven):
            clone._timeout = timeout
        if not isinstance(max_retries, NotGiven):
            clone._max_retries = _checked_max_retries(max_retries)
        if not isinstance(workspace_token, NotGiven):
            clone._workspace_token = workspace_token or None
        if not isinstance(default_headers, NotGiven):
            clone._default_headers = {**self._default_headers, **_lower_keys(default_headers)}
        if clone._workspace_token is not self._workspace_token or default_headers:
            clone._headers = _base_headers(clone._workspace_token, clone._default_headers)
        return clone

    def _build_request(
        self,
        method: str,
        path: str,
        *,
        path_params: Mapping[str, object] | None = None,
        params: Mapping[str, object] | None = None,
        body: object = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        idempotency_key: str | NotGiven | None = NOT_GIVEN,
    ) -> tuple[httpx.Request, str]:
        """The request to send and its rendered path (for error messages)."""
        method = method.upper()
        if "{" in path:
            path = _render_path(method, path, path_params)
        if not path.startswith("/"):
            path = "/" + path
        content = _encode_body(body)
        headers = self._headers  # shared, never mutated: copied below only when a call adds any
        keyed_write = method in KEYED_WRITE_METHODS
        if extra_headers or content is not None or keyed_write or idempotency_key is not NOT_GIVEN:
            headers = dict(headers)
            if content is not None:
                headers["content-type"] = "application/json"
            if extra_headers:
                headers.update(_lower_keys(extra_headers))
            if isinstance(idempotency_key, str):
                headers["idempotency-key"] = idempotency_key
            elif idempotency_key is None:
                headers.pop("idempotency-key", None)
            elif keyed_write and "idempotency-key" not in headers:
                headers["idempotency-key"] = str(uuid.uuid4())
        request = self._client.build_request(
            method,
            self._base_url + path,
            params=_encode_params(params),
            content=content,
            headers=headers,
            timeout=self._timeout if isinstance(timeout, NotGiven) else timeout,
        )
        return request, path

    def _build_plain_request(
        self, method: str, path: str, options: CallOptions
    ) -> tuple[httpx.Request, str]:
        """The request of a ``get``/``post``/... call: ``path`` is used as given (no templating)."""
        return self._build_request(
            method,
            path.replace("{", "%7B").replace("}", "%7D"),  # the encoding httpx would apply
            params=options.get("params"),
            body=options.get("json"),
            timeout=options.get("timeout", NOT_GIVEN),
            extra_headers=options.get("extra_headers"),
        )

    def _delay_after_status(
        self, response: httpx.Response, retries_done: int, retryable: bool
    ) -> float | None:
        """Seconds to wait before repeating after an error status; ``None``: raise instead."""
        if not retryable or retries_done >= self._max_retries:
            return None
        if response.status_code not in RETRYABLE_STATUSES:
            return None
        return _retry_delay(retries_done, response)

    def _delay_after_error(
        self, exc: httpx.TransportError, retries_done: int, retryable: bool
    ) -> float | None:
        """Seconds to wait before repeating after a transport failure; ``None``: raise instead."""
        if not retryable or retries_done >= self._max_retries:
            return None
        if not isinstance(exc, _RETRYABLE_TRANSPORT_ERRORS):
            return None
        return _retry_delay(retries_done, None)

    def _observe(self, response: httpx.Response) -> None:
        info = RateLimitInfo.from_headers(response.headers)
        if info is not None:
            self._last_rate_limit = info


class SyncAPIClient(_BaseAPIClient[httpx.Client]):
    """Blocking Kiket API client core; see the module docstring."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        workspace_token: str | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        """Configure the client.

        ``base_url``: argument, else env ``KIKET_BASE_URL``, else ``https://kiket.dev``.
        ``workspace_token``: argument, else env ``KIKET_WORKSPACE_TOKEN``, else no
        ``Authorization`` header. ``http_client``: a pool to use (and not close) instead of a new
        one; this client's ``timeout`` still applies to each call.
        """
        self._configure(base_url, workspace_token, timeout, max_retries, default_headers)
        self._owns_client = http_client is None
        self._client = http_client if http_client is not None else httpx.Client(timeout=timeout)
        self._sleep: Callable[[float], object] = time.sleep

    @overload
    def _request(
        self, method: str, path: str, *, cast_to: type[M], **options: Unpack[RequestOptions]
    ) -> M: ...
    @overload
    def _request(
        self, method: str, path: str, *, cast_to: None = None, **options: Unpack[RequestOptions]
    ) -> None: ...
    def _request(
        self,
        method: str,
        path: str,
        *,
        cast_to: type[M] | None = None,
        **options: Unpack[RequestOptions],
    ) -> M | None:
        """Call ``method path`` and return the 2xx body validated as ``cast_to`` (or ``None``).

        Raises ``ConfigurationError`` (a missing path parameter, before sending anything),
        ``APIStatusError`` subclasses, ``APIConnectionError`` / ``APITimeoutError``, and
        ``APIError`` when a 2xx body does not fit ``cast_to``.
        """
        request, rendered = self._build_request(method, path, **options)
        return _parse_model(self._send(request, rendered), cast_to, rendered)

    def _request_raw(
        self, method: str, path: str, **options: Unpack[RequestOptions]
    ) -> httpx.Response:
        """Like ``_request`` but return the successful ``httpx.Response`` itself."""
        request, rendered = self._build_request(method, path, **options)
        return self._send(request, rendered)

    def _send(self, request: httpx.Request, path: str) -> httpx.Response:
        retryable = self._max_retries > 0 and is_retryable_request(request.method, request.headers)
        retries_done = 0
        while True:
            try:
                response = self._client.send(request)
            except httpx.TransportError as exc:
                delay = self._delay_after_error(exc, retries_done, retryable)
                if delay is None:
                    raise _connection_error(exc, request) from exc
            else:
                self._observe(response)
                if response.is_success:
                    return response
                delay = self._delay_after_status(response, retries_done, retryable)
                if delay is None:
                    raise _status_error(response, path)
            self._sleep(delay)
            retries_done += 1

    def _call_json(self, method: str, path: str, options: CallOptions) -> Any:
        request, rendered = self._build_plain_request(method, path, options)
        return _parse_json(self._send(request, rendered), rendered)

    def get(self, path: str, **options: Unpack[CallOptions]) -> Any:
        """``GET path``; the parsed JSON body or ``None``. Options: see ``CallOptions``."""
        return self._call_json("GET", path, options)

    def post(self, path: str, **options: Unpack[CallOptions]) -> Any:
        """``POST path`` (with a fresh ``Idempotency-Key``); the parsed JSON body or ``None``."""
        return self._call_json("POST", path, options)

    def put(self, path: str, **options: Unpack[CallOptions]) -> Any:
        """``PUT path``; the parsed JSON body or ``None``."""
        return self._call_json("PUT", path, options)

    def patch(self, path: str, **options: Unpack[CallOptions]) -> Any:
        """``PATCH path`` (with a fresh ``Idempotency-Key``); the parsed JSON body or ``None``."""
        return self._call_json("PATCH", path, options)

    def delete(self, path: str, **options: Unpack[CallOptions]) -> Any:
        """``DELETE path``; the parsed JSON body or ``None``."""
        return self._call_json("DELETE", path, options)

    def close(self) -> None:
        """Close the connection pool if this client created it (copies never close it)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncAPIClient(_BaseAPIClient[httpx.AsyncClient]):
    """Asynchronous twin of ``SyncAPIClient``: same options, same behaviour, ``await`` calls."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        workspace_token: str | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        """Configure the client; the same settings and fallbacks as ``SyncAPIClient``."""
        self._configure(base_url, workspace_token, timeout, max_retries, default_headers)
        self._owns_client = http_client is None
        self._client = (
            http_client if http_client is not None else httpx.AsyncClient(timeout=timeout)
        )
        self._sleep: Callable[[float], Awaitable[object]] = anyio.sleep

    @overload
    async def _request(
        self, method: str, path: str, *, cast_to: type[M], **options: Unpack[RequestOptions]
    ) -> M: ...
    @overload
    async def _request(
        self, method: str, path: str, *, cast_to: None = None, **options: Unpack[RequestOptions]
    ) -> None: ...
    async def _request(
        self,
        method: str,
        path: str,
        *,
        cast_to: type[M] | None = None,
        **options: Unpack[RequestOptions],
    ) -> M | None:
        """Call ``method path`` and return the 2xx body validated as ``cast_to`` (or ``None``).

        Raises like ``SyncAPIClient._request``.
        """
        request, rendered = self._build_request(method, path, **options)
        return _parse_model(await self._send(request, rendered), cast_to, rendered)

    async def _request_raw(
        self, method: str, path: str, **options: Unpack[RequestOptions]
    ) -> httpx.Response:
        """Like ``_request`` but return the successful ``httpx.Response`` itself."""
        request, rendered = self._build_request(method, path, **options)
        return await self._send(request, rendered)

    async def _send(self, request: httpx.Request, path: str) -> httpx.Response:
        retryable = self._max_retries > 0 and is_retryable_request(request.method, request.headers)
        retries_done = 0
        while True:
            try:
                response = await self._client.send(request)
            except httpx.TransportError as exc:
                delay = self._delay_after_error(exc, retries_done, retryable)
                if delay is None:
                    raise _connection_error(exc, request) from exc
            else:
                self._observe(response)
                if response.is_success:
                    return response
                delay = self._delay_after_status(response, retries_done, retryable)
                if delay is None:
                    raise _status_error(response, path)
            await self._sleep(delay)
            retries_done += 1

    async def _call_json(self, method: str, path: str, options: CallOptions) -> Any:
        request, rendered = self._build_plain_request(method, path, options)
        return _parse_json(await self._send(request, rendered), rendered)

    async def get(self, path: str, **options: Unpack[CallOptions]) -> Any:
        """``GET path``; the parsed JSON body or ``None``. Options: see ``CallOptions``."""
        return await self._call_json("GET", path, options)

    async def post(self, path: str, **options: Unpack[CallOptions]) -> Any:
        """``POST path`` (with a fresh ``Idempotency-Key``); the parsed JSON body or ``None``."""
        return await self._call_json("POST", path, options)

    async def put(self, path: str, **options: Unpack[CallOptions]) -> Any:
        """``PUT path``; the parsed JSON body or ``None``."""
        return await self._call_json("PUT", path, options)

    async def patch(self, path: str, **options: Unpack[CallOptions]) -> Any:
        """``PATCH path`` (with a fresh ``Idempotency-Key``); the parsed JSON body or ``None``."""
        return await self._call_json("PATCH", path, options)

    async def delete(self, path: str, **options: Unpack[CallOptions]) -> Any:
        """``DELETE path``; the parsed JSON body or ``None``."""
        return await self._call_json("DELETE", path, options)

    async def aclose(self) -> None:
        """Close the connection pool if this client created it (copies never close it)."""
        if self._owns_client:
            await self._client.aclose()

    async def close(self) -> None:
        """Alias of ``aclose()``."""
        await self.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def _render_path(method: str, path: str, path_params: Mapping[str, object] | None) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        value = None if path_params is None else path_params.get(name)
        if value is None:
            raise ConfigurationError(
                f"{method} {path} needs the path parameter {name!r}: pass {name}=..."
            )
        return quote(str(value), safe="")

    return _PLACEHOLDER.sub(substitute, path)


def _encode_params(params: Mapping[str, object] | None) -> _QueryPairs | None:
    if not params:
        return None
    pairs: _QueryPairs = []
    for key, value in params.items():
        if isinstance(value, list | tuple):
            pairs.extend((key, _param_text(item)) for item in value if item is not None)
        elif value is not None:
            pairs.append((key, _param_text(value)))
    return pairs


def _param_text(value: object) -> str:
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return _param_text(value.value)
    if isinstance(value, datetime | date | time_of_day):
        return value.isoformat()
    if isinstance(value, Mapping):  # e.g. custom data ``filters``: a JSON-encoded object
        return pydantic_core.to_json(value).decode()
    return str(value)


def _encode_body(body: object) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, BaseModel):
        return body.model_dump_json(by_alias=True, exclude_none=True).encode()
    return pydantic_core.to_json(body, by_alias=True)


def _parse_model(response: httpx.Response, cast_to: type[M] | None, path: str) -> M | None:
    if cast_to is None:
        return None
    try:
        return cast_to.model_validate_json(response.content or b"{}")
    except ValidationError as exc:
        raise _unexpected_body(response, path, exc) from exc


def _parse_json(response: httpx.Response, path: str) -> Any:
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


def _status_error(response: httpx.Response, path: str) -> APIStatusError:
    status = response.status_code
    problem: dict[str, Any] = {}
    if response.content:
        try:
            parsed = json.loads(response.content)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            problem = parsed
    reason = response.reason_phrase or _reason_phrase(status)
    detail = next(
        (problem[k] for k in ("detail", "title", "error", "message") if problem.get(k)), None
    )
    message = f"{status} {reason}: {detail}" if detail else f"{status} {reason}"
    message += f" ({response.request.method} {path})"
    return status_error_class(status)(message, response=response, problem=problem)


def _connection_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
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


def _checked_base_url(base_url: str | None) -> str:
    url = (base_url or DEFAULT_BASE_URL).strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"The Kiket base URL must start with http:// or https://, got {url!r}: "
            "set KIKET_BASE_URL or pass base_url=."
        )
    return url


def _checked_max_retries(max_retries: int) -> int:
    if max_retries < 0:
        raise ConfigurationError(f"max_retries must be 0 or more, got {max_retries}.")
    return max_retries


def _lower_keys(headers: Mapping[str, str] | None) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()} if headers else {}


def _base_headers(workspace_token: str | None, default_headers: dict[str, str]) -> dict[str, str]:
    headers = {"user-agent": USER_AGENT, "accept": "application/json"}
    if workspace_token:
        headers["authorization"] = f"Bearer {workspace_token}"
    headers.update(default_headers)
    return headers


def _integer(value: str | None) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
