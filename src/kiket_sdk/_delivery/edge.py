"""The HTTP edge: Starlette endpoints for the webhook routes and ``/health``, in a FastAPI app.

The webhook endpoints are plain Starlette routes (no FastAPI dependency solving on the hot
path); FastAPI contributes ``/docs`` and ``/openapi.json``, and is imported only when the app
or router is built (a delivery served through the SDK's ASGI callable never imports it). The
edge settles what is about the HTTP request itself -- content type (415), size (413), a body
that does not arrive in time (408) or at all (400), duplicated proof headers (401) -- builds
one `Delivery` and hands it to the pipeline. It never sees the SDK object: it is given the
pipeline and the facts it serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from kiket_sdk._delivery import messages as msg
from kiket_sdk._delivery.answer import Answer, failure
from kiket_sdk._delivery.pipeline import DeliveryPipeline
from kiket_sdk._delivery.request import Delivery, DuplicateHeaderError

if TYPE_CHECKING:  # FastAPI is imported when its app or router is built, not for deliveries
    from fastapi import APIRouter, FastAPI

__all__ = [
    "EdgeLimits",
    "WebhookEndpoint",
    "build_app",
    "build_router",
    "build_routes",
    "webhook_route",
]

logger = logging.getLogger("kiket_sdk")

_JSON_TYPES = ("application/json", "text/json")
_MAX_LENGTH_DIGITS = 18  # a Content-Length longer than this is refused before int()


class EdgeLimits:
    """Limits of the edge: ``max_body_size`` in bytes, ``body_timeout`` in seconds (the whole
    body must arrive within it)."""

    __slots__ = ("body_timeout", "max_body_size")

    def __init__(self, max_body_size: int, body_timeout: float) -> None:
        self.max_body_size = max_body_size
        self.body_timeout = body_timeout


def _json_content_type(value: str | None) -> bool:
    if not value:
        return True  # senders that omit it still send JSON; the parser decides
    media = value.split(";", 1)[0].strip().lower()
    return media in _JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


async def _receive_body(receive: Receive, limit: int) -> bytes | Answer:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return failure(400, msg.BODY_INCOMPLETE)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return failure(413, msg.BODY_TOO_LARGE.format(limit=limit))
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _read_body(
    headers: Mapping[str, str], receive: Receive, limits: EdgeLimits
) -> bytes | Answer:
    declared = headers.get("content-length")
    if declared is not None:
        declared = declared.strip()
        if not (declared.isascii() and declared.isdigit() and len(declared) <= _MAX_LENGTH_DIGITS):
            return failure(400, msg.BAD_CONTENT_LENGTH)
        if int(declared) > limits.max_body_size:
            return failure(413, msg.BODY_TOO_LARGE.format(limit=limits.max_body_size))
    # A timer that cancels this task at the deadline (what asyncio.timeout does, at a third of
    # its cost: the body read is on every delivery's path).
    task = asyncio.current_task()
    assert task is not None
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    timer = asyncio.get_running_loop().call_later(limits.body_timeout, expire)
    try:
        return await _receive_body(receive, limits.max_body_size)
    except asyncio.CancelledError:
        if not expired:
            raise
        task.uncancel()
        return failure(408, msg.BODY_TIMEOUT.format(seconds=limits.body_timeout))
    finally:
        timer.cancel()


def webhook_route(path: str) -> tuple[str, str | None] | None:
    """``(event, path version)`` when ``path`` is a webhook route, else ``None``.

    >>> webhook_route("/v/1/webhooks/issue.created"), webhook_route("/webhooks/e")
    (('issue.created', '1'), ('e', None))
    >>> webhook_route("/health") is None
    True
    """
    if path.startswith("/webhooks/"):
        event = path[10:]
        return (event, None) if event and "/" not in event else None
    if path.startswith("/v/"):
        version, sep, rest = path[3:].partition("/webhooks/")
        if sep and version and "/" not in version and rest and "/" not in rest:
            return rest, version
    return None


_JSON_HEADER = (b"content-type", b"application/json")


async def _send(send: Send, answer: Answer) -> None:
    headers = [(b"content-length", str(len(answer.body)).encode())]
    for name, value in answer.headers.items():
        if name == "content-type" and value == "application/json":
            headers.append(_JSON_HEADER)  # the common case, encoded once
        else:
            headers.append((name.encode("latin-1"), value.encode("latin-1")))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


class WebhookEndpoint:
    """The ASGI endpoint of both webhook routes (plain ASGI: no request object, no middleware
    on the hot path). Route parameters come from Starlette's ``path_params`` when mounted as a
    route, else from the path itself (`webhook_route`)."""

    def __init__(self, pipeline: Callable[[], DeliveryPipeline], limits: EdgeLimits) -> None:
        self._pipeline = pipeline
        self._limits = limits

    @staticmethod
    def route_of(scope: Scope) -> tuple[str, str | None] | None:
        """``(event, path version)`` when ``scope`` is a request to a webhook route (the
        ``root_path`` a proxy or mount adds is not part of the route), else ``None``."""
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        return webhook_route(path[len(root) :] if root and path.startswith(root) else path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await _send(send, _method_not_allowed("POST"))
            return
        params = scope.get("path_params")
        if params and "event" in params:
            await self.serve(scope, receive, send, (params["event"], params.get("version")))
            return
        route = self.route_of(scope)
        if route is None:  # not reachable through the routes this module builds
            await _send(send, failure(404, "not found"))
            return
        await self.serve(scope, receive, send, route)

    async def serve(
        self, scope: Scope, receive: Receive, send: Send, route: tuple[str, str | None]
    ) -> None:
        """Serve a request already known to be for ``route`` (``(event, path version)``)."""
        pipeline = self._pipeline()
        try:
            answer = await self._answer(pipeline, scope, receive, *route)
        except Exception:  # a bug of ours: still a JSON 500, never a traceback to the caller
            logger.exception("unexpected error while serving a delivery")
            answer = failure(500, "internal error while serving the delivery")
        await _send(send, answer)
        await pipeline.after_answer(answer)

    async def _answer(
        self,
        pipeline: DeliveryPipeline,
        scope: Scope,
        receive: Receive,
        event: str,
        path_version: str | None,
    ) -> Answer:
        try:
            delivery = Delivery.from_wire(
                event=event,
                body=b"",
                raw_headers=scope["headers"],
                path_version=path_version,
                # the path's version wins: parse the query string only when there is none
                query_version=None
                if path_version and path_version.strip()
                else _query_version(scope),
            )
        except DuplicateHeaderError as exc:
            return failure(401, msg.DUPLICATE_HEADER.format(name=exc.name))
        content_type = delivery.headers.get("content-type")
        if content_type is not None and not _json_content_type(content_type):
            shown = msg.echo(content_type)
            return failure(415, msg.UNSUPPORTED_MEDIA.format(content_type=shown))
        body = await _read_body(delivery.headers, receive, self._limits)
        if isinstance(body, Answer):
            # The rest of the body may still come (or never): the connection cannot carry
            # another request, so it is closed rather than held open for the sender.
            body.headers["connection"] = "close"
            return body
        delivery.body = body
        return await pipeline.handle(delivery)


def _query_version(scope: Scope) -> str | None:
    query = scope.get("query_string", b"")
    if not query:
        return None
    values = parse_qs(query.decode("latin-1"), keep_blank_values=True).get("version")
    return values[0] if values else None


def _method_not_allowed(allowed: str) -> Answer:
    answer = failure(405, msg.METHOD_NOT_ALLOWED.format(allowed=allowed))
    answer.headers["allow"] = allowed
    return answer


class _HealthEndpoint:
    """``GET /health``: ``health()``'s JSON object."""

    def __init__(self, health: Callable[[], Mapping[str, Any]]) -> None:
        self._health = health

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await _send(send, _method_not_allowed("GET, HEAD"))
            return
        await JSONResponse(dict(self._health()))(scope, receive, send)


