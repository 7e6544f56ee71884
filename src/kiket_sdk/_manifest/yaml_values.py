"""Tolerant readers for YAML values: odd input becomes a problem, never an exception.

A manifest is written by hand, so every section reader takes what it can: a value of the wrong
shape is noted in ``problems`` (a list the caller owns) and read as empty, false or ``None``.

Example:

```python
from kiket_sdk._manifest.yaml_values import as_flag, as_list, as_text

problems: list[str] = []
assert as_text(1.0) == "1.0" and as_text(True) == "true"
assert as_flag("TRUE", "secret", problems) is True
assert as_list("oops", "hooks", problems) == []
assert problems == ["`hooks` should be a list; it was ignored."]
```
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeGuard

__all__ = ["as_flag", "as_list", "as_mapping", "as_text", "as_whole_number", "is_mapping"]


def is_mapping(value: object) -> TypeGuard[Mapping[Any, Any]]:
    """``isinstance(value, Mapping)``; a YAML mapping's keys and values may be of any type, so
    each reader checks the ones it uses."""
    return isinstance(value, Mapping)


def _is_list(value: object) -> TypeGuard[list[Any]]:
    return isinstance(value, list)


def as_mapping(value: object) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one."""
    return value if is_mapping(value) else {}


def as_list(value: object, where: str, problems: list[str]) -> list[Any]:
    """``value`` when it is a list; ``[]`` (noting a problem unless it is absent) otherwise."""
    if value is None:
        return []
    if _is_list(value):
        return value or []
    problems.append(f"`{where}` should be a list; it was ignored.")
    return []


def as_text(value: object) -> str | None:
    """A YAML scalar as text: ``True`` -> ``"true"``, a date -> ISO, ``1.0`` -> ``"1.0"``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def as_flag(value: object, where: str, problems: list[str]) -> bool:
    """A YAML boolean; ``"true"``/``"false"`` strings are accepted, anything else is false.

    The problem never quotes a string value: a ``secret:`` flag is where a user may paste the
    secret itself (``secret: sh_live_...``), and problems are printed by ``manifest check``.
    """
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    shown = "a string" if isinstance(value, str) else repr(value)
    problems.append(f"`{where}` should be true or false, not {shown}; read as false.")
    return False


def as_whole_number(value: object, where: str, problems: list[str]) -> int | None:
    """An integer (or a string of digits); anything else is a problem and ``None``."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    problems.append(f"`{where}` should be a whole number, not {value!r}; it was ignored.")
    return None
