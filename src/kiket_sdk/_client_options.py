"""The settings vocabulary of the HTTP core: defaults, option types and header building.

Everything here is plain data or a pure function, shared by ``_BaseAPIClient`` and its sync and
async subclasses in ``_base_client`` (which re-exports the public names):

- ``DEFAULT_*`` constants and ``USER_AGENT``: what a client uses when you pass nothing.
- ``NOT_GIVEN``: the "argument omitted" marker, so ``timeout=None`` can mean "no timeout" and
  ``workspace_token=None`` can mean "drop the token" while omission keeps the current value.
  The generated operations use it the same way: an optional query value or body field left at
  ``NOT_GIVEN`` is not sent, ``None`` is sent as ``null`` where the spec admits it
  (``kiket_sdk._serialization``); ``none_as_not_given`` bridges a helper whose own API spells
  "not given" as ``None``.
- ``RequestOptions`` / ``CallOptions``: the typed ``**options`` of ``request`` and ``get``/...
- ``RateLimitInfo``: the ``X-RateLimit-*`` headers of a response, parsed leniently.
- ``checked_*`` validators and ``base_headers``: run once per client (or per ``with_options``
  copy), never per call.

Example:

```python
from kiket_sdk._client_options import NOT_GIVEN, base_headers, checked_base_url

checked_base_url("https://kiket.example/")  # -> "https://kiket.example"
base_headers("wk", {"x-trace": "1"})["authorization"]  # -> "Bearer wk"
bool(NOT_GIVEN)  # -> False, yet ``NOT_GIVEN is not None``
```
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal, TypedDict, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx

from kiket_sdk._exceptions import ConfigurationError
from kiket_sdk._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "NOT_GIVEN",
    "USER_AGENT",
    "CallOptions",
    "NotGiven",
    "RateLimitInfo",
    "RequestOptions",
    "TimeoutTypes",
    "base_headers",
    "checked_base_url",
    "checked_max_retries",
    "checked_seconds",
    "checked_timeout",
    "lower_keys",
    "none_as_not_given",
    "redacted_url",
]

DEFAULT_BASE_URL = "https://kiket.dev"
DEFAULT_TIMEOUT = httpx.Timeout(30.0)
DEFAULT_MAX_RETRIES = 2
USER_AGENT = f"kiket-sdk-python/{__version__}"

TimeoutTypes = float | httpx.Timeout | None


class NotGiven:
    """Type of ``NOT_GIVEN``: "argument omitted", as distinct from an explicit ``None``."""

    __slots__ = ()
    _instance: ClassVar[NotGiven | None] = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()

_T = TypeVar("_T")


def none_as_not_given(value: _T | None) -> _T | NotGiven:
    """``value``, or ``NOT_GIVEN`` for ``None``: for a helper whose API spells "not given" as
    ``None`` and passes it on to a generated operation (where ``None`` may mean ``null``).

    >>> none_as_not_given(None), none_as_not_given(0)
    (NOT_GIVEN, 0)
    """
    return NOT_GIVEN if value is None else value


class RequestOptions(TypedDict, total=False):
    """Keyword options of ``request`` / ``request_raw`` (all optional).

    - ``path_params``: values for the ``{name}`` placeholders of ``path``, each percent-encoded.
    - ``params``: the query; ``None`` values dropped, bools as ``true``/``false``, lists repeated.
    - ``body``: a pydantic model (by alias, ``None`` fields left out) or any JSON value.
    - ``timeout``: this call's timeout (``None`` = none); default: the client's.
    - ``extra_headers``: headers for this call, over the client's.
    - ``idempotency_key``: for ``POST``/``PATCH`` a fresh UUID is sent when omitted; ``None``
      sends no key, which also turns retries off for that write.
    """

    path_params: Mapping[str, object] | None
    params: Mapping[str, object] | None
    body: object
    timeout: TimeoutTypes | NotGiven
    extra_headers: Mapping[str, str] | None
    idempotency_key: str | NotGiven | None


class CallOptions(TypedDict, total=False):
    """Keyword options of ``get``/``post``/``put``/``patch``/``delete`` (all optional).

    ``json`` is the body; ``params``, ``timeout`` and ``extra_headers`` as in ``RequestOptions``.
    """

    json: object
    params: Mapping[str, object] | None
    timeout: TimeoutTypes | NotGiven
    extra_headers: Mapping[str, str] | None


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """The ``X-RateLimit-*`` headers of a response (``None`` for a header that was absent).

    ``reset`` is the ``X-RateLimit-Reset`` number exactly as sent.
    """

    limit: int | None
    remaining: int | None
    reset: float | None

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> RateLimitInfo | None:
        """Read the headers; ``None`` when none is present. A malformed value reads as ``None``."""
        limit = headers.get("x-ratelimit-limit")
        remaining = headers.get("x-ratelimit-remaining")
        reset = headers.get("x-ratelimit-reset")
        if limit is None and remaining is None and reset is None:
            return None
        return cls(_integer(limit), _integer(remaining), _number(reset))


def checked_base_url(
    base_url: str | None,
    *,
    setting: str = "base_url (or KIKET_BASE_URL)",
    credentials_allowed: bool = False,
) -> str:
    """``base_url`` (or the default, https://kiket.dev) stripped of blanks and trailing ``/``.

    Raises ``ConfigurationError`` unless it is an ``http://`` or ``https://`` URL with a host
    (and, when given, a numeric port): ``"localhost:9999"`` is refused at once rather than
    failing every call later. ``user:password@`` is refused unless ``credentials_allowed`` (an
    API base URL authenticates with the workspace token; a telemetry collector may use them).
    ``setting`` names the value in the message (``"KIKET_BASE_URL"``, ``"telemetry_url"``);
    credentials in the URL are never echoed.

    >>> checked_base_url("https://kiket.example/")
    'https://kiket.example'
    >>> checked_base_url("localhost:9999", setting="KIKET_BASE_URL")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kiket_sdk._exceptions.ConfigurationError: KIKET_BASE_URL must be an http:// or https:// URL...
    """
    given = (base_url or DEFAULT_BASE_URL).strip()
    url = given.rstrip("/")
    parts = urlsplit(url)
    try:
        has_valid_port = parts.port is None or parts.port > 0
    except ValueError:  # not a number, or out of range
        has_valid_port = False
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or not has_valid_port
        or any(character.isspace() for character in url)
    ):
        raise ConfigurationError(
            f"{setting} must be an http:// or https:// URL with a host, like https://kiket.dev "
            f"or http://127.0.0.1:8080; got {redacted_url(given)!r}."
        )
    if not credentials_allowed and (parts.username is not None or parts.password is not None):
        # httpx would send them as Basic auth beside the bearer token, and they would show in
        # every log line naming the URL.
        raise ConfigurationError(
            f"{setting} must not hold credentials (user:password@); the workspace token "
            f"authenticates calls; got {redacted_url(given)!r}."
        )
    return url


def redacted_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@``, for error messages and logs.

    >>> redacted_url("https://bot:s3cret@kiket.example/api")
    'https://***@kiket.example/api'
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))


def checked_seconds(name: str, value: object, *, zero_allowed: bool) -> float:
    """``value`` as a float when it is a finite number of seconds (> 0, or >= 0 with
    ``zero_allowed``; ``True`` is not a number here); else ``ConfigurationError`` naming
    ``name``. The one rule for every duration setting (``KiketSDK``'s options, client timeouts).

    >>> checked_seconds("body_timeout", 10, zero_allowed=False)
    10.0
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"{name} must be a number of seconds, got {value!r}")
    if not (math.isfinite(value) and (value >= 0 if zero_allowed else value > 0)):
        bound = ">= 0" if zero_allowed else "> 0"
        raise ConfigurationError(f"{name} must be a number of seconds {bound}, got {value!r}")
    return float(value)


def checked_timeout(timeout: object) -> TimeoutTypes:
    """``timeout`` itself: seconds (a number > 0, see `checked_seconds`), an
    ``httpx.Timeout``, or ``None`` (no timeout); raise ``ConfigurationError`` otherwise
    (``-1``, ``0``, ``"30"``, NaN).

    >>> checked_timeout(5.0)
    5.0
    """
    if timeout is None or isinstance(timeout, httpx.Timeout):
        return timeout
    checked_seconds("timeout", timeout, zero_allowed=False)
    assert isinstance(timeout, int | float)  # checked just above
    return timeout


def checked_max_retries(max_retries: int) -> int:
    """``max_retries`` itself; raise ``ConfigurationError`` when it is negative."""
    if max_retries < 0:
        raise ConfigurationError(f"max_retries must be 0 or more, got {max_retries}.")
    return max_retries


def lower_keys(headers: Mapping[str, str] | None) -> dict[str, str]:
    """A new dict of ``headers`` with lower-case names, so later merges override by name."""
    return {name.lower(): value for name, value in headers.items()} if headers else {}


def base_headers(workspace_token: str | None, default_headers: dict[str, str]) -> dict[str, str]:
    """The headers of every call of one client: ``User-Agent``, ``Accept``, ``Authorization``.

    ``default_headers`` (already lower-cased) go on top, so they may override any of them.
    """
    headers = {"user-agent": USER_AGENT, "accept": "application/json"}
    if workspace_token:
        headers["authorization"] = f"Bearer {workspace_token}"
    headers.update(default_headers)
    return headers


def _integer(value: str | None) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
