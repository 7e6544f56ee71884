"""`CrossSiteGuard`: the inspector answers only its own page, never another site's.

The inspector sends signed deliveries and shows the fake's secrets, on a port of the
developer's machine that every web page they open can try to reach. Three checks keep other
sites out (ASGI middleware in front of the inspector's routes):

* **Host** must be ``localhost`` or an IP address literal: a DNS name could be rebound to
  127.0.0.1 by a hostile site (DNS rebinding), which would make its pages same-origin with
  the inspector. 403 otherwise.
* **Origin**, when the browser sends one (every cross-origin request and every ``POST``), must
  be this very origin, ``http://`` + ``Host``: cross-site request forgery. 403 otherwise.
* A request carrying a body (``POST``, ``PUT``) must be ``Content-Type: application/json``: a
  page elsewhere can send a form or ``text/plain`` without the browser asking first (a CORS
  "simple request"), but not JSON. 415 otherwise. (A ``PUT`` is never a simple request; it is
  held to the same rule so that every body the API reads is declared as what it is.)

Refusals are ``{"detail": text}`` like the rest of the API (`api`).

>>> _host_allowed("127.0.0.1:8000"), _host_allowed("[::1]:8000"), _host_allowed("localhost")
(True, True, True)
>>> _host_allowed("evil.example:8000"), _host_allowed("")
(False, False)
"""

from __future__ import annotations

import ipaddress
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["CrossSiteGuard"]

_WITH_BODY = ("POST", "PUT")
"""The methods whose body the API reads: only as ``application/json``."""


def _hostname(host: str) -> str:
    """The host part of a ``Host`` header value (``[::1]:8000`` -> ``::1``)."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _host_allowed(host: str) -> bool:
    """Whether ``host`` (a ``Host`` header value) is ``localhost`` or an IP address literal."""
    name = _hostname(host).lower()
    if name == "localhost":
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _refusal(scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
    """The status and reason to refuse this request with, or ``None`` to let it through."""
    host = headers.get("host", "")
    if not _host_allowed(host):
        server = scope.get("server") or ("127.0.0.1", None)
        port = f":{server[1]}" if server[1] else ""
        return 403, (
            "the inspector answers only at localhost or an IP address (a DNS name could be "
            f"rebound to this machine by another site); open it at http://127.0.0.1{port}"
        )
    origin = headers.get("origin")
    if origin is not None and origin != f"http://{host}":
        return 403, "a request from another origin (only the inspector's own page may call it)"
    if scope["method"] in _WITH_BODY:
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            return 415, "the body must be sent as Content-Type: application/json"
    return None


class CrossSiteGuard:
    """ASGI middleware refusing requests another site could make (module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse with a JSON ``{"detail"}`` answer, or pass the request on unchanged."""
        if scope["type"] == "http":
            headers = {
                name.decode("latin-1").lower(): value.decode("latin-1")
                for name, value in scope.get("headers", [])
            }
            refusal = _refusal(scope, headers)
            if refusal is not None:
                status, detail = refusal
                body = json.dumps({"detail": detail}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
