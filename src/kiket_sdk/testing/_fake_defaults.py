"""What ``FakeKiket`` answers for an operation that has no stateful route: the spec's own example.

The answer is the operation's one documented 2xx status with, as body, the example of that
response (``example``, else the first of ``examples``), else a minimal instance built from its
schema (required properties only; the first ``const``/``enum``/``default``/``examples`` value of a
field, else ``""``, ``0``, ``False``, ``[]``, ``{}``). A response without content answers no body.
So an operation added to the spec answers something valid at once, with no route written.

>>> from kiket_sdk.testing._fake_openapi import match_operation
>>> default_answer(match_operation("GET", "/api/v1/ext/rate_limit")[0])
(200, {'rate_limit': {'limit': 600, 'remaining': 587, 'window_seconds': 60, 'reset_in': 41}})
>>> instance_of({"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}})
{'id': 0}
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kiket_sdk._json_shapes import is_list
from kiket_sdk.testing._fake_openapi import Operation
from kiket_sdk.testing._spec import is_spec_object, load_spec, resolve

__all__ = ["default_answer", "instance_of"]

_EMPTY: dict[str, Any] = {
    "string": "",
    "integer": 0,
    "number": 0,
    "boolean": False,
    "array": [],
    "object": {},
    "null": None,
}


def default_answer(operation: Operation) -> tuple[int, Any]:
    """``(status, body)`` for ``operation`` from its documented success response.

    Raises ``LookupError`` when the spec documents no 2xx answer for it.
    """
    responses = load_spec()["paths"][operation.template][operation.method.lower()]["responses"]
    success = sorted(code for code in responses if str(code).startswith("2"))
    if not success:
        raise LookupError(f"{operation.operation_id} documents no 2xx answer in the spec")
    _, response = resolve((*operation.spec_path, "responses", success[0]))
    status = int(str(success[0]).replace("XX", "00"))
    content: Mapping[str, Any] = response.get("content") or {}
    media: Mapping[str, Any] | None = content.get("application/json")
    if media is None:
        return status, None
    if "example" in media:
        return status, copy.deepcopy(media["example"])
    examples: Mapping[str, Any] = media.get("examples") or {}
    if examples:
        first: object = next(iter(examples.values()))
        return status, copy.deepcopy(first.get("value") if is_spec_object(first) else first)
    return status, instance_of(media.get("schema", {}))


def _dereference(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while isinstance(schema.get("$ref"), str):
        node: Any = load_spec()
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        schema = node
    return schema


def instance_of(schema: Mapping[str, Any]) -> Any:
    """A small value valid against ``schema`` (``$ref`` s into the spec are followed)."""
    schema = _dereference(schema)
    for key in ("const", "default"):
        if key in schema:
            return copy.deepcopy(schema[key])
    for key in ("enum", "examples"):
        if schema.get(key):
            return copy.deepcopy(schema[key][0])
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return instance_of(schema[key][0])
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = instance_of(part)
            if isinstance(value, dict):
                merged |= value
        return merged | _object_instance(schema)
    kind: object = schema.get("type")
    if is_list(kind):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        return _object_instance(schema)
    if kind == "array" and schema.get("minItems"):
        return [instance_of(schema.get("items", {}))] * int(schema["minItems"])
    if kind in ("integer", "number") and "minimum" in schema:
        return schema["minimum"]
    if kind == "string" and schema.get("minLength"):
        return "x" * int(schema["minLength"])
    return copy.deepcopy(_EMPTY.get(str(kind), {}))


def _object_instance(schema: Mapping[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties", {})
    return {name: instance_of(properties.get(name, {})) for name in schema.get("required", [])}
