"""The HTTP edge: Starlette endpoints for the webhook routes and ``/health``, in a FastAPI app.

The webhook endpoints are plain Starlette routes (no FastAPI dependency solving on the hot
path); FastAPI contributes ``/docs`` and ``/openapi.json``. The edge settles what is about the
HTTP request itself -- content type (415), size (413), a body that does not arrive in time
(408) or at all (400), duplicated proof headers (401) -- builds one `Delivery` and hands it to
the pipeline. It never sees the SDK object: it is given the pipeline and the facts it serves.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kiket_sdk._delivery import messages as msg
from kiket_sdk._delivery.answer import error_body
from kiket_sdk._delivery.pipeline import DeliveryPipeline
from kiket_sdk._delivery.request import Delivery, DuplicateHeaderError

__all__ = ["EdgeLimits", "build_app", "build_router", "build_routes"]

_JSON_TYPES = ("application/json", "text/json")
_MAX_LENGTH_DIGITS = 18  # a Content-Length longer than this is refused before int()


class EdgeLimits:
    """Limits of the edge: ``max_body_size`` in bytes, ``body_timeout`` in seconds (the whole
    body must arrive within it)."""

    __slots__ = ("body_timeout", "max_body_size")

    def __init__(self, max_body_size: int, body_timeout: float) -> None:
        self.max_body_size = max_body_size
        self.body_timeout = body_timeout


def _error(status: int, message: str) -> Response:
    return Response(error_body(message), status_code=status, media_type="application/json")


def _json_content_type(value: str | None) -> bool:
    if not value:
        return True  # senders that omit it still send JSON; the parser decides
    media = value.split(";", 1)[0].strip().lower()
    return media in _JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


async def _receive_body(request: Request, limit: int) -> bytes | Response:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] != "http.request":
            return _error(400, msg.BODY_INCOMPLETE)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return _error(413, msg.BODY_TOO_LARGE.format(limit=limit))
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _read_body(request: Request, limits: EdgeLimits) -> bytes | Response:
    declared = request.headers.get("content-length")
    if declared is not None:
        declared = declared.strip()
        if not (declared.isascii() and declared.isdigit() and len(declared) <= _MAX_LENGTH_DIGITS):
            return _error(400, msg.BAD_CONTENT_LENGTH)
        if int(declared) > limits.max_body_size:
            return _error(413, msg.BODY_TOO_LARGE.format(limit=limits.max_body_size))
    try:
        async with asyncio.timeout(limits.body_timeout):
            return await _receive_body(request, limits.max_body_size)
    except TimeoutError:
        return _error(408, msg.BODY_TIMEOUT.format(seconds=limits.body_timeout))


def _webhook_endpoint(
    pipeline: Callable[[], DeliveryPipeline], limits: EdgeLimits
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        content_type = request.headers.get("content-type")
        if not _json_content_type(content_type):
            return _error(
                415, msg.UNSUPPORTED_MEDIA.format(content_type=msg.echo(content_type or ""))
            )
        body = await _read_body(request, limits)
        if isinstance(body, Response):
            return body
        params = request.path_params
        path_version = params.get("version")
        try:
            delivery = Delivery.from_wire(
                event=params["event"],
                body=body,
                raw_headers=request.scope["headers"],
                path_version=path_version,
                # the path's version wins: parse the query string only when there is none
                query_version=(
                    None
                    if path_version and path_version.strip()
                    else request.query_params.get("version")
                ),
            )
        except DuplicateHeaderError as exc:
            return _error(401, msg.DUPLICATE_HEADER.format(name=exc.name))
        answer = await pipeline().handle(delivery)
        return Response(answer.body, status_code=answer.status, headers=answer.headers)

    return endpoint


def build_routes(
    pipeline: Callable[[], DeliveryPipeline],
    limits: EdgeLimits,
    health: Callable[[], Mapping[str, Any]],
) -> list[Route]:
    """The webhook routes and ``/health`` (``health()`` gives its JSON object)."""
    webhook = _webhook_endpoint(pipeline, limits)

    async def health_endpoint(request: Request) -> JSONResponse:
        return JSONResponse(dict(health()))

    return [
        Route("/v/{version}/webhooks/{event}", webhook, methods=["POST"], include_in_schema=False),
        Route("/webhooks/{event}", webhook, methods=["POST"], include_in_schema=False),
        Route("/health", health_endpoint, methods=["GET"], include_in_schema=False),
    ]


def build_router(routes: list[Route]) -> APIRouter:
    """An ``APIRouter`` holding ``routes``."""
    router = APIRouter()
    router.routes.extend(routes)
    return router


def build_app(
    *,
    routes: list[Route],
    title: str,
    version: str,
    on_shutdown: Callable[[], Awaitable[None]],
) -> FastAPI:
    """The FastAPI app: ``routes`` and a lifespan that calls ``on_shutdown`` at the end."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await on_shutdown()

    app = FastAPI(title=title, version=version, docs_url=None, redoc_url=None, lifespan=lifespan)
    app.router.routes.extend(routes)
    return app
