"""Where credentials may go: the configured base URL, or an HMAC-proven ``api.base_url`` on an
allowed host (contract section 1, "What each proof vouches for").

The workspace token and the runtime token are sent with every call a handler makes, so the API
base a delivery names is used only when (1) HMAC proved the body that names it -- a runtime token
does not cover the body -- and (2) its host is one the developer allowed: by default the
configured base URL's host and its subdomains, with the same scheme (an ``https`` base never
downgrades to ``http``), no user info.

>>> policy = ApiHostPolicy("https://kiket.dev")
>>> policy.allows("https://eu.kiket.dev/api"), policy.allows("https://kiket.dev.evil.example")
(True, False)
>>> policy.allows("http://kiket.dev"), ApiHostPolicy("https://kiket.dev", ["example.org"]).allows(
...     "https://api.example.org")
(False, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

__all__ = ["ApiHostPolicy"]


class ApiHostPolicy:
    """Which API base URLs a proven delivery may point credentials at.

    ``base_url``: the configured base (its host is always allowed). ``allowed_hosts``: host
    names that are allowed with their subdomains (``"kiket.dev"`` allows ``eu.kiket.dev``);
    ``None`` means just the configured host.
    """

    def __init__(self, base_url: str, allowed_hosts: Sequence[str] | None = None) -> None:
        configured = urlsplit(base_url)
        self.scheme = configured.scheme.lower()
        hosts = [configured.hostname or ""]
        hosts += [host.strip().lower().rstrip(".") for host in allowed_hosts or ()]
        self.hosts = tuple(dict.fromkeys(host for host in hosts if host))

    def allows(self, url: str) -> bool:
        """Whether credentials may be sent to ``url``."""
        try:
            parts = urlsplit(url.strip())
            host = (parts.hostname or "").rstrip(".")
            _ = parts.port  # raises ValueError for a malformed port
        except ValueError:
            return False
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or parts.username is not None or not host:
            return False
        if self.scheme == "https" and scheme != "https":
            return False
        return any(host == allowed or host.endswith("." + allowed) for allowed in self.hosts)
