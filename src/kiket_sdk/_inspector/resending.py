"""`with_new_id`: a delivery body with a new top-level ``id`` and every other byte unchanged.

"Resend as new" must not change what the rest of the payload means: parsing the body and
writing it out again would round a ``1.00000000000000000001`` to ``1.0``, turn ``1e400``
into ``Infinity`` and reorder nothing but still rewrite every space. So only the text of the
top-level ``id`` value is replaced (each one, when a key repeats); a body without an ``id``
gets one as its first member.

>>> with_new_id(b'{"id": "evt_1", "big": 9007199254740993, "f": 1.000000000000000001}', "evt_2")
b'{"id": "evt_2", "big": 9007199254740993, "f": 1.000000000000000001}'
>>> with_new_id(b' { } ', "evt_2")
b' {"id":"evt_2" } '
>>> with_new_id(b'{"a": [1e400]}', "evt_2")
b'{"id":"evt_2","a": [1e400]}'
"""

from __future__ import annotations

import json

__all__ = ["with_new_id"]

_SCANNER = json.JSONDecoder(parse_int=lambda _: 0, parse_float=lambda _: 0.0)
"""Finds where each value ends, converting no number (so none is too large to read)."""


def _skip(text: str, at: int) -> int:
    """The index of the first character at or after ``at`` that is no JSON whitespace."""
    while at < len(text) and text[at] in " \t\n\r":
        at += 1
    return at


def with_new_id(body: bytes, new_id: str) -> bytes:
    """``body`` (a JSON object, UTF-8, checked beforehand) with its top-level ``id`` values
    replaced by ``new_id``; ``ValueError`` for a body that is not a JSON object."""
    text = body.decode("utf-8")
    at = _skip(text, 1 if text.startswith("\ufeff") else 0)
    if text[at : at + 1] != "{":
        raise ValueError("not a JSON object")
    opened = at + 1
    value_spans: list[tuple[int, int]] = []
    at = _skip(text, opened)
    while text[at] != "}":
        key, at = _SCANNER.raw_decode(text, at)
        at = _skip(text, _skip(text, at) + 1)  # past the ":"
        _, end = _SCANNER.raw_decode(text, at)
        if key == "id":
            value_spans.append((at, end))
        at = _skip(text, end)
        if text[at] == ",":
            at = _skip(text, at + 1)
    written = json.dumps(new_id)
    if not value_spans:
        first = "" if text[_skip(text, opened)] == "}" else ","
        return (text[:opened] + '"id":' + written + first + text[opened:]).encode("utf-8")
    for start, end in reversed(value_spans):
        text = text[:start] + written + text[end:]
    return text.encode("utf-8")
