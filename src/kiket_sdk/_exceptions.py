"""Every error the SDK raises, in one tree.

```
KiketSDKError                       root: catch this to catch everything the SDK raises
├── ConfigurationError              a setting is missing or wrong (says what to set)
├── ScopeError                      the delivery's token lacks a required scope (-> 403)
├── WebhookVerificationError        an inbound delivery failed its proof of origin (-> 401)
│   └── SigningKeysUnavailableError keys unfetchable or key id not yet published (-> 503)
└── APIError                        a call to the Kiket API failed
    ├── APIConnectionError          no HTTP answer at all (DNS, refused, reset)
    │   └── APITimeoutError         the request timed out
    └── APIStatusError              the API answered with a 4xx/5xx status
        ├── BadRequestError             400
        ├── AuthenticationError         401
        ├── PermissionDeniedError       403
        ├── NotFoundError               404
        ├── ConflictError               409
        ├── UnprocessableEntityError    422
        ├── RateLimitError              429
        └── InternalServerError         5xx
```

Example:

```python
from kiket_sdk import KiketClient, KiketSDKError, NotFoundError

with KiketClient(base_url="http://127.0.0.1:9", workspace_token="wk") as client:
    try:
        client.secrets.get("com.example", "API_KEY")
    except NotFoundError as exc:
        print(exc.status_code, exc.problem)
    except KiketSDKError:
        ...
```
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "KiketSDKError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ScopeError",
    "SigningKeysUnavailableError",
    "UnprocessableEntityError",
    "WebhookVerificationError",
]


class KiketSDKError(Exception):
    """Root of every error raised by kiket-sdk.

    The text of a ``KiketSDKError`` is written for the extension's operator and is safe to show
    to the caller of a webhook (it never contains a secret).
    """


class ConfigurationError(KiketSDKError):
    """A required setting is missing or invalid; the message names what to set."""


class ClientClosedError(KiketSDKError):
    """A call was made on a client after it was closed (``aclose()``/``close()`` or the end of
    its ``with`` block). Make a new client; closing is for the end of a client's life.

    ``KiketSDK``'s own clients are made anew after the SDK shuts down, so this only concerns
    clients you create and close yourself.
    """


class ScopeError(KiketSDKError):
    """The delivery's runtime token does not grant the scopes a handler needs.

    Raised by ``ctx.require_scopes(...)`` and by handlers registered with ``required_scopes=``;
    the webhook router answers it with ``403`` and both scope lists.
    """

    def __init__(self, required: Sequence[str], missing: Sequence[str]) -> None:
        self.required_scopes: list[str] = list(required)
        self.missing_scopes: list[str] = list(missing)
        super().__init__(f"Insufficient scopes: missing {', '.join(self.missing_scopes)}")


class WebhookVerificationError(KiketSDKError):
    """An inbound delivery could not prove that it comes from Kiket (-> ``401``).

    The message gives the reason (``"signature mismatch"``, ``"timestamp outside tolerance"``,
    ...) and never the secret.
    """


class SigningKeysUnavailableError(WebhookVerificationError):
    """Kiket's signing keys could not be had *yet* (-> ``503`` with ``Retry-After``).

    Raised while checking a runtime token when the keys cannot be fetched (and no usable copy is
    cached), or when the token names a key id that Kiket has not published as far as the cache
    knows (a key rotation). Both are temporary: retrying later can succeed, so the webhook
    router answers ``503`` and the platform retries the delivery.

    Attributes:
        retry_after: seconds until the key cache is willing to fetch again (at least ``1``).

    The message is generic ("... retry later"): it never names the key server or echoes an
    underlying error, since it goes to an unauthenticated caller.
    """

    def __init__(
        self,
        message: str = "Kiket's signing keys are unavailable; retry later",
        *,
        retry_after: float = 1.0,
    ) -> None:
        super().__init__(message)
        self.retry_after: float = max(1.0, retry_after)  # `max(1.0, nan)` is 1.0


class APIError(KiketSDKError):
    """A call to the Kiket API failed."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class APIConnectionError(APIError):
    """The API could not be reached (DNS failure, connection refused or reset)."""

    def __init__(
        self, message: str = "Connection error.", *, request: httpx.Request | None = None
    ) -> None:
        super().__init__(message, request=request)


class APITimeoutError(APIConnectionError):
    """The request did not complete within its timeout."""

    def __init__(self, *, request: httpx.Request | None = None) -> None:
        super().__init__("Request timed out.", request=request)


class APIStatusError(APIError):
    """The API answered with an error status.

    Attributes:
        status_code: the HTTP status.
        response: the ``httpx.Response``.
        problem: the parsed RFC 7807 body (``type``, ``title``, ``status``, ``detail``, ...),
            or ``{}`` when the body was not JSON.
    """

    status_code: int

    def __init__(
        self, message: str, *, response: httpx.Response, problem: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, request=response.request)
        self.response = response
        self.status_code = response.status_code
        self.problem: dict[str, Any] = problem or {}

    @property
    def detail(self) -> str | None:
        """The problem's ``detail`` (or ``title``), when the API sent one."""
        value = self.problem.get("detail") or self.problem.get("title")
        return str(value) if value is not None else None


class BadRequestError(APIStatusError):
    """400 Bad Request."""


class AuthenticationError(APIStatusError):
    """401 Unauthorized: the workspace or runtime token was refused."""


class PermissionDeniedError(APIStatusError):
    """403 Forbidden: the token lacks a permission."""


class NotFoundError(APIStatusError):
    """404 Not Found."""


class ConflictError(APIStatusError):
    """409 Conflict."""


class UnprocessableEntityError(APIStatusError):
    """422 Unprocessable Entity: the request body failed validation."""


class RateLimitError(APIStatusError):
    """429 Too Many Requests (retried automatically before this is raised)."""


class InternalServerError(APIStatusError):
    """5xx: the API failed (retried automatically where safe before this is raised)."""


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The ``APIStatusError`` subclass for an HTTP status code."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_ERRORS.get(status_code, APIStatusError)
