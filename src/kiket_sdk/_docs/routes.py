"""The documentation routes: one FastAPI ``APIRoute`` per documented webhook operation, from
which FastAPI writes both the SDK's own ``/openapi.json`` and a host app's (after
``app.include_router(sdk.router)``), so the two documents follow the same rules.

For the registered handlers, `documentation_routes` gives, sorted by event and version:

- ``POST /v/{version}/webhooks/{event}`` for each handler (`documented_route`): its payload
  model as the body, with the spec's example; its answer model; every error answer;
- ``POST /webhooks/{event}`` for each event (`documented_unversioned_route`): the version from
  the ``X-Kiket-Event-Version`` header, else ``?version=``, documented as two parameters; the
  body is any of the registered versions' payloads.

Each operation carries ``security`` (`kiket_sdk._docs.security`), a unique operation id
(`kiket_sdk._docs.operation_ids`), ``x-kiket-required-scopes`` and the scopes in its
description. The event name is percent-encoded in the path (``café.x`` ->
``caf%C3%A9.x``), as a client sends it. Component names are FastAPI's (pydantic's): a model of
the user's named like a generated one gets a module-qualified name, and every ``$ref`` is
FastAPI's own, so each resolves.

The routes only document: the SDK's own routes come first in ``sdk.router`` and serve every
delivery, so FastAPI never calls these endpoints.

>>> from kiket_sdk._delivery.handlers import inspect_handler
>>> def on_issue(event: dict, ctx): ...
>>> route = documented_route(inspect_handler("issue.created", "v1", on_issue, ()))
>>> route.path, route.operation_id
('/v/v1/webhooks/issue.created', 'webhook_issue_created_v1')
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterable, Sequence
from itertools import groupby
from typing import Any

from fastapi import Body
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from kiket_sdk._delivery.handlers import HandlerSpec
from kiket_sdk._delivery.request import webhook_path
from kiket_sdk._docs.answers import (
    DUPLICATE_HEADERS,
    ERROR_ANSWERS,
    RETRY_AFTER_HEADERS,
    answer_type,
    documentable,
)
from kiket_sdk._docs.examples import request_example
from kiket_sdk._docs.operation_ids import operation_id
from kiket_sdk._docs.security import PROOF_DEPENDENCIES, proof_requirements
from kiket_sdk._generated.catalogue import payload_model
from kiket_sdk._generated.models import InboundError

__all__ = [
    "TAG",
    "DocumentationRoute",
    "documentation_routes",
    "documented_route",
    "documented_unversioned_route",
    "replace_documentation_routes",
]

TAG = "webhooks"
_VERSION_SOURCES = (
    "The version comes from the `X-Kiket-Event-Version` header, else from `?version=` "
    "(`1` and `v1` are the same; blanks around it are ignored); with neither the answer is 400."
)


class DocumentationRoute(APIRoute):
    """An ``APIRoute`` that only documents a webhook operation (never routed to)."""


def _payload_type(spec: HandlerSpec) -> Any:
    model = spec.model or payload_model(spec.event, spec.version)
    if model is not None and documentable(model, "validation"):
        return model
    return dict[str, Any]


def _union(types: Sequence[Any]) -> Any:
    unique = list(dict.fromkeys(types))
    return unique[0] if len(unique) == 1 else typing.Union[tuple(unique)]  # noqa: UP007


def _scopes_text(scopes: Sequence[str]) -> str:
    if not scopes:
        return "Required scopes: none."
    listed = ", ".join(f"`{scope}`" for scope in scopes)
    return (
        f"Required scopes: {listed}. The delivery's scopes must include them (`*` grants "
        "every scope; in runtime-token mode they come from the token alone), else the answer "
        "is 403."
    )


def _handler_text(spec: HandlerSpec) -> str:
    doc = inspect.cleandoc(spec.func.__doc__ or "") or f"Handled by `{spec.name}`."
    return f"{doc}\n\n{_scopes_text(spec.required_scopes)}"


def _examples(specs: Sequence[HandlerSpec]) -> dict[str, Any]:
    examples: dict[str, Any] = {}
    for spec in specs:
        model = spec.model or payload_model(spec.event, spec.version)
        example = request_example(spec.event, spec.version, model)
        if example is not None:
            examples[spec.version] = {
                "summary": f"{spec.event} at {spec.version} (the spec's example)",
                "value": example,
            }
    return examples


def _responses() -> dict[int | str, dict[str, Any]]:
    responses: dict[int | str, dict[str, Any]] = {200: {"headers": DUPLICATE_HEADERS}}
    for answer in ERROR_ANSWERS:
        entry: dict[str, Any] = {"model": InboundError, "description": answer.description}
        if answer.retry_after:
            entry["headers"] = RETRY_AFTER_HEADERS
        responses[answer.status] = entry
    return responses


def _route(
    path: str,
    specs: Sequence[HandlerSpec],
    *,
    summary: str,
    description: str,
    operation: str,
    extra: dict[str, Any],
) -> DocumentationRoute:
    async def document_only(**_: Any) -> None:  # pragma: no cover - never routed to
        raise RuntimeError("documentation route")

    document_only.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "payload",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=_union([_payload_type(s) for s in specs]),
                default=Body(),
            )
        ]
    )
    openapi_extra: dict[str, Any] = {"security": proof_requirements(), **extra}
    examples = _examples(specs)
    if examples:
        openapi_extra["requestBody"] = {"content": {"application/json": {"examples": examples}}}
    return DocumentationRoute(
        path,
        document_only,
        methods=["POST"],
        name=operation,
        response_model=_union([answer_type(s) for s in specs]),
        response_description='The handler\'s answer (no answer: `{"ok": true}`)',
        responses=_responses(),
        dependencies=PROOF_DEPENDENCIES,
        tags=[TAG],
        summary=summary,
        description=description,
        operation_id=operation,
        openapi_extra=openapi_extra,
    )


def documented_route(spec: HandlerSpec) -> DocumentationRoute:
    """The documentation of ``POST /v/{version}/webhooks/{event}`` for ``spec``."""
    extra: dict[str, Any] = {}
    if spec.required_scopes:
        extra["x-kiket-required-scopes"] = list(spec.required_scopes)
    return _route(
        webhook_path(spec.event, spec.version),
        [spec],
        summary=f"{spec.event} ({spec.version})",
        description=_handler_text(spec),
        operation=operation_id(spec.event, spec.version),
        extra=extra,
    )


def documented_unversioned_route(specs: Sequence[HandlerSpec]) -> DocumentationRoute:
    """The documentation of ``POST /webhooks/{event}`` for ``specs``, the handlers of one event
    (one per version, at least one); raises ``ValueError`` for none or several events."""
    events = {spec.event for spec in specs}
    if len(events) != 1:
        raise ValueError(f"the handlers of exactly one event, not {sorted(events)}")
    event = specs[0].event
    versions = [spec.version for spec in specs]
    listed = ", ".join(f"`{v}`" for v in versions)
    version_schema = {"type": "string", "examples": versions}
    parameters = [
        {
            "name": "X-Kiket-Event-Version",
            "in": "header",
            "required": False,
            "description": f"The event's schema version: {listed}. Wins over `?version=`.",
            "schema": version_schema,
        },
        {
            "name": "version",
            "in": "query",
            "required": False,
            "description": f"The event's schema version when no header names it: {listed}.",
            "schema": version_schema,
        },
    ]
    extra: dict[str, Any] = {"parameters": parameters}
    scope_sets = {spec.required_scopes for spec in specs}
    if len(scope_sets) == 1 and specs[0].required_scopes:
        extra["x-kiket-required-scopes"] = list(specs[0].required_scopes)
    handlers = "\n".join(
        f"- `{spec.version}`: {_handler_text(spec).replace(chr(10) * 2, ' ')}" for spec in specs
    )
    return _route(
        webhook_path(event),
        specs,
        summary=f"{event} (version from header or query)",
        description=f"{_VERSION_SOURCES}\n\n{handlers}",
        operation=operation_id(event, None),
        extra=extra,
    )


def documentation_routes(handlers: Iterable[HandlerSpec]) -> list[DocumentationRoute]:
    """Every documentation route of ``handlers``: each handler's versioned route, then each
    event's unversioned one, in (event, version) order."""
    specs = sorted(handlers, key=lambda s: (s.event, s.version))
    routes = [documented_route(spec) for spec in specs]
    for _, group in groupby(specs, key=lambda s: s.event):
        routes.append(documented_unversioned_route(list(group)))
    return routes


def replace_documentation_routes(routes: list[BaseRoute], handlers: Iterable[HandlerSpec]) -> None:
    """Replace, in place, the documentation routes in ``routes`` (a router's) by those of
    ``handlers``; every other route keeps its place."""
    kept = [route for route in routes if not isinstance(route, DocumentationRoute)]
    routes[:] = [*kept, *documentation_routes(handlers)]
