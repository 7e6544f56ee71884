"""The ways into ``FakeKiket.handle``: an httpx transport, an ASGI app and a real server.

All three pass the raw (percent-encoded) path, the query as a dict (last value wins), the
headers and the body bytes to one plain ``handle`` function and send back its ``FakeResponse``.

>>> import httpx
>>> def handle(method, path, query, headers, body):
...     return FakeResponse(200, {}, b'{"path":"%s"}' % path.encode())
>>> httpx.Client(transport=FakeKiketTransport(handle)).get("http://x/a%2Fb").json()
{'path': '/a%2Fb'}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["FakeKiketTransport", "FakeResponse", "Handler", "build_app"]

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


@dataclass(frozen=True, slots=True)
class FakeResponse:
    """An answer of ``FakeKiket.handle`` (header names lower-case)."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON (``None`` when empty)."""
        return json.loads(self.body) if self.body else None


class Handler(Protocol):
    """The signature of ``FakeKiket.handle``."""

    def __call__(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> FakeResponse: ...


def _query(raw: str) -> dict[str, str]:
    return dict(parse_qsl(raw, keep_blank_values=True))


class FakeKiketTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Answers httpx requests in process, for sync and async clients alike."""

    def __init__(self, handle: Handler) -> None:
        self._handle = handle

    def _answer(self, request: httpx.Request, body: bytes) -> httpx.Response:
        path = request.url.raw_path.split(b"?", 1)[0].decode("latin-1")
        query = _query(request.url.query.decode("latin-1"))
        headers = {name.lower(): value for name, value in request.headers.items()}
        answer = self._handle(request.method, path, query, headers, body)
        return httpx.Response(answer.status, headers=answer.headers, content=answer.body)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a request of a sync client."""
        return self._answer(request, request.read())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a request of an async client."""
        return self._answer(request, await request.aread())


def build_app(handle: Handler) -> Starlette:
    """A Starlette app that sends every request to ``handle``."""

    async def endpoint(request: Request) -> Response:
        raw_path = request.scope.get("raw_path")
        if raw_path:
            path = bytes(raw_path).split(b"?", 1)[0].decode("latin-1")
        else:
            path = quote(request.scope["path"])
        body = await request.body()
        answer = handle(
            request.method, path, _query(request.url.query), dict(request.headers), body
        )
        return Response(answer.body, status_code=answer.status, headers=answer.headers)

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=_METHODS)])
