"""``/openapi.json`` and ``/docs`` of the SDK's own app, with no internet needed.

`install_docs` makes the app's OpenAPI document `webhook_document` of the registered handlers
(rebuilt when they change) and serves Swagger UI at ``/docs`` from the assets of the
``fastapi-offline`` package, so the page renders on an air-gapped machine.

>>> document = webhook_document([], title="Kiket extension", version="1.0.0")
>>> document["openapi"], document["servers"], document["paths"]
('3.1.0', [{'url': '/'}], {})
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute

from kiket_sdk._delivery.handlers import HandlerSpec
from kiket_sdk._docs.routes import TAG, documentation_routes
from kiket_sdk._docs.security import PROOF_MODES

__all__ = ["STATIC_PATH", "install_docs", "webhook_document"]

STATIC_PATH = "/_kiket/static"
_TAGS = [
    {
        "name": TAG,
        "description": "Deliveries from Kiket, one operation per registered event and version "
        "and one per event with the version in a header or the query. " + PROOF_MODES,
    }
]


def webhook_document(
    handlers: Iterable[HandlerSpec],
    *,
    title: str,
    version: str,
    servers: Sequence[Mapping[str, Any]] | None = None,
    routes: Sequence[BaseRoute] = (),
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``handlers`` (and of any documented ``routes`` besides):
    the operations of `kiket_sdk._docs.routes`, their schemas and security schemes.

    ``servers`` defaults to ``[{"url": "/"}]`` (the document's own origin).
    """
    return get_openapi(
        title=title,
        version=version,
        routes=[*routes, *documentation_routes(handlers)],
        servers=[dict(s) for s in servers] if servers else [{"url": "/"}],
        tags=_TAGS,
    )


def install_docs(
    app: FastAPI, handlers: Callable[[], Mapping[tuple[str, str], HandlerSpec]]
) -> None:
    """Make ``app``'s ``/openapi.json`` the `webhook_document` of ``handlers()`` (rebuilt when
    the registered handlers change) and serve ``/docs`` offline."""
    built: list[tuple[tuple[tuple[str, str, int], ...], dict[str, Any]]] = []

    def openapi() -> dict[str, Any]:
        current = handlers()
        key = tuple((e, v, id(spec)) for (e, v), spec in sorted(current.items()))
        if not built or built[0][0] != key:
            document = webhook_document(
                current.values(),
                title=app.title,
                version=app.version,
                servers=app.servers,
                routes=app.routes,
            )
            built[:] = [(key, document)]
        return built[0][1]

    app.openapi = openapi  # type: ignore[method-assign]
    static = importlib.resources.files("fastapi_offline") / "static"
    app.mount(STATIC_PATH, StaticFiles(directory=str(static)), name="kiket-docs-static")

    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - webhooks",
            swagger_js_url=f"{root}{STATIC_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_PATH}/favicon.png",
        )

    app.add_route("/docs", docs, include_in_schema=False)
