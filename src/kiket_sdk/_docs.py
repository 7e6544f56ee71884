"""``/docs`` and ``/openapi.json`` for the registered webhooks, with no internet needed.

Every registered (event, version) appears as its own operation, ``POST /v/{version}/webhooks/
{event}``, with its payload schema and answer schema. Swagger UI's assets are served from the
``fastapi-offline`` package, so the page renders on an air-gapped machine.
"""

from __future__ import annotations

import importlib.resources
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, get_type_hints

from fastapi import Body, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import HTMLResponse

from kiket_sdk._delivery.handlers import HandlerSpec
from kiket_sdk._generated.catalogue import payload_model
from kiket_sdk._generated.models import Allow, Deny, InboundError, Pending

__all__ = ["documented_route", "install_docs", "webhook_operations"]

STATIC_PATH = "/_kiket/static"
_ERRORS = {
    "400": "Malformed JSON, a non-object body or no version",
    "401": "Proof of origin failed (HMAC signature or runtime token)",
    "403": "The runtime token lacks a required scope",
    "404": "No handler for this event and version",
    "413": "Body over the size limit",
    "415": "Not a JSON content type",
    "422": "The payload does not match the event's schema",
    "500": "The handler raised",
}


def _answer_model(spec: HandlerSpec) -> type[BaseModel] | None:
    try:
        hint = get_type_hints(spec.func).get("return")
    except Exception:
        return None
    return hint if isinstance(hint, type) and issubclass(hint, BaseModel) else None


def webhook_operations(handlers: Iterable[HandlerSpec]) -> dict[str, Any]:
    """The OpenAPI ``paths`` and ``components`` documenting ``handlers``."""
    specs = sorted(handlers, key=lambda s: (s.event, s.version))
    models: dict[str, type[BaseModel]] = {
        m.__name__: m for m in (Allow, Deny, Pending, InboundError)
    }
    for spec in specs:
        for model in (spec.model or payload_model(spec.event, spec.version), _answer_model(spec)):
            if model is not None:
                models[model.__name__] = model
    _, schemas = models_json_schema(
        [(m, "validation") for m in models.values()], ref_template="#/components/schemas/{model}"
    )
    paths: dict[str, Any] = {}
    for spec in specs:
        paths[f"/v/{spec.version}/webhooks/{spec.event}"] = {"post": _operation(spec)}
    return {"paths": paths, "components": {"schemas": schemas.get("$defs", {})}}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(spec: HandlerSpec) -> dict[str, Any]:
    payload = spec.model or payload_model(spec.event, spec.version)
    answer = _answer_model(spec)
    answer_schema = (
        _ref(answer)
        if answer
        else {"anyOf": [_ref(Allow), _ref(Deny), _ref(Pending), {"type": "object"}]}
    )
    doc = (spec.func.__doc__ or "").strip()
    responses: dict[str, Any] = {
        "200": {
            "description": "The handler's answer",
            "content": {"application/json": {"schema": answer_schema}},
        }
    }
    for status, text in _ERRORS.items():
        responses[status] = {
            "description": text,
            "content": {"application/json": {"schema": _ref(InboundError)}},
        }
    operation: dict[str, Any] = {
        "tags": ["webhooks"],
        "summary": f"{spec.event} ({spec.version})",
        "description": doc or f"Handled by `{spec.name}`.",
        "operationId": "webhook_" + re.sub(r"\W+", "_", f"{spec.event}_{spec.version}"),
        "parameters": [
            {"name": n, "in": "header", "required": False, "schema": {"type": "string"}}
            for n in ("X-Kiket-Signature", "X-Kiket-Timestamp")
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": _ref(payload) if payload else {"type": "object"},
                }
            },
        },
        "responses": responses,
    }
    if spec.required_scopes:
        operation["x-kiket-required-scopes"] = list(spec.required_scopes)
    return operation


def documented_route(spec: HandlerSpec) -> APIRoute:
    """A FastAPI route that only documents ``spec`` in a host app's ``/openapi.json``.

    The SDK's own routes serve the deliveries (they come first in ``sdk.router``, so this route
    is never reached); this one exists because FastAPI documents only its own ``APIRoute``s.
    Its operation is `webhook_operations`' (the one description of a webhook); the body and
    answer models are declared on the endpoint so that FastAPI puts their schemas into the
    host document's components.
    """
    payload = spec.model or payload_model(spec.event, spec.version)
    answer = _answer_model(spec)

    async def document_only(**_: Any) -> None:  # pragma: no cover - never routed to
        raise RuntimeError("documentation route")

    body_type: Any = payload if payload is not None else dict[str, Any]
    document_only.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "payload", inspect.Parameter.KEYWORD_ONLY, annotation=body_type, default=Body()
            )
        ]
    )
    operation = _operation(spec)
    return APIRoute(
        f"/v/{spec.version}/webhooks/{spec.event}",
        document_only,
        methods=["POST"],
        response_model=answer if answer is not None else Allow | Deny | Pending | dict[str, Any],
        responses={
            int(status): {"model": InboundError, "description": text}
            for status, text in _ERRORS.items()
        },
        tags=operation["tags"],
        summary=operation["summary"],
        description=operation["description"],
        operation_id=operation["operationId"],
        openapi_extra={
            key: operation[key]
            for key in ("parameters", "x-kiket-required-scopes")
            if key in operation
        },
    )


def install_docs(
    app: FastAPI, handlers: Callable[[], Mapping[tuple[str, str], HandlerSpec]]
) -> None:
    """Make ``app``'s OpenAPI document include the webhooks and serve ``/docs`` offline."""
    base_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        document = dict(base_openapi())
        extra = webhook_operations(handlers().values())
        document["paths"] = {**document.get("paths", {}), **extra["paths"]}
        components = dict(document.get("components", {}))
        components["schemas"] = {**components.get("schemas", {}), **extra["components"]["schemas"]}
        document["components"] = components
        return document

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
