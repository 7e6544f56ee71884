"""kiket-sdk: typed Python SDK for building Kiket extensions.

Receive signed webhooks as typed events, answer allow/deny/pending, and call back into Kiket
through a generated, retrying API client::

    from kiket_sdk import Allow, HandlerContext, KiketSDK, allow
    from kiket_sdk.events import IssueCreated

    sdk = KiketSDK(webhook_secret="sh_123", extension_id="com.example.marketing")

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: IssueCreated, ctx: HandlerContext) -> Allow:
        await ctx.endpoints.log_event("issue.created", title=event.issue.title)
        return allow(message="ok")

    # uvicorn main:sdk   (or sdk.run())

What a delivery is (the model every part of the inbound path follows; the details, and the
modules in the order a delivery meets them, are in ``kiket_sdk._delivery``):

- a **delivery** is its signed bytes on its route: the same bytes on the same route are the
  same delivery whenever they arrive (its stored answer, a bounded wait for the running one, or
  a new run after a 5xx or a timeout); the same bytes on another route are refused (401);
- an **event** is (extension, event, version, id): it runs its handler once; a redelivery gets
  the stored answer (``X-Kiket-Duplicate: true``);
- a **claim** is a lease held while its handler can still run; the **ledger** that keeps
  claims and answers fails closed (503 + ``Retry-After``, no handler run);
- each **proof** is trusted for what it covers: HMAC the body bytes, a runtime token its claims
  (one body); credentials go only to the configured base URL or an HMAC-proven, allowed
  ``api.base_url``.

Names are imported on first use, so ``import kiket_sdk`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiket_sdk._lazy import lazy_exports
from kiket_sdk._version import __version__

if TYPE_CHECKING:
    from kiket_sdk._app import KiketSDK, webhook
    from kiket_sdk._client import AsyncKiketClient, KiketClient
    from kiket_sdk._delivery.context import (
        AuthContext,
        BaseHandlerContext,
        HandlerContext,
        SyncHandlerContext,
    )
    from kiket_sdk._delivery.handlers import RegistrationWarning
    from kiket_sdk._exceptions import (
        APIConnectionError,
        APIError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ClientClosedError,
        ConfigurationError,
        ConflictError,
        InternalServerError,
        KiketSDKError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        ScopeError,
        SigningKeysUnavailableError,
        UnprocessableEntityError,
        WebhookVerificationError,
    )
    from kiket_sdk._manifest import ExtensionManifest, load_manifest
    from kiket_sdk._responses import Allow, Deny, Pending, allow, deny, pending
    from kiket_sdk._stores import DeliveryStore, MemoryDeliveryStore, RedisDeliveryStore
    from kiket_sdk._telemetry import TelemetryRecord

_EXPORTS: dict[str, str] = {
    "KiketSDK": "kiket_sdk._app",
    "webhook": "kiket_sdk._app",
    "KiketClient": "kiket_sdk._client",
    "AsyncKiketClient": "kiket_sdk._client",
    "AuthContext": "kiket_sdk._delivery.context",
    "BaseHandlerContext": "kiket_sdk._delivery.context",
    "HandlerContext": "kiket_sdk._delivery.context",
    "SyncHandlerContext": "kiket_sdk._delivery.context",
    "RegistrationWarning": "kiket_sdk._delivery.handlers",
    "DeliveryStore": "kiket_sdk._stores",
    "MemoryDeliveryStore": "kiket_sdk._stores",
    "RedisDeliveryStore": "kiket_sdk._stores",
    "ExtensionManifest": "kiket_sdk._manifest",
    "load_manifest": "kiket_sdk._manifest",
    "Allow": "kiket_sdk._responses",
    "Deny": "kiket_sdk._responses",
    "Pending": "kiket_sdk._responses",
    "allow": "kiket_sdk._responses",
    "deny": "kiket_sdk._responses",
    "pending": "kiket_sdk._responses",
    "TelemetryRecord": "kiket_sdk._telemetry",
    **dict.fromkeys(
        (
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
        ),
        "kiket_sdk._exceptions",
    ),
}

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "Allow",
    "AsyncKiketClient",
    "AuthContext",
    "AuthenticationError",
    "BadRequestError",
    "BaseHandlerContext",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "DeliveryStore",
    "Deny",
    "ExtensionManifest",
    "HandlerContext",
    "InternalServerError",
    "KiketClient",
    "KiketSDK",
    "KiketSDKError",
    "MemoryDeliveryStore",
    "NotFoundError",
    "Pending",
    "PermissionDeniedError",
    "RateLimitError",
    "RedisDeliveryStore",
    "RegistrationWarning",
    "ScopeError",
    "SigningKeysUnavailableError",
    "SyncHandlerContext",
    "TelemetryRecord",
    "UnprocessableEntityError",
    "WebhookVerificationError",
    "__version__",
    "allow",
    "deny",
    "load_manifest",
    "pending",
    "webhook",
]

if not TYPE_CHECKING:  # checkers see the imports above; at run time a name loads on first use
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS, __all__)
