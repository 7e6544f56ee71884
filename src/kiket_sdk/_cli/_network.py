"""How a failed network call is told to the user: one line that names the URL or address.

``kiket-sdk send`` to a closed port must say *where* it could not connect, not just
``[Errno 111] Connection refused``; ``run``/``dev`` must say which address they could not
listen on. Credentials and query values in a URL are replaced by ``***`` (see ``shown_url``):
``?token=...`` is how some gateways take a key, so a query is as secret as a password.

Example:

```python
import httpx

from kiket_sdk._cli._network import network_failure, shown_url

exc = httpx.ConnectError("[Errno 111] Connection refused")
error = network_failure("http://127.0.0.1:9/v/1/webhooks/issue.created", exc, timeout=30)
assert str(error) == (
    "cannot connect to http://127.0.0.1:9/v/1/webhooks/issue.created: connection refused"
)
assert error.exit_code == 1
assert shown_url("http://bot:pw@h/kiket?token=X&v=") == "http://***@h/kiket?token=***&v="
```
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from kiket_sdk._cli._common import EXIT_FAILED, CLIError
from kiket_sdk._client_options import redacted_url

__all__ = ["listen_failure", "network_failure", "os_reason", "shown_url"]

_ERRNO_PREFIX = re.compile(r"^\[Errno -?\d+\]\s*")


def shown_url(url: str) -> str:
    """``url`` as it may be printed: ``user:password@`` -> ``***@`` (``redacted_url``), every
    non-empty query value -> ``***`` (names kept, so ``?token=***`` still says what was sent),
    and the fragment dropped. Parsed with ``urllib.parse``; a URL without a query is unchanged
    apart from the credentials.
    """
    parts = urlsplit(redacted_url(url))
    if not parts.query and not parts.fragment:
        return urlunsplit(parts)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode([(name, "***" if value else "") for name, value in pairs], safe="*")
    if parts.query and not pairs:  # `?opaque-token`, not name=value pairs
        query = "***"
    return urlunsplit(parts._replace(query=query, fragment=""))


def os_reason(exc: BaseException) -> str:
    """The reason of a network error in lower case, without its ``[Errno N]`` prefix.

    The innermost ``OSError`` in the cause chain gives it (its ``strerror``); else the
    exception's own text; else its class name.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            text = seen.strerror
            break
        seen = seen.__cause__ or seen.__context__
    else:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = _ERRNO_PREFIX.sub("", text).strip() or type(exc).__name__
    return text[:1].lower() + text[1:]


def network_failure(url: str, exc: Exception, timeout: float | None) -> CLIError:
    """The ``CLIError`` (exit code 1) for an httpx transport error calling ``url``.

    Connect errors and connect timeouts give ``cannot connect to URL: reason``; a read, write
    or pool timeout gives ``no answer from URL within Ns``; anything else
    ``request to URL failed: reason``.
    """
    import httpx

    shown = shown_url(url)
    if isinstance(exc, httpx.ConnectTimeout):
        after = f" after {timeout:g}s" if timeout is not None else ""
        return CLIError(f"cannot connect to {shown}: timed out{after}", EXIT_FAILED)
    if isinstance(exc, httpx.ConnectError):
        return CLIError(f"cannot connect to {shown}: {os_reason(exc)}", EXIT_FAILED)
    if isinstance(exc, httpx.TimeoutException):
        within = f" within {timeout:g}s" if timeout is not None else ""
        return CLIError(f"no answer from {shown}{within}", EXIT_FAILED)
    return CLIError(f"request to {shown} failed: {os_reason(exc)}", EXIT_FAILED)


def listen_failure(host: str, port: int, exc: OSError, what: str = "") -> CLIError:
    """The ``CLIError`` (exit code 1) for a socket that could not be bound to ``host:port``."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    label = f" ({what})" if what else ""
    return CLIError(f"cannot listen on {where}{label}: {os_reason(exc)}", EXIT_FAILED)
