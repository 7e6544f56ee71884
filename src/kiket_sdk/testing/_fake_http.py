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
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["FakeKiketTransport", "FakeResponse", "Handler", "build_app", "serve_in_thread"]

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
_STARTUP_TIMEOUT = 10.0
_SHUTDOWN_TIMEOUT = 10.0


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


@contextmanager
def serve_in_thread(app: Starlette, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run ``app`` with uvicorn in a background thread; yields ``http://host:port``.

    The socket is bound before uvicorn starts (``port=0``: the OS picks a free one), startup is
    awaited, and on exit the server is stopped and its thread joined.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port: int = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # SystemExit included: uvicorn exits on startup errors
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"fake-kiket-{bound_port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while not server.started:
            if failure or not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(
                    f"FakeKiket server did not start on port {bound_port}: {failure}"
                )
            time.sleep(0.005)
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(_SHUTDOWN_TIMEOUT)
        if thread.is_alive():  # a client kept a connection open: stop waiting for it
            server.force_exit = True
            thread.join(_SHUTDOWN_TIMEOUT)
        sock.close()
