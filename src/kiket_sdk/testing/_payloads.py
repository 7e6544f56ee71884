"""Ready-made event payloads, taken from the examples of the OpenAPI description.

``event_payload(event, version)`` deep-copies the first example of the event's payload schema
(the spec's ``webhooks`` entry whose ``x-kiket-event`` / ``x-kiket-versions`` match), gives it a
fresh ``id`` and applies overrides: ``issue__title="X"`` sets ``payload["issue"]["title"]``
(a double underscore nests), ``secrets={}`` replaces a top-level value. An event the spec does
not describe gets the generic envelope example (``external.webhook.<action>`` names get a relayed
request too). ``set_path(payload, "issue.title", "X")`` does the same with a dotted path.

>>> payload = event_payload("issue.created", issue__title="Badge reader offline")
>>> payload["event"], payload["issue"]["title"]
('issue.created', 'Badge reader offline')
>>> payload["id"] != event_payload("issue.created")["id"]
True
>>> event_payload("slack.notify", channel="#ops")["channel"]
'#ops'
"""

from __future__ import annotations

import copy
import functools
import re
import uuid
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any, TypeGuard

from kiket_sdk._json_shapes import is_list
from kiket_sdk.testing._spec import load_spec, resolve

__all__ = ["event_payload", "set_path"]

_EXTERNAL_PREFIX = "external.webhook."


def _version(version: str) -> str:
    text = version.strip()
    return f"v{text}" if re.fullmatch(r"\d+", text) else text


@functools.cache
def _examples() -> dict[tuple[str, str], Mapping[str, Any]]:
    found: dict[tuple[str, str], Mapping[str, Any]] = {}
    for key, item in load_spec().get("webhooks", {}).items():
        operation = item["post"]
        body = ("webhooks", key, "post", "requestBody", "content", "application/json", "schema")
        _, schema = resolve(body)
        for version in operation.get("x-kiket-versions", ["v1"]):
            found[(operation["x-kiket-event"], _version(version))] = schema["examples"][0]
    return found


def _component_example(name: str) -> dict[str, Any]:
    example = load_spec()["components"]["schemas"][name]["examples"][0]
    return copy.deepcopy(dict(example))


def _set(payload: MutableMapping[str, Any], parts: Sequence[str], value: Any, path: str) -> None:
    node: Any = payload
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if is_list(node) and re.fullmatch(r"-?\d+", part):
            index = int(part)
            if not -len(node) <= index < len(node):
                raise ValueError(f"cannot set {path!r}: index {index} is out of range")
            if last:
                node[index] = value
            else:
                node = node[index]
        elif _is_payload_object(node):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            where = ".".join(parts[:depth]) or "the payload"
            raise ValueError(
                f"cannot set {path!r}: {where} is a {type(node).__name__}, not an object"
            )


def set_path(payload: MutableMapping[str, Any], path: str, value: Any) -> None:
    """Set a nested value by dotted path, creating missing objects; digits index lists.

    >>> payload = {"issue": {"labels": ["a"]}}
    >>> set_path(payload, "issue.title", "X"); set_path(payload, "issue.labels.0", "b")
    >>> payload
    {'issue': {'labels': ['b'], 'title': 'X'}}
    """
    parts = path.split(".")
    if not all(parts):
        raise ValueError(f"not a dotted path: {path!r}")
    _set(payload, parts, value, path)


def event_payload(event: str, version: str = "v1", **overrides: Any) -> dict[str, Any]:
    """A fresh payload of ``event`` at ``version``: the spec's example with a new ``id``.

    Keyword overrides: ``issue__title="X"`` sets a nested key, ``project={...}`` replaces a
    top-level value. ``version`` is compared like the router does (``1`` is ``v1``).

    >>> event_payload("issue.created", "v2")["actor"]["email"]
    'sam@acme.example'
    >>> event_payload("external.webhook.sync")["action"]
    'sync'
    """
    example = _examples().get((event, _version(version)))
    if example is not None:
        payload: dict[str, Any] = copy.deepcopy(dict(example))
    elif event.startswith(_EXTERNAL_PREFIX):
        payload = _component_example("ExternalWebhookEvent")
        payload["action"] = event.removeprefix(_EXTERNAL_PREFIX)
    else:
        payload = _component_example("EventEnvelope")
    payload["id"] = f"evt_{uuid.uuid4().hex}"
    payload["event"] = event
    if "event_type" in payload:
        payload["event_type"] = event
    for key, value in overrides.items():
        parts = key.split("__")
        if not all(parts):
            raise ValueError(f"not an override name: {key!r} (use issue__title=... to nest)")
        _set(payload, parts, value, key)
    return payload


def _is_payload_object(value: object) -> TypeGuard[MutableMapping[str, Any]]:
    """``isinstance(value, MutableMapping)`` inside a JSON payload (whose keys are strings)."""
    return isinstance(value, MutableMapping)
