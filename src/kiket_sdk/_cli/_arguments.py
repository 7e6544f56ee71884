"""The argparse ``type=`` functions of ``kiket-sdk``: every option value is checked on parsing.

A value that cannot be right (``--timeout -1``, ``--port abc``, ``--set a..b=1``, ``--url
localhost:8000``) is refused by argparse before any command runs, so it is a usage error: exit
code 2 and one line naming the option (``kiket-sdk: error: argument --timeout: ...``, see
``_main``). Each function takes the option's text and returns the parsed value, or raises
``argparse.ArgumentTypeError`` with the reason; messages never echo a URL's credentials or
query values (see ``_network.shown_url``).

Example:

```python
import argparse

from kiket_sdk._cli._arguments import payload_assignment, positive_seconds

assert positive_seconds("2.5") == 2.5
assert payload_assignment("issue.labels.0=\\"bug\\"") == ("issue.labels.0", "bug")
try:
    positive_seconds("-1")
except argparse.ArgumentTypeError as exc:
    assert str(exc) == "must be a number of seconds greater than 0, got '-1'"
```
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path
from typing import Any

__all__ = [
    "any_port",
    "event_name",
    "http_url",
    "listen_address",
    "parent_folder",
    "payload_assignment",
    "port",
    "positive_seconds",
    "unix_seconds",
]

# One URL path segment of `/v/{version}/webhooks/{event}`: no `/`, `?`, `#`, `%` or blanks.
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")


def port(text: str) -> int:
    """A port number, 1-65535."""
    return _checked_port(text, allow_zero=False)


def any_port(text: str) -> int:
    """A port number, 0-65535 (0: any free port)."""
    return _checked_port(text, allow_zero=True)


def _checked_port(text: str, *, allow_zero: bool) -> int:
    from kiket_sdk._exceptions import KiketSDKError
    from kiket_sdk._serving import checked_port

    try:
        return checked_port(text, "the port", allow_zero=allow_zero)
    except KiketSDKError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def listen_address(text: str) -> str:
    """An interface address or host name to bind (``127.0.0.1``, ``0.0.0.0``, ``localhost``)."""
    from kiket_sdk._exceptions import KiketSDKError
    from kiket_sdk._serving import checked_host

    try:
        return checked_host(text, "the host")
    except KiketSDKError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_seconds(text: str) -> float:
    """A finite number of seconds greater than 0 (``30``, ``0.5``); used for ``--timeout``."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds greater than 0, got {text!r}"
        )
    return seconds


def unix_seconds(text: str) -> int:
    """A unix time in whole seconds, 0 or more (``1767225600``)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"must be unix seconds (a whole number >= 0), got {text!r}"
        )
    return value


def http_url(text: str) -> str:
    """An ``http://`` or ``https://`` URL with a host, returned as given (without blanks).

    The query and path are kept; ``send`` appends its own path before the query.
    """
    from kiket_sdk._cli._network import shown_url
    from kiket_sdk._client_options import checked_base_url
    from kiket_sdk._exceptions import ConfigurationError

    try:
        checked_base_url(text, setting="URL", credentials_allowed=True)
    except ConfigurationError:
        raise argparse.ArgumentTypeError(
            "must be an http:// or https:// URL with a host, like http://127.0.0.1:8000; "
            f"got {shown_url(text.strip())!r}"
        ) from None
    return text.strip()


def event_name(text: str) -> str:
    """An event name or version: one URL path segment (``issue.created``, ``v1``)."""
    if not _PATH_SEGMENT.fullmatch(text):
        raise argparse.ArgumentTypeError(
            "must be letters, digits, '.', '_', '-' or '~' (like issue.created or v1), "
            f"got {text!r}"
        )
    return text


def payload_assignment(text: str) -> tuple[str, Any]:
    """``PATH=VALUE`` for ``--set``: a dotted path of non-empty names, and a JSON value.

    VALUE is parsed as JSON when it is valid JSON (``3``, ``true``, ``{"a": 1}``), else it is the
    string itself. Digits in the path index lists (``issue.labels.0``).
    """
    path, sep, value = text.partition("=")
    if not sep or not path:
        raise argparse.ArgumentTypeError(f"expects PATH=VALUE, got {text!r}")
    if not all(part.strip() for part in path.split(".")):
        raise argparse.ArgumentTypeError(
            f"PATH must be dotted names like issue.title (no empty part), got {path!r}"
        )
    try:
        return path, json.loads(value)
    except ValueError:
        return path, value


def parent_folder(text: str) -> Path:
    """A folder to create a project in: an existing folder, or a path that does not exist yet."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} exists and is not a folder")
    return path
