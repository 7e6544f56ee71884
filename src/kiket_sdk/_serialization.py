"""Turning Python values into request bodies and query values (used by generated operations).

"Not given" and ``None`` are two different things on the way out (the model githubkit's
``UNSET`` and openai-python's ``NOT_GIVEN`` follow; this SDK uses its existing ``NOT_GIVEN``):

- an argument left at ``NOT_GIVEN`` is left out of the body or query;
- ``None`` for a body field whose schema admits ``null`` is sent as ``null`` (``nullable=``);
- ``None`` for any other field is left out: the SDK never sends a ``null`` the spec forbids
  (an untyped caller passing ``None`` for "nothing" keeps working);
- a pydantic model inside a value is dumped by alias with only the fields that were set
  (``exclude_unset``): a field never set is left out, one set to ``None`` becomes ``null``.

Datetimes: an aware ``datetime`` is sent as ISO-8601 with its offset; a naive one (no
``tzinfo``, e.g. ``datetime.now()``) raises ``ConfigurationError`` before anything is sent. The
SDK does not guess a zone: reading local time as UTC would shift it silently. Pass
``datetime.now(UTC)`` or attach the zone you mean.

>>> from kiket_sdk._client_options import NOT_GIVEN
>>> build_body({"record": {"email": "a@b.c"}, "notes": None, "limit": NOT_GIVEN})
{'record': {'email': 'a@b.c'}}
>>> build_body({"error_message": None, "metadata": None}, nullable={"error_message"})
{'error_message': None}
>>> json_param({"status": "active"})
'{"status":"active"}'
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import pydantic_core
from pydantic import BaseModel

from kiket_sdk._client_options import NotGiven
from kiket_sdk._exceptions import ConfigurationError
from kiket_sdk._json_shapes import is_array, is_mapping

__all__ = ["aware_timestamp", "build_body", "json_param", "outbound_json", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """``value`` with every pydantic model dumped by alias to JSON-ready data (no None fields).

    The audit content hash is defined on this form (``kiket_sdk._audit``); request bodies use
    ``outbound_json``, which keeps explicit ``None`` fields.
    """
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if is_mapping(value):
        return {key: to_jsonable(item) for key, item in value.items()}
    if is_array(value):
        return [to_jsonable(item) for item in value]
    return value


def aware_timestamp(value: datetime, where: str) -> str:
    """``value`` as ISO-8601 with its UTC offset; ``ConfigurationError`` when it has none.

    ``where`` names the argument in the message (``"since"``, ``"body.data.at"``).

    >>> from datetime import UTC, datetime
    >>> aware_timestamp(datetime(2026, 1, 15, 10, 0, tzinfo=UTC), "since")
    '2026-01-15T10:00:00+00:00'
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigurationError(
            f"{where} is a naive datetime ({value.isoformat()}, no UTC offset): the SDK does not "
            "guess its zone. Pass an aware one, e.g. datetime.now(UTC) or "
            "value.replace(tzinfo=ZoneInfo('Europe/Berlin'))."
        )
    return value.isoformat()


def outbound_json(value: Any, where: str = "body") -> Any:
    """``value`` ready for a request: models dumped by alias with only their set fields,
    mappings, lists and tuples walked, datetimes as ISO-8601 text with an offset.

    Raises ``ConfigurationError`` for a naive datetime anywhere inside (``where`` + the path to
    it in the message). Other values are returned as they are (``pydantic_core.to_json`` writes
    enums, UUIDs, decimals and dates later).

    >>> outbound_json({"at": [1, (2, 3)]})
    {'at': [1, [2, 3]]}
    """
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True, exclude_unset=True)
    if isinstance(value, datetime):
        return aware_timestamp(value, where)
    if is_mapping(value):
        return {key: outbound_json(item, f"{where}.{key}") for key, item in value.items()}
    if is_array(value):
        return [outbound_json(item, f"{where}[{index}]") for index, item in enumerate(value)]
    return value


def build_body(fields: Mapping[str, Any], nullable: Collection[str] = ()) -> dict[str, Any]:
    """A JSON object from keyword arguments, keyed by wire name.

    ``NOT_GIVEN`` values are left out; ``None`` is kept (sent as ``null``) only for the keys in
    ``nullable`` (the fields whose schema admits ``null``) and left out otherwise. Values go
    through ``outbound_json`` (so a naive datetime raises ``ConfigurationError``).
    """
    return {
        key: outbound_json(value, key)
        for key, value in fields.items()
        if not isinstance(value, NotGiven) and (value is not None or key in nullable)
    }


def json_param(value: Any, where: str = "query") -> str | None:
    """A query value sent JSON-encoded (compact, keys in the given order, UTF-8 as is).

    ``None`` and ``NOT_GIVEN`` stay unset (a query has no ``null``).
    """
    if value is None or isinstance(value, NotGiven):
        return None
    return pydantic_core.to_json(outbound_json(value, where)).decode()
