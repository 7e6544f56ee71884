"""Request examples of the webhook operations, from the spec's ``webhooks:`` section.

The example of ``(event, version)`` is the first entry of ``examples`` of the payload schema of
the spec's webhook whose ``x-kiket-event`` / ``x-kiket-versions`` name it -- the same example
``kiket_sdk.testing.event_payload`` starts from. It is read from ``_generated/spec.json`` (the
JSON copy of ``openapi/kiket-extension-api.yaml`` that ships in the wheel) when a document is
first built, never at import.

An example is offered only when the handler's model accepts it: a handler typed with a model
of the user's own that the spec's payload does not satisfy gets no example rather than a wrong
one.

>>> request_example("issue.created", "v1", None)["event"]
'issue.created'
>>> request_example("no.such.event", "v1", None) is None
True
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from kiket_sdk._delivery.request import normalize_version

__all__ = ["request_example"]


def _resolve(spec: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    seen: set[str] = set()
    while isinstance(node.get("$ref"), str) and node["$ref"] not in seen:
        seen.add(node["$ref"])
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


@functools.cache
def _spec_examples() -> Mapping[tuple[str, str], Mapping[str, Any]]:
    text = (importlib.resources.files("kiket_sdk._generated") / "spec.json").read_text("utf-8")
    spec = json.loads(text)
    found: dict[tuple[str, str], Mapping[str, Any]] = {}
    for item in spec.get("webhooks", {}).values():
        operation = item.get("post", {})
        event = operation.get("x-kiket-event")
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if not isinstance(event, str) or not content:
            continue
        schema = _resolve(spec, content.get("schema", {}))
        examples = schema.get("examples") or [
            e["value"] for e in content.get("examples", {}).values() if "value" in e
        ]
        if examples and isinstance(examples[0], Mapping):
            for version in operation.get("x-kiket-versions", ["v1"]):
                found.setdefault((event, normalize_version(version)), examples[0])
    return found


def request_example(
    event: str, version: str, model: type[BaseModel] | None
) -> dict[str, Any] | None:
    """A copy of the spec's payload example of ``event`` at ``version`` (``"1"`` is ``"v1"``),
    or ``None`` when the spec has none or ``model`` (the handler's; ``None`` for a ``dict``
    handler) rejects it."""
    example = _spec_examples().get((event, normalize_version(version)))
    if example is None:
        return None
    if model is not None:
        try:
            model.model_validate(example)
        except ValidationError:
            return None
    return copy.deepcopy(dict(example))
