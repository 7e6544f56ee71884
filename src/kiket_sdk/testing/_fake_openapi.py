"""Requests and answers of the fake Kiket API checked against the OpenAPI description.

``match_operation`` finds the spec operation of a method and raw (percent-encoded) path;
``read_parameters`` and ``read_body`` turn the query, headers and body into checked Python values
(raising ``ProblemError`` 400/415/422 otherwise); ``response_errors`` checks an answer the fake
produced against the operation's response schema.

>>> operation, path_params = match_operation("GET", "/api/v1/extensions/com.example/secrets/A%2FB")
>>> operation.operation_id, path_params
('get_secret', {'extension_id': 'com.example', 'key': 'A/B'})
>>> read_parameters(match_operation("GET", "/api/v1/audit/anchors")[0], {}, {"page": "2"}, {})
{'page': 2, 'per_page': 25}
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from kiket_sdk.testing._fake_problem import ProblemError
from kiket_sdk.testing._spec import error_messages, load_spec, resolve, schema_validator

__all__ = [
    "Operation",
    "Parameter",
    "match_operation",
    "operations",
    "read_body",
    "read_parameters",
    "response_errors",
]

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_JSON = "application/json"
_Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Parameter:
    """One parameter of an operation; ``schema_path`` locates its schema in the spec."""

    name: str
    location: str
    required: bool
    schema_path: _Path
    json_encoded: bool
    default: Any


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the spec's ``paths``."""

    operation_id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    parameters: tuple[Parameter, ...]
    body_schema_path: _Path | None
    body_required: bool
    needs_credentials: bool

    @property
    def spec_path(self) -> _Path:
        """Where the operation sits in the spec."""
        return ("paths", self.template, self.method.lower())


def _parameter(path: _Path) -> Parameter:
    where, node = resolve(path)
    json_encoded = "schema" not in node
    schema_path = (*where, "content", _JSON, "schema") if json_encoded else (*where, "schema")
    default = None if json_encoded else node["schema"].get("default")
    return Parameter(
        node["name"], node["in"], bool(node.get("required")), schema_path, json_encoded, default
    )


def _operation(template: str, method: str, node: Mapping[str, Any]) -> Operation:
    spec = load_spec()
    path_item = spec["paths"][template]
    params: dict[tuple[str, str], Parameter] = {}
    for scope, items in (((), path_item), ((method,), node)):
        for index, _ in enumerate(items.get("parameters", ())):
            param = _parameter(("paths", template, *scope, "parameters", index))
            params[(param.location, param.name)] = param
    body_path: _Path | None = None
    body_required = False
    if "requestBody" in node:
        where, body = resolve(("paths", template, method, "requestBody"))
        body_path, body_required = (*where, "content", _JSON, "schema"), bool(body.get("required"))
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    security = node.get("security", spec.get("security", []))
    return Operation(
        operation_id=node["operationId"],
        method=method.upper(),
        template=template,
        pattern=re.compile(regex + "$"),
        parameters=tuple(params.values()),
        body_schema_path=body_path,
        body_required=body_required,
        needs_credentials=bool(security) and all(bool(item) for item in security),
    )


@functools.cache
def operations() -> tuple[Operation, ...]:
    """Every operation, templates with fewer placeholders first (literal segments win)."""
    found = [
        _operation(template, method, node)
        for template, item in load_spec()["paths"].items()
        for method, node in item.items()
        if method in _HTTP_METHODS
    ]
    return tuple(sorted(found, key=lambda op: (op.template.count("{"), op.template)))


def match_operation(method: str, raw_path: str) -> tuple[Operation, dict[str, str]] | None:
    """The operation serving ``method`` on ``raw_path`` and its decoded path parameters."""
    for operation in operations():
        found = operation.pattern.match(raw_path)
        if found and operation.method == method.upper():
            return operation, {name: unquote(value) for name, value in found.groupdict().items()}
    return None


def _candidates(raw: str) -> list[Any]:
    values: list[Any] = []
    if raw in ("true", "false"):
        values.append(raw == "true")
    for number_type in (int, float):
        with contextlib.suppress(ValueError):
            values.append(number_type(raw))
    return [*values, raw]


def _coerce(param: Parameter, raw: str) -> Any:
    validator = schema_validator(param.schema_path)
    label = f"{param.location} parameter {param.name!r}"
    if param.json_encoded:
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise ProblemError(400, f"The {label} must be JSON-encoded: {exc}.") from None
        errors = error_messages(validator, value)
        if errors:
            raise ProblemError(400, f"The {label} is invalid: {'; '.join(errors)}.")
        return value
    for candidate in _candidates(raw):
        if validator.is_valid(candidate):
            return candidate
    errors = error_messages(validator, raw)
    raise ProblemError(400, f"The {label} is invalid ({raw!r}): {'; '.join(errors)}.")


def read_parameters(
    operation: Operation,
    path_params: Mapping[str, str],
    query: Mapping[str, str],
    headers: Mapping[str, str],
) -> dict[str, Any]:
    """Path, query and header parameters, typed by their schemas and with defaults filled in.

    Header names in ``headers`` must be lower-case. Unknown query parameters are ignored.
    """
    sources = {"path": path_params, "query": query, "header": headers}
    values: dict[str, Any] = {}
    for param in operation.parameters:
        source = sources.get(param.location, {})
        key = param.name.lower() if param.location == "header" else param.name
        if key in source:
            values[param.name] = _coerce(param, source[key])
        elif param.required:
            raise ProblemError(
                400,
                f"Missing required {param.location} parameter {param.name!r} for "
                f"{operation.method} {operation.template}.",
            )
        elif param.default is not None:
            values[param.name] = param.default
    return values


def read_body(operation: Operation, headers: Mapping[str, str], body: bytes) -> Any:
    """The JSON body, checked against the operation's request schema (``None`` if it has none)."""
    if operation.body_schema_path is None:
        return None
    if not body.strip():
        if operation.body_required:
            raise ProblemError(422, f"{operation.method} {operation.template} needs a JSON body.")
        return None
    content_type = headers.get("content-type", "")
    if "json" not in content_type.lower():
        raise ProblemError(
            415, f"Send the body as JSON (Content-Type: application/json), not {content_type!r}."
        )
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise ProblemError(400, f"The request body is not valid JSON: {exc}.") from None
    errors = error_messages(schema_validator(operation.body_schema_path), value)
    if errors:
        detail = f"The request body does not match the {operation.operation_id} schema: "
        raise ProblemError(422, detail + "; ".join(errors) + ".", extra={"errors": errors})
    return value


def response_errors(operation: Operation, status: int, content_type: str, body: bytes) -> list[str]:
    """Why an answer does not match the spec (an empty list when it does)."""
    responses = load_spec()["paths"][operation.template][operation.method.lower()]["responses"]
    key = next((k for k in (str(status), f"{status // 100}XX", "default") if k in responses), None)
    if key is None:
        return [f"status {status} is not a documented answer of {operation.operation_id}"]
    where, response = resolve((*operation.spec_path, "responses", key))
    content: Mapping[str, Any] = response.get("content") or {}
    if not content:
        return [] if not body else [f"status {status} of {operation.operation_id} has no body"]
    media_type = content_type.split(";")[0].strip()
    if media_type not in content:
        return [f"content type {media_type!r} is not documented for status {status}"]
    try:
        value = json.loads(body)
    except ValueError as exc:
        return [f"the body is not JSON: {exc}"]
    return error_messages(schema_validator((*where, "content", media_type, "schema")), value)
