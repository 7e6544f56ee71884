"""Where an extension listens: the interface and port for ``sdk.run()`` and ``kiket-sdk run``.

One rule for both:

- host: the ``host`` argument, else ``$HOST``, else ``127.0.0.1`` (this machine only, as
  uvicorn does). In a container the platform must reach the server: set ``HOST=0.0.0.0`` (or
  pass ``host="0.0.0.0"`` / ``--host 0.0.0.0``).
- port: the ``port`` argument, else ``$PORT`` (set by the platform's container templates),
  else 8000.

A value that cannot be bound is a ``ConfigurationError`` with one line saying what to write,
raised before the server starts.

Example:

```python
from kiket_sdk._serving import listen_host, listen_port

assert listen_host(None, environ={}) == "127.0.0.1"
assert listen_host(None, environ={"HOST": "0.0.0.0"}) == "0.0.0.0"
assert listen_port(None, environ={"PORT": "8080"}) == 8080
assert listen_port(9000, environ={"PORT": "8080"}) == 9000
```
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping

from kiket_sdk._exceptions import ConfigurationError

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "HOST_ENV",
    "PORT_ENV",
    "checked_host",
    "checked_port",
    "listen_host",
    "listen_port",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
HOST_ENV = "HOST"
PORT_ENV = "PORT"

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")


def checked_host(value: str, setting: str = "host") -> str:
    """``value`` when it is an IP address or a host name; else ``ConfigurationError``.

    ``setting`` names the value in the message (``"HOST"``, ``"--host"``).

    >>> checked_host("0.0.0.0")
    '0.0.0.0'
    >>> checked_host("http://0.0.0.0", "HOST")
    Traceback (most recent call last):
    ...
    kiket_sdk._exceptions.ConfigurationError: HOST must be an interface address or host name \
such as 127.0.0.1, 0.0.0.0 or localhost (no scheme, no port), got 'http://0.0.0.0'
    """
    text = value.strip()
    try:
        ipaddress.ip_address(text)
    except ValueError:
        if not _HOST_NAME.fullmatch(text):
            raise ConfigurationError(
                f"{setting} must be an interface address or host name such as 127.0.0.1, "
                f"0.0.0.0 or localhost (no scheme, no port), got {value!r}"
            ) from None
    return text


def checked_port(value: object, setting: str = "port", *, allow_zero: bool = False) -> int:
    """``value`` as a port number (an int, or a string of digits) in 1-65535; else
    ``ConfigurationError``. ``allow_zero`` admits 0, "any free port".

    >>> checked_port("8080", "PORT")
    8080
    >>> checked_port("abc", "PORT")
    Traceback (most recent call last):
    ...
    kiket_sdk._exceptions.ConfigurationError: PORT must be a port number (1-65535), got 'abc'
    """
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    low = 0 if allow_zero else 1
    if number is None or not low <= number <= 65535:
        extra = "; 0 picks a free port" if allow_zero else ""
        raise ConfigurationError(
            f"{setting} must be a port number ({low}-65535{extra}), got {value!r}"
        )
    return number


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def listen_host(host: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The interface to bind: ``host``, else ``$HOST`` (blank counts as unset), else 127.0.0.1.

    Raises ``ConfigurationError`` when the value chosen is not an address or host name.
    """
    if host is not None:
        return checked_host(host, "host")
    value = _env(environ).get(HOST_ENV, "")
    return checked_host(value, HOST_ENV) if value.strip() else DEFAULT_HOST


def listen_port(port: int | None = None, environ: Mapping[str, str] | None = None) -> int:
    """The port to bind: ``port``, else ``$PORT`` (blank counts as unset), else 8000.

    Raises ``ConfigurationError`` when the value chosen is not a number in 1-65535.
    """
    if port is not None:
        return checked_port(port, "port")
    value = _env(environ).get(PORT_ENV, "")
    return checked_port(value, PORT_ENV) if value.strip() else DEFAULT_PORT
