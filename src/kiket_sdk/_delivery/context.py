"""What a handler gets besides the event: ``HandlerContext`` (async handlers) and
``SyncHandlerContext`` (plain ``def`` handlers).

Both carry the same delivery facts; they differ only in their API helpers: ``ctx.client``,
``ctx.endpoints`` and ``ctx.secrets`` are awaitable on ``HandlerContext`` and plain calls on
``SyncHandlerContext``. They share the SDK's one connection pool; the delivery's runtime token and
event version travel as per-request headers.

Example::

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: IssueCreated, ctx: HandlerContext) -> Allow:
        ctx.require_scopes("issues.read")
        token = ctx.secret("SLACK_BOT_TOKEN")          # payload secrets first, then the env var
        await ctx.endpoints.log_event("issue.seen", id=event.issue.id)
        return allow(message=f"seen by {ctx.extension_id}")
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, ParamSpec

from kiket_sdk._exceptions import ScopeError

if TYPE_CHECKING:
    from kiket_sdk._client import AsyncKiketClient, KiketClient
    from kiket_sdk._endpoints import AsyncEndpoints, AsyncSecretManager, Endpoints, SecretManager

__all__ = ["AuthContext", "BaseHandlerContext", "HandlerContext", "SyncHandlerContext"]

_P = ParamSpec("_P")


@dataclass(frozen=True, slots=True)
class AuthContext:
    """What the delivery's proof of origin established about who it acts for.

    ``proof``: which scheme vouched for the delivery -- ``"hmac"`` (the signature covered the
    whole body, token included), ``"runtime_token"`` (the token's ES256 signature was checked
    against Kiket's keys) or ``"none"`` (``verify=False``: nothing is proven).
    ``verified``: the runtime token's own signature was checked (token mode, or HMAC with
    ``verify_runtime_token=True``). ``scopes``, ``org_id``, ``ext_id``, ``proj_id`` come from
    the token's claims (from the ``authentication`` block when the token has none);
    ``expires_at`` is the ``authentication.expires_at`` text, else the token's ``exp`` as
    ISO-8601 UTC. The token itself is never shown by ``repr``.
    """

    runtime_token: str | None = field(default=None, repr=False)
    token_type: str | None = None
    expires_at: str | None = None
    scopes: tuple[str, ...] = ()
    org_id: str | int | None = None
    ext_id: str | int | None = None
    proj_id: str | int | None = None
    verified: bool = False
    """True when the token's signature was checked against Kiket's published keys."""
    proof: Literal["hmac", "runtime_token", "none"] = "none"
    """The scheme that vouched for the delivery."""

    def has_scopes(self, *scopes: str) -> bool:
        """Whether every scope is granted (``*`` grants everything)."""
        return not self.missing_scopes(scopes)

    def missing_scopes(self, scopes: tuple[str, ...] | list[str]) -> list[str]:
        """The scopes of ``scopes`` that are not granted, in order."""
        if "*" in self.scopes:
            return []
        granted = set(self.scopes)
        return [scope for scope in scopes if scope not in granted]


@dataclass(slots=True)
class DeliveryFacts:
    """The per-delivery data a context is built from (kept apart so building one is cheap)."""

    event: str
    event_version: str
    headers: Mapping[str, str]
    payload_secrets: Mapping[str, str]
    auth: AuthContext
    delivery_id: str | None
    api_base_url: str | None
    settings: Mapping[str, Any]
    extension_id: str | None
    extension_version: str | None
    deferred: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = field(
        default_factory=list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]]
    )


class BaseHandlerContext:
    """Facts about the delivery; see ``HandlerContext`` for the async API helpers."""

    __slots__ = ("_client", "_endpoints", "_facts", "_make_client")

    def __init__(self, facts: DeliveryFacts, make_client: Callable[[DeliveryFacts], Any]) -> None:
        self._facts = facts
        self._make_client = make_client
        self._client: Any = None
        self._endpoints: Any = None

    @property
    def event(self) -> str:
        """The event name, e.g. ``"issue.created"``."""
        return self._facts.event

    @property
    def event_version(self) -> str:
        """The schema version the delivery was routed by, e.g. ``"v1"``."""
        return self._facts.event_version

    @property
    def headers(self) -> Mapping[str, str]:
        """The delivery's HTTP headers (lower-case names)."""
        return self._facts.headers

    @property
    def settings(self) -> Mapping[str, Any]:
        """Manifest defaults, ``KIKET_SECRET_*`` overrides and ``settings=``, merged."""
        return self._facts.settings

    @property
    def extension_id(self) -> str | None:
        """The extension's id (constructor or manifest)."""
        return self._facts.extension_id

    @property
    def extension_version(self) -> str | None:
        """The extension's version (constructor or manifest)."""
        return self._facts.extension_version

    @property
    def payload_secrets(self) -> Mapping[str, str]:
        """The per-organisation secrets the platform bundled into this delivery."""
        return self._facts.payload_secrets

    @property
    def auth(self) -> AuthContext:
        """The runtime token and what it grants."""
        return self._facts.auth

    @property
    def delivery_id(self) -> str | None:
        """The event id from the signed body (``id``/``event_id``/``delivery_id``), if any."""
        return self._facts.delivery_id

    def secret(self, key: str) -> str | None:
        """A secret: the delivery's ``secrets[key]`` first (empty counts as absent), then the
        environment variable ``key``; ``None`` when neither is set.

        >>> ctx.secret("SLACK_BOT_TOKEN")  # doctest: +SKIP
        'xoxb-...'
        """
        value = self._facts.payload_secrets.get(key)
        if value:
            return str(value)
        return os.environ.get(key) or None

    def require_scopes(self, *scopes: str) -> None:
        """Raise ``ScopeError`` (answered with 403) unless the token grants every scope."""
        missing = self._facts.auth.missing_scopes(scopes)
        if missing:
            raise ScopeError(list(scopes), missing)

    def defer(self, fn: Callable[_P, Any], *args: _P.args, **kwargs: _P.kwargs) -> None:
        """Run ``fn(*args, **kwargs)`` after the answer is sent (sync or async ``fn``).

        Errors are logged and reported to telemetry; shutdown waits for deferred work up to the
        SDK's grace period. Return ``pending(...)`` to tell Kiket the outcome comes later.
        """
        self._facts.deferred.append((fn, args, kwargs))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(event={self.event!r}, event_version={self.event_version!r}, "
            f"delivery_id={self.delivery_id!r})"
        )


