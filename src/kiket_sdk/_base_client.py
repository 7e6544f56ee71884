"""The HTTP core that every generated Kiket API operation calls.

Design:

- A root client owns one long-lived ``httpx`` pool. ``with_options()`` returns a shallow copy
  that *shares* that pool; the webhook router makes one per delivery to add
  ``X-Kiket-Runtime-Token`` / ``X-Kiket-Event-Version``, so it copies a few attributes and one
  small header dict, and never re-reads the environment.
- Headers are computed once per client with lower-case names (``User-Agent``, ``Accept``,
  ``Authorization``, then ``default_headers``); a call adds ``extra_headers`` on top.
- ``request()`` fills ``{name}`` placeholders (each value percent-encoded), encodes the query
  and JSON body, sends with retries (rules in ``_retry``), turns failures into the
  ``_exceptions`` tree and validates a 2xx body straight from bytes into ``cast_to``. The
  encoding and decoding steps live in ``_request_codec``; defaults, ``NOT_GIVEN``, the option
  types and ``RateLimitInfo`` in ``_client_options`` (re-exported here).
- ``SyncAPIClient`` / ``AsyncAPIClient`` differ only in send, sleep and close; everything else
  lives in ``_BaseAPIClient``.
- Every request sent during an observed delivery (``kiket_sdk.observation.current_delivery`` is
  set) is reported to it as an ``OutboundCall``, one per attempt; otherwise that check is one
  context-variable read per attempt. Subclasses (the generated ``KiketClient``) should expose their
  resources as ``functools.cached_property`` so a copy builds its own lazily, and list any extra
  state a copy must keep in ``_copied_attributes``.

Example:

```python
from pydantic import BaseModel
from kiket_sdk._base_client import SyncAPIClient

class SecretValue(BaseModel):
    value: str

with SyncAPIClient(base_url="http://127.0.0.1:3000", workspace_token="wk") as client:
    secret = client.request(
        "GET", "/api/v1/extensions/{extension_id}/secrets/{key}",
        path_params={"extension_id": "com.example", "key": "API_KEY"}, cast_to=SecretValue,
    )
    per_delivery = client.with_options(default_headers={"X-Kiket-Runtime-Token": "rt"})
    per_delivery.post("/api/v1/extensions/metrics", json={"name": "runs", "value": 1})
```
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar, Unpack, overload

import anyio
import httpx

from kiket_sdk._client_options import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    CallOptions,
    NotGiven,
    RateLimitInfo,
    RequestOptions,
    TimeoutTypes,
    checked_base_url,
    checked_max_retries,
    checked_timeout,
    lower_keys,
)
from kiket_sdk._client_options import base_headers as _base_headers
from kiket_sdk._exceptions import APIConnectionError, ClientClosedError
from kiket_sdk._per_event_loop import PerEventLoop
from kiket_sdk._request_codec import (
    M,
    call_headers,
    connection_error,
    encode_body,
    encode_params,
    parse_json,
    parse_model,
    render_path,
    status_error,
)
from kiket_sdk._retry import RETRYABLE_STATUSES, is_retryable_request
from kiket_sdk._retry import retry_delay as _retry_delay
from kiket_sdk.observation import (
    ObservedDelivery,
    OutboundCall,
    current_deferred_job,
    current_delivery,
)

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

_HttpxClientT = TypeVar("_HttpxClientT", httpx.Client, httpx.AsyncClient)
# Failures after which the request may not have reached the server: safe to repeat when the
# request itself is retryable. Others (a bad URL scheme, a local protocol error) raise at once.
_RETRYABLE_TRANSPORT_ERRORS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


def _report_call(
    observed: ObservedDelivery,
    request: httpx.Request,
    response: httpx.Response | None,
    error: BaseException | None,
    started: float,
    resend_count: int,
) -> None:
    """Tell ``observed`` of one attempt (``started``: ``time.perf_counter()`` before sending)."""
    duration = time.perf_counter() - started
    url = request.url
    observed.emit(
        OutboundCall(
            observed,
            method=request.method,
            url=str(url),
            path=url.path,
            status=None if response is None else response.status_code,
            request_body=request.content,
            response_body=None if response is None else response.content,
            started_at=time.time() - duration,
            duration=duration,
            resend_count=resend_count,
            error=None if error is None else type(error).__name__,
            job=current_deferred_job.get(),
        )
    )


class _BaseAPIClient(Generic[_HttpxClientT]):
    """Configuration, request encoding and retry decisions shared by both clients."""

    # What ``with_options`` copies; a subclass with more per-client state extends this tuple.
    _copied_attributes: ClassVar[tuple[str, ...]] = (
        "_base_url",
        "_workspace_token",
        "_timeout",
        "_max_retries",
        "_default_headers",
        "_headers",
        "_sleep",
        "_last_rate_limit",
    )
    _owns_client: bool

    def _http(self) -> _HttpxClientT:
        """The pool to send with (raises `ClientClosedError` once the client is closed)."""
        raise NotImplementedError

    def _configure(
        self,
        base_url: str | None,
        workspace_token: str | None,
        timeout: TimeoutTypes,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
    ) -> None:
        self._base_url = checked_base_url(base_url or os.environ.get("KIKET_BASE_URL"))
        self._workspace_token = workspace_token or os.environ.get("KIKET_WORKSPACE_TOKEN") or None
        self._timeout = checked_timeout(timeout)
        self._max_retries = checked_max_retries(max_retries)
        self._default_headers = lower_keys(default_headers)
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
            clone._base_url = checked_base_url(base_url)
        if not isinstance(timeout, NotGiven):
            clone._timeout = checked_timeout(timeout)
        if not isinstance(max_retries, NotGiven):
            clone._max_retries = checked_max_retries(max_retries)
        if not isinstance(workspace_token, NotGiven):
            clone._workspace_token = workspace_token or None
        if not isinstance(default_headers, NotGiven):
            clone._default_headers = {**self._default_headers, **lower_keys(default_headers)}
        if clone._workspace_token is not self._workspace_token or default_headers:
            clone._headers = _base_headers(clone._workspace_token, clone._default_headers)
        return clone

    def _with_headers_replaced(
        self, headers: Mapping[str, str], dropped: Collection[str], base_url: str | None
    ) -> Self:
        """A ``with_options`` copy that sends ``headers`` and none of ``dropped`` (lower-case
        names) even when this client's ``default_headers`` carried them; ``base_url`` (when
        given) replaces the API root."""
        copy = self.with_options(default_headers=headers, base_url=base_url or NOT_GIVEN)
        stale = {name for name in dropped if name in copy._default_headers}
        stale -= {name.lower() for name in headers}
        if stale:
            copy._default_headers = {
                name: value for name, value in copy._default_headers.items() if name not in stale
            }
            copy._headers = _base_headers(copy._workspace_token, copy._default_headers)
        return copy

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
            path = render_path(method, path, path_params)
        if not path.startswith("/"):
            path = "/" + path
        content = encode_body(body)
        headers = call_headers(
            self._headers,
            method,
            has_body=content is not None,
            extra_headers=extra_headers,
            idempotency_key=idempotency_key,
        )
        request = self._http().build_request(
            method,
            self._base_url + path,
            params=encode_params(params),
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

    _copied_attributes: ClassVar[tuple[str, ...]] = (
        *_BaseAPIClient._copied_attributes,
        "_client",
    )
    _client: httpx.Client

    def _http(self) -> httpx.Client:
        if self._client.is_closed:
            raise ClientClosedError(
                f"this {type(self).__name__} was closed (close() or the end of 'with'); "
                "create a new client"
            )
        return self._client

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
    def request(
        self, method: str, path: str, *, cast_to: type[M], **options: Unpack[RequestOptions]
    ) -> M: ...
    @overload
    def request(
        self, method: str, path: str, *, cast_to: None = None, **options: Unpack[RequestOptions]
    ) -> None: ...
    def request(
        self,
        method: str,
        path: str,
        *,
        cast_to: type[M] | None = None,
        **options: Unpack[RequestOptions],
    ) -> M | None:
        """Call ``method path`` and return the 2xx body validated as ``cast_to`` (or ``None``).

        The typed call behind every generated operation (``client.secrets.get(...)`` is
        ``client.request("GET", "/api/v1/extensions/{extension_id}/secrets/{key}", ...)``);
        usable directly for an operation the SDK does not wrap yet. ``{name}`` placeholders in
        ``path`` are filled from ``path_params`` (percent-encoded); the other options are
        those of ``RequestOptions``.

        Raises ``ConfigurationError`` (a missing path parameter, before sending anything),
        ``APIStatusError`` subclasses, ``APIConnectionError`` / ``APITimeoutError``, and
        ``APIError`` when a 2xx body does not fit ``cast_to``.
        """
        request, rendered = self._build_request(method, path, **options)
        return parse_model(self._send(request, rendered), cast_to, rendered)

    def request_raw(
        self, method: str, path: str, **options: Unpack[RequestOptions]
    ) -> httpx.Response:
        """Like ``request`` but return the successful ``httpx.Response`` itself."""
        request, rendered = self._build_request(method, path, **options)
        return self._send(request, rendered)

    def _send(self, request: httpx.Request, path: str) -> httpx.Response:
        retryable = self._max_retries > 0 and is_retryable_request(request.method, request.headers)
        retries_done = 0
        while True:
            observed = current_delivery.get()
            started = time.perf_counter() if observed is not None else 0.0
            try:
                response = self._http().send(request)
            except httpx.TransportError as exc:
                if observed is not None:
                    _report_call(observed, request, None, exc, started, retries_done)
                delay = self._delay_after_error(exc, retries_done, retryable)
                if delay is None:
                    raise connection_error(exc, request) from exc
            else:
                if observed is not None:
                    _report_call(observed, request, response, None, started, retries_done)
                self._observe(response)
                if response.is_success:
                    return response
                delay = self._delay_after_status(response, retries_done, retryable)
                if delay is None:
                    raise status_error(response, path)
            self._sleep(delay)
            retries_done += 1

    def _call_json(self, method: str, path: str, options: CallOptions) -> Any:
        request, rendered = self._build_plain_request(method, path, options)
        return parse_json(self._send(request, rendered), rendered)

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
    """Asynchronous twin of ``SyncAPIClient``: same options, same behaviour, ``await`` calls.

    Usable from any event loop, and from any number of loops in sequence (``asyncio.run`` called
    again and again, ``TestClient`` with or without ``with``, pytest-asyncio's per-test loops):
    each loop gets its own connection pool, shared by every call and every ``with_options`` copy
    made in it, and closed when the loop shuts down (see ``kiket_sdk._per_event_loop``).
    A closed client raises `ClientClosedError`.
    """

    _copied_attributes: ClassVar[tuple[str, ...]] = (
        *_BaseAPIClient._copied_attributes,
        "_pools",
    )

    @property
    def _client(self) -> httpx.AsyncClient:
        """The running event loop's connection pool."""
        return self._pools.current()

    def _http(self) -> httpx.AsyncClient:
        return self._pools.current()

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
        self._pools: PerEventLoop[httpx.AsyncClient] = PerEventLoop(
            lambda: httpx.AsyncClient(timeout=timeout),
            close=lambda pool: pool.aclose(),
            given=http_client,
            is_closed=lambda pool: pool.is_closed,
            name=type(self).__name__,
        )
        self._sleep: Callable[[float], Awaitable[object]] = anyio.sleep

    @overload
    async def request(
        self, method: str, path: str, *, cast_to: type[M], **options: Unpack[RequestOptions]
    ) -> M: ...
    @overload
    async def request(
        self, method: str, path: str, *, cast_to: None = None, **options: Unpack[RequestOptions]
    ) -> None: ...
    async def request(
        self,
        method: str,
        path: str,
        *,
        cast_to: type[M] | None = None,
        **options: Unpack[RequestOptions],
    ) -> M | None:
        """Call ``method path`` and return the 2xx body validated as ``cast_to`` (or ``None``).

        Raises like ``SyncAPIClient.request``.
        """
        request, rendered = self._build_request(method, path, **options)
        return parse_model(await self._send(request, rendered), cast_to, rendered)

    async def request_raw(
        self, method: str, path: str, **options: Unpack[RequestOptions]
    ) -> httpx.Response:
        """Like ``request`` but return the successful ``httpx.Response`` itself."""
        request, rendered = self._build_request(method, path, **options)
        return await self._send(request, rendered)

    async def _send(self, request: httpx.Request, path: str) -> httpx.Response:
        retryable = self._max_retries > 0 and is_retryable_request(request.method, request.headers)
        retries_done = 0
        while True:
            observed = current_delivery.get()
            started = time.perf_counter() if observed is not None else 0.0
            try:
                response = await self._pools.current().send(request)
            except httpx.TransportError as exc:
                if observed is not None:
                    _report_call(observed, request, None, exc, started, retries_done)
                delay = self._delay_after_error(exc, retries_done, retryable)
                if delay is None:
                    raise connection_error(exc, request) from exc
            except RuntimeError as exc:
                if self._pools.owned or "loop" not in str(exc):
                    raise
                # The caller's own http_client, used from another event loop than its first.
                raise APIConnectionError(
                    f"the http_client given to {type(self).__name__} belongs to another event "
                    "loop; let the client make its own pools (no http_client=), or make one "
                    "httpx.AsyncClient per loop",
                    request=request,
                ) from exc
            else:
                if observed is not None:
                    _report_call(observed, request, response, None, started, retries_done)
                self._observe(response)
                if response.is_success:
                    return response
                delay = self._delay_after_status(response, retries_done, retryable)
                if delay is None:
                    raise status_error(response, path)
            await self._sleep(delay)
            retries_done += 1

    async def _call_json(self, method: str, path: str, options: CallOptions) -> Any:
        request, rendered = self._build_plain_request(method, path, options)
        return parse_json(await self._send(request, rendered), rendered)

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
        """Close the connection pools if this client created them (copies never close them);
        later calls raise `ClientClosedError`. A pool given as ``http_client`` stays open."""
        if self._owns_client:
            await self._pools.aclose()

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