def build_routes(
    pipeline: Callable[[], DeliveryPipeline],
    limits: EdgeLimits,
    health: Callable[[], Mapping[str, Any]],
) -> list[Route]:
    """The webhook routes and ``/health`` (``health()`` gives its JSON object).

    The routes answer for themselves wherever they are mounted: they take every method and
    refuse a wrong one with 405, an ``{"error": ...}`` body and ``Allow`` (not the host's
    ``{"detail": ...}``), and each is also served with one trailing slash rather than
    redirected (a 307 would make the sender post the body again).
    """
    webhook = WebhookEndpoint(pipeline, limits)
    health_endpoint = _HealthEndpoint(health)
    routes: list[Route] = []
    for path, endpoint in (
        ("/v/{version}/webhooks/{event}", webhook),
        ("/webhooks/{event}", webhook),
        ("/health", health_endpoint),
    ):
        routes.append(Route(path, endpoint, methods=None, include_in_schema=False))
        routes.append(Route(path + "/", endpoint, methods=None, include_in_schema=False))
    return routes


Lifespan = Callable[[Any], contextlib.AbstractAsyncContextManager[None]]


def build_router(routes: Sequence[BaseRoute], lifespan: Lifespan) -> APIRouter:
    """An ``APIRouter`` holding ``routes`` (the SDK's own first: they are matched in order)
    that carries ``lifespan`` into the app including it (FastAPI >= 0.112.2 merges router
    lifespans on ``include_router``)."""
    from fastapi import APIRouter

    router = APIRouter(lifespan=lifespan)
    router.routes.extend(routes)
    return router


async def _error_body(request: Request, exc: Exception) -> Response:
    """Starlette's own HTTP errors (404 for an unknown path, ...) in the SDK's error shape."""
    status = getattr(exc, "status_code", 500)
    detail = getattr(exc, "detail", None)
    answer = failure(status, detail if isinstance(detail, str) else "request refused")
    headers = dict(getattr(exc, "headers", None) or {})
    return Response(answer.body, status, headers=headers, media_type="application/json")


def build_app(
    *,
    routes: Sequence[BaseRoute],
    title: str,
    version: str,
    lifespan: Lifespan,
) -> FastAPI:
    """The FastAPI app: ``routes``, ``lifespan``, and errors as ``{"error": ...}`` bodies."""
    from fastapi import FastAPI

    app = FastAPI(title=title, version=version, docs_url=None, redoc_url=None, lifespan=lifespan)
    app.router.routes.extend(routes)
    app.add_exception_handler(StarletteHTTPException, _error_body)
    return app
