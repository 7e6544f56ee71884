"""The HTTP edge: Starlette endpoints for the webhook routes and ``/health``, in a FastAPI app.

The webhook endpoints are plain Starlette routes (no FastAPI dependency solving on the hot path);
FastAPI contributes ``/docs`` and ``/openapi.json``, where each registered handler is documented.
Body size, content type and reading errors are settled here; everything else is the dispatcher's.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kiket_sdk import _messages as msg
from kiket_sdk._dispatch import InboundRequest, error_body
from kiket_sdk._docs import install_docs
from kiket_sdk._version import __version__

if TYPE_CHECKING:
    from kiket_sdk._app import KiketSDK

__all__ = ["build_app", "build_router"]

_JSON_TYPES = ("application/json", "text/json")


def _error(status: int, message: str) -> Response:
    return Response(error_body(message), status_code=status, media_type="application/json")


def _json_content_type(value: str | None) -> bool:
    if not value:
        return True  # senders that omit it still send JSON; the parser decides
    media = value.split(";", 1)[0].strip().lower()
    return media in _JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


async def _read_body(request: Request, limit: int) -> bytes | Response:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.strip().isdigit() and declared.isascii()):
            return _error(400, "invalid Content-Length header")
        if int(declared) > limit:
            return _error(413, msg.BODY_TOO_LARGE.format(limit=limit))
    # Straight from the ASGI receive channel (no stream generator on the hot path).
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] != "http.request":
            return _error(400, "client disconnected before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return _error(413, msg.BODY_TOO_LARGE.format(limit=limit))
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _webhook_endpoint(sdk: KiketSDK) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if not _json_content_type(request.headers.get("content-type")):
            content_type = request.headers.get("content-type", "")[:100]
            return _error(415, msg.UNSUPPORTED_MEDIA.format(content_type=content_type))
        body = await _read_body(request, sdk.max_body_size)
        if isinstance(body, Response):
            return body
        params = request.path_params
        path_version = params.get("version")
        answer = await sdk.runtime.handle(
            InboundRequest(
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
        )
        return Response(answer.body, status_code=answer.status, headers=answer.headers)

    return endpoint


def _routes(sdk: KiketSDK) -> list[Route]:
    webhook = _webhook_endpoint(sdk)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok",
                "extension_id": sdk.extension_id,
                "extension_version": sdk.extension_version,
                "sdk_version": __version__,
                "registered_events": sdk.registered_events,
            }
        )

    return [
        Route("/v/{version}/webhooks/{event}", webhook, methods=["POST"], include_in_schema=False),
        Route("/webhooks/{event}", webhook, methods=["POST"], include_in_schema=False),
        Route("/health", health, methods=["GET"], include_in_schema=False),
    ]


def build_router(sdk: KiketSDK) -> APIRouter:
    """An ``APIRouter`` holding the webhook routes and ``/health``."""
    router = APIRouter()
    router.routes.extend(_routes(sdk))
    return router


def build_app(sdk: KiketSDK) -> FastAPI:
    """The FastAPI app: routes, offline docs, and a lifespan that shuts down gracefully."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await sdk.aclose()

    app = FastAPI(
        title=sdk.title,
        version=sdk.extension_version or "0.0.0",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.router.routes.extend(_routes(sdk))
    install_docs(app, lambda: sdk.handlers)
    return app
