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

import dataclasses
import math
from typing import Any

import pydantic_core
from pydantic import BaseModel

from kiket_sdk._delivery import messages as msg
from kiket_sdk._json_shapes import is_array, is_collection, is_dict, is_json_object

__all__ = ["JSONRuleError", "check_plain", "dump", "parse_object"]

_BOM = b"\xef\xbb\xbf"
# Only a number with a 3+ digit exponent or 309+ digits can overflow a double to infinity:
# the parsed document is searched for infinities only when the body holds one. The body's
# "number shape" (every digit -> 0, E -> e, + -> -) makes that a few substring searches, which
# run in C at memchr speed (a regular expression costs more than parsing the body).
_NUMBER_SHAPE = bytes.maketrans(b"123456789E+", b"000000000e-")
_MANY_DIGITS = b"0" * 309
# Integers longer than this many bits are checked against Python's int conversion limit (4,300
# decimal digits): an answer holds no number that `parse_object` could not read back.
_MAX_INT_BITS = 14_000


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
    if not is_json_object(data):
        raise JSONRuleError(msg.NOT_AN_OBJECT)
    if _may_overflow(body) and _has_infinity(data):
        raise JSONRuleError(msg.JSON_NUMBER_TOO_LARGE)
    return data


def _may_overflow(body: bytes) -> bool:
    shape = body.translate(_NUMBER_SHAPE)
    return b"0e000" in shape or b"0e-000" in shape or _MANY_DIGITS in shape


def _has_infinity(value: object) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and math.isinf(item):
            return True
        if is_dict(item):
            stack.extend(item.values())
        elif is_array(item):
            stack.extend(item)
    return False


def dump(value: Any) -> bytes:
    """Serialise an answer: compact strict JSON (pydantic models by alias; non-finite floats as
    ``null``). Raises ``TypeError`` for a value with no JSON form, for two keys of one object
    that are written alike (``{1: .., "1": ..}``) and for an integer too large to read back.

    >>> dump({"when": __import__("datetime").date(2026, 1, 2), "tags": {"a"}})
    b'{"when":"2026-01-02","tags":["a"]}'
    >>> dump({1: "a", "1": "b"})
    Traceback (most recent call last):
    TypeError: the answer has two keys written as '1'
    """
    check_plain(value)
    try:
        return pydantic_core.to_json(value, by_alias=True, inf_nan_mode="null")
    except (pydantic_core.PydanticSerializationError, ValueError) as exc:
        raise TypeError(f"the answer is not JSON serialisable: {str(exc)[:200]}") from None


def check_plain(value: Any) -> None:
    """What pydantic's serializer lets through but strict JSON does not: two keys of one object
    written alike (``1`` and ``"1"``, an Enum and its value, a ``str`` subclass) and integers
    too long to read back. Walks dicts, lists, tuples, sets, pydantic models and dataclasses."""
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is float or kind is bool or item is None:
            continue
        if is_dict(item):
            for key in item:
                if type(key) is not str:
                    _check_keys(item)
                    break
            stack.extend(item.values())
        elif is_collection(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif isinstance(item, int):
            if item.bit_length() > _MAX_INT_BITS:
                try:
                    str(item)  # Python's own int/str limit decides, as it does when reading
                except ValueError:
                    raise TypeError(
                        "the answer holds an integer of more than 4,300 digits"
                    ) from None
        elif isinstance(item, BaseModel):
            stack.extend(item.__dict__.values())
            stack.extend((item.__pydantic_extra__ or {}).values())
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, field.name) for field in dataclasses.fields(item))


def _check_keys(mapping: dict[object, object]) -> None:
    written = [_written_key(key) for key in mapping]
    if len(set(written)) != len(written):
        twice = next(w for w in written if written.count(w) > 1)
        raise TypeError(f"the answer has two keys written as {twice[:100]!r}")


def _written_key(key: Any) -> str:
    """A key as the serializer writes it (an Enum as its value, ``True`` as ``true``)."""
    plain = pydantic_core.to_jsonable_python(key)
    if isinstance(plain, bool):
        return "true" if plain else "false"
    return str(plain)
