"""Where credentials may go: the configured base URL, or an HMAC-proven ``api.base_url`` on an
allowed origin (contract section 1, "What each proof vouches for").

The workspace token and the runtime token are sent with every call a handler makes, so the API
base a delivery names is used only when (1) HMAC proved the body that names it -- a runtime token
does not cover the body -- and (2) its origin is one the developer allowed:

* the scheme is ``http`` or ``https``, and an ``https`` base is never downgraded to ``http``;
* no user info (``user@host``);
* the host is the configured base URL's host or one of ``allowed_api_hosts``, or a subdomain of
  one (``eu.kiket.dev`` for ``kiket.dev``; never ``kiket.dev.evil.example``; an IP address has
  no subdomains);
* the port is the one allowed with that host: the configured base URL's port for its host, the
  port written in an ``allowed_api_hosts`` entry (``"localhost:8443"``), else the scheme's
  default port (443 for https, 80 for http).

>>> policy = ApiHostPolicy("https://kiket.dev")
>>> policy.trusted_url("https://eu.kiket.dev/api"), policy.trusted_url("https://kiket.dev.evil.example")
('https://eu.kiket.dev/api', None)
>>> policy.trusted_url("http://kiket.dev"), policy.trusted_url("https://kiket.dev:8443")
(None, None)
>>> ApiHostPolicy("https://kiket.dev", ["example.org"]).trusted_url("HTTPS://API.Example.org/")
'https://api.example.org/'
>>> policy.trusted_url("https://kiket.dev/api#@evil.example"), ApiHostPolicy(
...     "http://127.0.0.1:9").trusted_url("http://x.127.0.0.1:9")
('https://kiket.dev/api', None)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import SplitResult, urlsplit

__all__ = ["ApiHostPolicy"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(parts: SplitResult) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of a URL, or ``None`` when it has no usable origin."""
    scheme = parts.scheme.lower()
    try:
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:  # a malformed port or host
        return None
    if scheme not in _DEFAULT_PORTS or not host or parts.username is not None:
        return None
    return scheme, host, port if port is not None else _DEFAULT_PORTS[scheme]


class ApiHostPolicy:
    """Which API base URLs a proven delivery may point credentials at (see the module docs).

    ``base_url``: the configured base. ``allowed_api_hosts``: more hosts, each allowed with its
    subdomains, as ``"host"`` (the scheme's default port) or ``"host:port"``.
    """

    def __init__(self, base_url: str, allowed_api_hosts: Sequence[str] | None = None) -> None:
        configured = _origin(urlsplit(base_url.strip()))
        self.scheme: str = configured[0] if configured else "https"
        self.allowed: tuple[tuple[str, int | None], ...] = tuple(
            dict.fromkeys(
                ([(configured[1], configured[2])] if configured else [])
                + [_host_entry(entry) for entry in allowed_api_hosts or ()]
            )
        )

    def trusted_url(self, url: str) -> str | None:
        """``url`` normalised (scheme and host in lower case) when credentials may be sent
        there, else ``None``."""
        try:
            parts = urlsplit(url.strip())
        except ValueError:
            return None
        origin = _origin(parts)
        if origin is None:
            return None
        scheme, host, port = origin
        if self.scheme == "https" and scheme != "https":
            return None
        for allowed_host, allowed_port in self.allowed:
            subdomain = host.endswith("." + allowed_host) and not _is_ip(allowed_host)
            if (host == allowed_host or subdomain) and port == (
                allowed_port if allowed_port is not None else _DEFAULT_PORTS[scheme]
            ):
                # an API *base*: no query or fragment (``#@evil`` would eat the request path)
                base = parts._replace(scheme=scheme, netloc=parts.netloc.lower(), query="")
                return base._replace(fragment="").geturl()
        return None


def _is_ip(host: str) -> bool:
    """An IP literal has no subdomains (``x.127.0.0.1`` is not under ``127.0.0.1``)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _host_entry(entry: str) -> tuple[str, int | None]:
    text = entry.strip().lower()
    parts = urlsplit(text if "//" in text else "//" + text)
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or text).rstrip("."), port