class HandlerContext(BaseHandlerContext):
    """The context of an ``async def`` handler: its API helpers are awaitable."""

    __slots__ = ()

    @property
    def client(self) -> AsyncKiketClient:
        """The typed Kiket API client for this delivery (shared pool, per-delivery headers)."""
        if self._client is None:
            self._client = self._make_client(self._facts)
        client: AsyncKiketClient = self._client
        return client

    @property
    def endpoints(self) -> AsyncEndpoints:
        """The seed's helpers: ``log_event``, ``custom_data(project_id)``, ``rate_limit()``, ..."""
        if self._endpoints is None:
            from kiket_sdk._endpoints import AsyncEndpoints

            self._endpoints = AsyncEndpoints(
                self.client,
                extension_id=self.extension_id,
                event_version=self.event_version,
            )
        endpoints: AsyncEndpoints = self._endpoints
        return endpoints

    @property
    def secrets(self) -> AsyncSecretManager:
        """The extension's stored secrets (``await ctx.secrets.get("API_KEY")``)."""
        return self.endpoints.secrets


class SyncHandlerContext(BaseHandlerContext):
    """The context of a plain ``def`` handler (run in a worker thread): plain-call helpers."""

    __slots__ = ()

    @property
    def client(self) -> KiketClient:
        """The typed Kiket API client for this delivery (shared pool, per-delivery headers)."""
        if self._client is None:
            self._client = self._make_client(self._facts)
        client: KiketClient = self._client
        return client

    @property
    def endpoints(self) -> Endpoints:
        """The seed's helpers: ``log_event``, ``custom_data(project_id)``, ``rate_limit()``, ..."""
        if self._endpoints is None:
            from kiket_sdk._endpoints import Endpoints

            self._endpoints = Endpoints(
                self.client,
                extension_id=self.extension_id,
                event_version=self.event_version,
            )
        endpoints: Endpoints = self._endpoints
        return endpoints

    @property
    def secrets(self) -> SecretManager:
        """The extension's stored secrets (``ctx.secrets.get("API_KEY")``)."""
        return self.endpoints.secrets
