"""Shape tests for JSON-like data read at run time, as `TypeGuard` predicates.

``isinstance(value, dict)`` tells the runtime what ``value`` is, but leaves the type checker
with ``dict[Unknown, Unknown]``: the item types of a parsed document or of a user's return
value are not known statically. Each predicate here makes the same ``isinstance`` test and
states what it proves in types a strict checker accepts (items as ``object``, to be narrowed
again before use). ``is_json_object`` is for parsed JSON only: there, keys are always strings.

Example:

```python
import json
from kiket_sdk._json_shapes import is_array, is_json_object

document: object = json.loads('{"keys": [{"kid": "k1"}]}')
if is_json_object(document) and is_array(document["keys"]):
    assert [key for key in document["keys"] if is_json_object(key)][0]["kid"] == "k1"
```
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, TypeGuard

__all__ = [
    "is_array",
    "is_collection",
    "is_dict",
    "is_json_object",
    "is_list",
    "is_mapping",
    "json_kind",
]


def is_mapping(value: object) -> TypeGuard[Mapping[object, object]]:
    """``isinstance(value, Mapping)``."""
    return isinstance(value, Mapping)


def is_dict(value: object) -> TypeGuard[dict[object, object]]:
    """``isinstance(value, dict)``."""
    return isinstance(value, dict)


def is_json_object(value: object) -> TypeGuard[dict[str, object]]:
    """``isinstance(value, dict)``, for a value parsed from JSON (whose keys are strings)."""
    return isinstance(value, dict)


def is_list(value: object) -> TypeGuard[list[object]]:
    """``isinstance(value, list)``."""
    return isinstance(value, list)


def is_array(value: object) -> TypeGuard[list[object] | tuple[object, ...]]:
    """``isinstance(value, list | tuple)``: what a JSON array is read as or written from."""
    return isinstance(value, list | tuple)


def is_collection(
    value: object, kinds: tuple[type[Collection[Any]], ...]
) -> TypeGuard[Collection[object]]:
    """``isinstance(value, kinds)`` for collection types (``(set, frozenset, tuple)``)."""
    return isinstance(value, kinds)


def json_kind(value: object) -> str:
    """What ``value`` is in JSON's words, for messages read by people who sent JSON:
    ``null``, ``boolean``, ``number``, ``text``, ``array``, ``object`` (else the Python type).

    >>> [json_kind(v) for v in (None, True, 3, 2.5, "x", [1], {"a": 1})]
    ['null', 'boolean', 'number', 'number', 'text', 'array', 'object']
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__
