"""The one JSON rule: every document the inbound path reads or writes goes through here.

Reading (delivery bodies; the same rule for every handler kind, so the same bytes always get the
same status):

* UTF-8, strict RFC 8259 (no ``NaN``/``Infinity`` literals, no lone surrogates); one leading
  UTF-8 byte order mark is ignored (RFC 8259 section 8.1 allows a parser to);
* nesting deeper than the parser's limit (about 200 levels), integers longer than Python's
  4,300-digit conversion limit and floats beyond the double range (``1e400``) are refused;
* duplicate keys: the last one wins (what pydantic and ``json`` do).

Every failure is a `JSONRuleError` with a message safe to send back (answered 400).

Writing (answers): strict JSON, compact, UTF-8. ``NaN`` and ``±Infinity`` -- which JSON cannot
express -- are written as ``null``, the way pydantic and JavaScript's ``JSON.stringify`` write
them, never as the invalid literals ``NaN``/``Infinity``.

>>> parse_object(b'\\xef\\xbb\\xbf{"id": 7}')
{'id': 7}
>>> parse_object(b'{"a": NaN}')
Traceback (most recent call last):
kiket_sdk._delivery.json_codec.JSONRuleError: request body is not valid JSON
>>> dump({"ratio": float("nan"), "n": 2})
b'{"ratio":null,"n":2}'
"""

from __future__ import annotations

import math
import re
from typing import Any

import pydantic_core

from kiket_sdk._delivery import messages as msg

__all__ = ["JSONRuleError", "dump", "parse_object"]

_BOM = b"\xef\xbb\xbf"
# Only a float with a 3+ digit exponent can overflow to infinity: look for inf only then.
_BIG_EXPONENT = re.compile(rb"[0-9][eE][+-]?[0-9]{3,}")


class JSONRuleError(ValueError):
    """A document broke the JSON rule; ``str(exc)`` is safe to send back."""


def parse_object(body: bytes) -> dict[str, Any]:
    """Parse a delivery body: a JSON object under the rule in the module docstring.

    Raises `JSONRuleError` (never another exception) for anything else.

    >>> parse_object(b"[1]")
    Traceback (most recent call last):
    kiket_sdk._delivery.json_codec.JSONRuleError: request body must be a JSON object
    """
    if body[:3] == _BOM:
        body = body[3:]
    try:
        data = pydantic_core.from_json(body, allow_inf_nan=False)
    except ValueError as exc:
        text = str(exc)
        if text.startswith("recursion limit"):
            raise JSONRuleError(msg.JSON_TOO_DEEP) from None
        if text.startswith("number out of range"):
            raise JSONRuleError(msg.JSON_NUMBER_TOO_LARGE) from None
        raise JSONRuleError(msg.MALFORMED_JSON) from None
    if not isinstance(data, dict):
        raise JSONRuleError(msg.NOT_AN_OBJECT)
    if _BIG_EXPONENT.search(body) and _has_infinity(data):
        raise JSONRuleError(msg.JSON_NUMBER_TOO_LARGE)
    return data


def _has_infinity(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and math.isinf(item):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def dump(value: Any) -> bytes:
    """Serialise an answer: compact strict JSON (pydantic models by alias; non-finite floats as
    ``null``). Raises ``TypeError`` naming the type of a value that has no JSON form.

    >>> dump({"when": __import__("datetime").date(2026, 1, 2), "tags": {"a"}})
    b'{"when":"2026-01-02","tags":["a"]}'
    """
    try:
        return pydantic_core.to_json(value, by_alias=True, inf_nan_mode="null")
    except pydantic_core.PydanticSerializationError as exc:
        raise TypeError(f"the answer is not JSON serialisable: {str(exc)[:200]}") from None
