"""Turning Python values into request bodies and query values (used by generated operations).

>>> build_body({"record": {"email": "a@b.c"}, "notes": None})
{'record': {'email': 'a@b.c'}}
>>> json_param({"status": "active"})
'{"status":"active"}'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

__all__ = ["build_body", "json_param", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """``value`` with every pydantic model dumped by alias to JSON-ready data (no None fields)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, Mapping):
        return {key: to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    return value


def build_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON object from keyword arguments: ``None`` means "not given" and is left out."""
    return {key: to_jsonable(value) for key, value in fields.items() if value is not None}


def json_param(value: Any) -> str | None:
    """A query value sent JSON-encoded (compact, keys in the given order); ``None`` stays unset."""
    if value is None:
        return None
    return json.dumps(to_jsonable(value), separators=(",", ":"), ensure_ascii=False)
