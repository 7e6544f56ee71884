"""What strict JSON (RFC 8259) can carry: the fake never stores, so never answers, anything else.

`json_problem` walks a value (without recursion, so any depth is safe) and names the first part
strict JSON cannot carry: a non-finite float (``NaN``, ``Infinity``), a key that is not text, a
lone surrogate in text, an integer of more than 4,300 digits (which Python cannot read back), a
value of another type (a date, bytes, a set), or nesting deeper than ``max_depth``.

>>> json_problem({"rows": [{"score": float("nan")}]})
'rows[0].score: nan is not a finite number (strict JSON has no NaN or Infinity)'
>>> json_problem({"ok": [1, "a", None, True, 1.5]}) is None
True
"""

from __future__ import annotations

import math

from kiket_sdk._json_shapes import is_array, is_mapping

__all__ = ["check_json", "json_problem"]

_MAX_INT_BITS = 14_000
"""Integers longer than this many bits are checked against Python's int/str digit limit."""


def _text_problem(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone surrogate (not valid in JSON text)"
    return None


def _where(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def json_problem(value: object, *, path: str = "", max_depth: int | None = None) -> str | None:
    """``"<path>: <reason>"`` for the first part of ``value`` strict JSON cannot carry, else
    ``None``. ``path`` prefixes the location (``records[0]``); ``max_depth`` (levels of lists
    and objects, unlimited by default) refuses deeper nesting."""
    stack: list[tuple[object, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        name = where or "the value"
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                return f"{name}: text {problem}"
        elif isinstance(item, int):
            if item.bit_length() > _MAX_INT_BITS:
                try:
                    str(item)
                except ValueError:
                    return f"{name}: an integer of more than 4,300 digits"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"{name}: {item} is not a finite number (strict JSON has no NaN or Infinity)"
        elif is_array(item):
            if max_depth is not None and depth >= max_depth:
                return f"{name}: nested deeper than {max_depth} levels"
            stack.extend((child, _where(where, i), depth + 1) for i, child in enumerate(item))
        elif is_mapping(item):
            if max_depth is not None and depth >= max_depth:
                return f"{name}: nested deeper than {max_depth} levels"
            for key, child in item.items():
                if not isinstance(key, str):
                    return f"{name}: the key {key!r} is not text"
                problem = _text_problem(key)
                if problem:
                    return f"{name}: a key {problem}"
                stack.append((child, _where(where, key), depth + 1))
        else:
            return f"{name}: a {type(item).__name__} is not a JSON value"
    return None


def check_json(value: object, what: str) -> None:
    """Raise ``ValueError`` (``"<what> cannot be sent as JSON: <problem>"``) when strict JSON
    cannot carry ``value`` (`json_problem`)."""
    problem = json_problem(value)
    if problem is not None:
        raise ValueError(f"{what} cannot be sent as JSON: {problem}")
