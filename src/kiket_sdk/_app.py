"""``KiketSDK``: registration, configuration and the ASGI app that serves deliveries."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any, Final

from kiket_sdk._client_options import checked_base_url, checked_seconds
from kiket_sdk._delivery import messages as msg
from kiket_sdk._delivery.context import HandlerContext, SyncHandlerContext
from kiket_sdk._delivery.handlers import (
    HandlerSpec,
    bare_decorator_error,
    check_route,
    inspect_handler,
)
from kiket_sdk._delivery.proof import DeliveryVerifier
from kiket_sdk._exceptions import ConfigurationError
from kiket_sdk._generated.catalogue import WebhookRegistry
from kiket_sdk._manifest import (
    ExtensionManifest,
    load_manifest,
    resolve_settings,
    resolve_webhook_secret,
)
from kiket_sdk._responses import allow, deny, pending
from kiket_sdk._runtime_token import JWKSCache, jwks_url_for
from kiket_sdk._signature import DEFAULT_TOLERANCE_SECONDS
from kiket_sdk._stores.base import DEFAULT_LEASE
from kiket_sdk._telemetry import (
    FeedbackHook,
    TelemetryReporter,
    TelemetryTarget,
    telemetry_opted_out,
)
from kiket_sdk._version import __version__
from kiket_sdk.observation import DeliveryObserver, DeliveryObservers

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI
    from starlette.types import Receive, Scope, Send

    from kiket_sdk._client import AsyncKiketClient, KiketClient
    from kiket_sdk._delivery.edge import WebhookEndpoint
    from kiket_sdk._delivery.pipeline import DeliveryPipeline
    from kiket_sdk._stores.base import DeliveryStore

__all__ = ["DEFAULT_BASE_URL", "KiketSDK", "webhook"]

logger = logging.getLogger("kiket_sdk")

DEFAULT_BASE_URL = "https://kiket.dev"
DEFAULT_MAX_BODY_SIZE = 1024 * 1024
DEFAULT_BODY_TIMEOUT = 10.0
_MARK = "__kiket_webhooks__"


def _api_hosts(hosts: Sequence[object] | None) -> tuple[str, ...]:
    """``allowed_api_hosts`` checked: host names (or ``host:port``), never one string split
    into letters, never URLs."""
    if isinstance(hosts, str | bytes):
        raise ConfigurationError(
            f"allowed_api_hosts takes a list of host names: write allowed_api_hosts=[{hosts!r}]"
        )
    checked: list[str] = []
    for host in tuple(hosts or ()):
        if not isinstance(host, str) or not host.strip() or "/" in host or "@" in host:
            raise ConfigurationError(
                f"allowed_api_hosts entries are host names, optionally with :port "
                f"('api.example.com', 'api.example.com:8443'), not URLs; got {host!r}"
            )
        checked.append(host)
    return tuple(checked)


def _check_settings(settings: object) -> None:
    """``settings=`` is ``None`` or a mapping (the annotation alone does not stop a list)."""
    if settings is not None and not isinstance(settings, Mapping):
        given = type(settings).__name__
        raise ConfigurationError(
            f"settings must be a mapping of setting names to values, got {given}"
        )


def _check_secret_types(given: Sequence[object]) -> None:
    """Every webhook secret passed is a string (or ``None``)."""
    for secret in given:
        if secret is not None and not isinstance(secret, str):
            raise ConfigurationError(
                f"webhook secrets must be strings, got {type(secret).__name__}"
            )


def _body_size(value: object) -> int:
    """``max_body_size`` checked: a whole, positive number of bytes (``True`` is not one)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError("max_body_size must be a whole number of bytes")
    if value <= 0:
        raise ConfigurationError("max_body_size must be a positive number of bytes")
    return value


class _Marker(WebhookRegistry[HandlerContext, SyncHandlerContext]):
    """``kiket_sdk.webhook(...)``: marks functions for ``KiketSDK.load(module)``; the handler
    is checked where it is marked, as ``sdk.webhook`` checks it."""

    def _handler_decorator(
        self, event: str, version: str, required_scopes: Sequence[str] | None
    ) -> Any:
        if callable(event):  # `@webhook` without its arguments
            raise bare_decorator_error(event, "webhook")
        key = check_route(event, version)

        def mark(func: Any) -> Any:
            spec = inspect_handler(*key, func, required_scopes)
            setattr(func, _MARK, [*getattr(func, _MARK, ()), spec])
            return func

        return mark


webhook: Final = _Marker().webhook
"""Mark a function as a handler without an SDK at hand; ``sdk.load(module)`` registers it.

Example::

    # handlers.py
    from kiket_sdk import webhook

    @webhook("issue.created", version="v1")
    async def on_issue(event: IssueCreated, ctx: HandlerContext) -> Allow: ...

    # main.py
    sdk.load(handlers)
"""


class KiketSDK(WebhookRegistry[HandlerContext, SyncHandlerContext]):
    """A Kiket extension: typed webhook handlers behind verified, versioned routes.

    ``KiketSDK`` is itself an ASGI app (``uvicorn main:sdk``, ``TestClient(sdk)``); ``sdk.app``
    is the FastAPI app and ``sdk.router`` an ``APIRouter`` to mount into an existing app.

    Example::

        from kiket_sdk import Allow, HandlerContext, KiketSDK, allow
        from kiket_sdk.events import IssueCreated

        sdk = KiketSDK(webhook_secret="sh_123", extension_id="com.example.marketing")

        @sdk.webhook("issue.created", version="v1", required_scopes=["issues.read"])
        async def on_issue(event: IssueCreated, ctx: HandlerContext) -> Allow:
            await ctx.endpoints.log_event("issue.created", title=event.issue.title)
            return allow(message="ok", data={"id": event.issue.id})

    Configuration falls back to the manifest (``extension.yaml``, ...) and the environment:
    ``KIKET_WEBHOOK_SECRET``, ``KIKET_WORKSPACE_TOKEN``, ``KIKET_BASE_URL``,
    ``KIKET_SDK_TELEMETRY_URL``, ``KIKET_SDK_TELEMETRY_OPTOUT``, ``KIKET_SECRET_*``; ``run()``
    reads ``HOST`` (default 127.0.0.1) and ``PORT`` (default 8000).

    Delivery options (the model behind them: ``kiket_sdk._delivery``, the README's "Delivery
    promises"; times in seconds, sizes in bytes):

    - ``max_body_size`` (1 MiB; over it 413) and ``body_timeout`` (10; the whole body must
      arrive within it, else 408 and the connection is closed);
    - ``handler_timeout`` (off): past it 503 + ``Retry-After``; an ``async`` handler is
      cancelled, a plain ``def`` handler's claim is held until its thread ends and its answer
      is recorded for the retry;
    - ``delivery_store`` (``KIKET_REDIS_URL`` -> `RedisDeliveryStore`, else in memory),
      ``deduplicate`` (True: an event id handled once is answered from the ledger; False
      keeps only the proof binding), ``duplicate_wait`` (10; then 409 + ``Retry-After``),
      ``claim_lease`` (30; renewed every third while the handler runs);
    - ``allowed_api_hosts`` (the configured base URL's host): hosts, with their subdomains,
      that an HMAC-proven ``api.base_url`` may send credentials to (contract section 1).

    Raises `ConfigurationError` for a non-positive ``max_body_size``, ``body_timeout`` or
    ``claim_lease``, a negative ``duplicate_wait``, or a ``base_url``/``KIKET_BASE_URL`` or
    ``telemetry_url``/``KIKET_SDK_TELEMETRY_URL`` that is not an ``http(s)://`` URL with a
    host (``"localhost:9999"`` is refused here, not at every delivery).
    """

    allow: Final = staticmethod(allow)
    deny: Final = staticmethod(deny)
    pending: Final = staticmethod(pending)

    def __init__(
        self,
        *,
        webhook_secret: str | None = None,
        webhook_secrets: Sequence[str] | None = None,
        workspace_token: str | None = None,
        base_url: str | None = None,
        settings: dict[str, Any] | None = None,
        extension_id: str | None = None,
        extension_version: str | None = None,
        manifest_path: str | Path | None = None,
        auto_env_secrets: bool = True,
        telemetry_enabled: bool = True,
        feedback_hook: FeedbackHook | None = None,
        telemetry_url: str | None = None,
        verify: bool = True,
        verify_runtime_token: bool = False,
        signature_tolerance: float = DEFAULT_TOLERANCE_SECONDS,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
        handler_timeout: float | None = None,
        delivery_store: DeliveryStore | None = None,
        deduplicate: bool = True,
        duplicate_wait: float = 10.0,
        claim_lease: float = DEFAULT_LEASE,
        allowed_api_hosts: Sequence[str] | None = None,
        shutdown_grace: float = 30.0,
        debug: bool = False,
        title: str | None = None,
    ) -> None:
        self.manifest: ExtensionManifest | None = load_manifest(manifest_path)
        self.extension_id: str | None = extension_id or (
            self.manifest.id if self.manifest else None
        )
        self.extension_version: str | None = extension_version or (
            self.manifest.version if self.manifest else None
        )
        _check_settings(settings)
        self.settings: dict[str, Any] = resolve_settings(
            self.manifest, settings, auto_env_secrets=auto_env_secrets
        )
        if isinstance(webhook_secrets, str | bytes):
            raise ConfigurationError(
                "webhook_secrets takes a list of secrets (all accepted, for rotation); for one "
                "secret write webhook_secret=..."
            )
        _check_secret_types((webhook_secret, *(webhook_secrets or ())))
        secrets = [s for s in (webhook_secret, *(webhook_secrets or ())) if s]
        if not secrets:
            resolved = resolve_webhook_secret(webhook_secret, self.manifest)
            secrets = [resolved] if resolved else []
        self._base_url: str = checked_base_url(
            base_url or os.environ.get("KIKET_BASE_URL"),
            setting="base_url" if base_url else "KIKET_BASE_URL",
        )
        self.workspace_token: str | None = (
            workspace_token or os.environ.get("KIKET_WORKSPACE_TOKEN") or None
        )
        self.max_body_size: int = _body_size(max_body_size)
        self.body_timeout: float = checked_seconds("body_timeout", body_timeout, zero_allowed=False)
        self.claim_lease: float = checked_seconds("claim_lease", claim_lease, zero_allowed=False)
        checked_seconds("duplicate_wait", duplicate_wait, zero_allowed=True)
        checked_seconds("signature_tolerance", signature_tolerance, zero_allowed=True)
        checked_seconds("shutdown_grace", shutdown_grace, zero_allowed=True)
        if handler_timeout is not None:
            checked_seconds("handler_timeout", handler_timeout, zero_allowed=False)
        self.allowed_api_hosts: tuple[str, ...] = _api_hosts(allowed_api_hosts)
        self.debug: bool = debug
        self.title: str = title or (
            f"{self.extension_id} webhooks" if self.extension_id else "Kiket extension"
        )
        self.verifier: DeliveryVerifier = DeliveryVerifier(
            secrets=secrets,
            tolerance=signature_tolerance,
            jwks=self._jwks,
            verify_runtime_token=verify_runtime_token,
            enabled=verify,
            extension_id=self.extension_id,
        )
        if not verify:
            logger.warning(msg.VERIFY_DISABLED)
        elif not secrets:
            logger.warning(msg.RUNTIME_TOKENS_ONLY, self.base_url)
        telemetry_on = telemetry_enabled and not telemetry_opted_out()
        url = telemetry_url or os.environ.get("KIKET_SDK_TELEMETRY_URL") or None
        if url and telemetry_on:
            setting = "telemetry_url" if telemetry_url else "KIKET_SDK_TELEMETRY_URL"
            url = checked_base_url(url, setting=setting, credentials_allowed=True)
        self._telemetry_on, self._telemetry_url = telemetry_on, url
        self.telemetry: TelemetryReporter = TelemetryReporter(
            feedback_hook=feedback_hook if telemetry_on else None,
            target=self._telemetry_target(url) if telemetry_on else None,
        )
        self.handler_timeout: float | None = handler_timeout
        if delivery_store is None:
            from kiket_sdk._stores import check_store_env

            check_store_env()
        self.delivery_store: DeliveryStore | None = delivery_store
        self.deduplicate: bool = deduplicate
        self.duplicate_wait: float = duplicate_wait
        self.shutdown_grace: float = shutdown_grace
        self._handlers: dict[tuple[str, str], HandlerSpec] = {}
        self._jwks_cache: JWKSCache | None = None
        self._async_client: AsyncKiketClient | None = None
        self._sync_client: KiketClient | None = None
        self._app: FastAPI | None = None
        self._pipeline: DeliveryPipeline | None = None
        self._endpoint: WebhookEndpoint | None = None
        self._router: APIRouter | None = None
        self._memory_ledger: DeliveryStore | None = None
        self.observers: DeliveryObservers = DeliveryObservers()
        """The registered delivery observers (see `observe`)."""

    # -- registration ---------------------------------------------------------------------

    def observe(self, observer: DeliveryObserver) -> DeliveryObserver:
        """Report every step of every delivery to ``observer`` (from the next delivery on).

        ``observer`` is any callable taking one ``kiket_sdk.observation.Observation``: a frozen
        record of a delivery's start, its proof, the ledger's decision, each outbound API call,
        its end and its deferred jobs (the order and the fields are in
        ``kiket_sdk.observation``). It is called synchronously on the thread that made the step,
        so keep it quick; one that raises is logged and never breaks a delivery. Returns
        ``observer``, so it also works as a decorator; `unobserve` removes it.
        ``kiket_sdk.otel.instrument(sdk)`` is such an observer (OpenTelemetry spans and metrics).

        Example::

            from kiket_sdk.observation import DeliveryEnded, Observation

            @sdk.observe
            def slow_answers(record: Observation) -> None:
                if isinstance(record, DeliveryEnded) and record.duration > 1.0:
                    logger.warning("delivery %s took %.1f s", record.delivery_id, record.duration)
        """
        return self.observers.add(observer)

    def unobserve(self, observer: DeliveryObserver) -> None:
        """Stop reporting to ``observer`` (deliveries already started still report to it);
        ``ValueError`` when it was not registered."""
        self.observers.remove(observer)

    def register(
        self,
        event: str,
        handler: Callable[..., Any],
        *,
        version: str = "v1",
        required_scopes: Sequence[str] | None = None,
    ) -> Callable[..., Any]:
        """Register ``handler`` for ``event`` at ``version`` (the decorator-free ``webhook``).

        Raises `ConfigurationError` for a handler the SDK cannot call (see ``webhook``), a
        version that is not ``v<number>`` (or a date), or a second handler of the same route;
        warns (`RegistrationWarning`) for an event name that looks like a misspelt catalogued
        one, or a catalogued event at a version its spec does not list.

        Example::

            sdk.register("issue.created", on_issue_v2, version="v2")
        """
        if callable(event) and isinstance(handler, str):
            raise ConfigurationError(
                f"register takes the event first: write sdk.register({handler!r}, "
                f"{getattr(event, '__name__', 'handler')})"
            )
        self._add(inspect_handler(*check_route(event, version), handler, required_scopes))
        return handler

    def _add(self, spec: HandlerSpec) -> None:
        key = (spec.event, spec.version)
        if key in self._handlers:
            existing = self._handlers[key].name
            raise ConfigurationError(
                f"a handler for {key[0]}@{key[1]} is already registered ({existing})"
            )
        self._handlers[key] = spec
        if self._router is not None:
            from kiket_sdk._docs import replace_documentation_routes

            replace_documentation_routes(self._router.routes, self._handlers.values())

    def _handler_decorator(
        self, event: str, version: str, required_scopes: Sequence[str] | None
    ) -> Any:
        if callable(event):  # `@sdk.webhook` without its arguments
            raise bare_decorator_error(event, "sdk.webhook")
        key = check_route(event, version)

        def decorator(func: Any) -> Any:
            self._add(inspect_handler(*key, func, required_scopes))
            return func

        return decorator

    def load(self, module: ModuleType | object) -> int:
        """Register every function in ``module`` marked with ``kiket_sdk.webhook(...)`` (checked
        when it was marked); returns how many handlers were registered.

        Example::

            import handlers
            sdk.load(handlers)
        """
        count = 0
        seen: set[int] = set()  # a function exported under two names is registered once
        for name in dir(module):
            func = getattr(module, name, None)
            if not callable(func) or id(func) in seen:
                continue
            seen.add(id(func))
            for spec in getattr(func, _MARK, ()):
                if isinstance(spec, HandlerSpec):
                    self._add(spec)
                    count += 1
        return count

    @property
    def handlers(self) -> dict[tuple[str, str], HandlerSpec]:
        """Registered handlers by (event, version) (a copy)."""
        return dict(self._handlers)

    @property
    def registered_events(self) -> list[str]:
        """``["issue.created@v1", ...]``, as ``/health`` reports them."""
        return [f"{e}@{v}" for e, v in sorted(self._handlers)]

    # -- outbound clients (one pool each, shared by every delivery) -------------------------

    @property
    def async_client(self) -> AsyncKiketClient:
        """The SDK's async API client (created on first use; its pool serves every delivery)."""
        if self._async_client is None:
            from kiket_sdk._client import AsyncKiketClient

            self._async_client = AsyncKiketClient(
                base_url=self.base_url, workspace_token=self.workspace_token
            )
        return self._async_client

    @property
    def client(self) -> KiketClient:
        """The SDK's sync API client (created on first use)."""
        if self._sync_client is None:
            from kiket_sdk._client import KiketClient

            self._sync_client = KiketClient(
                base_url=self.base_url, workspace_token=self.workspace_token
            )
        return self._sync_client

    @property
    def base_url(self) -> str:
        """The API and JWKS base URL (no trailing slash). Set it only between serving periods
        (as ``kiket_sdk.testing.route_outbound`` does, after ``aclose()``): clients made
        afterwards and the telemetry sent to the API follow it."""
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        self._base_url = value
        telemetry: TelemetryReporter | None = getattr(self, "telemetry", None)
        if telemetry is not None and self._telemetry_on:
            telemetry.target = self._telemetry_target(self._telemetry_url)

    def _telemetry_target(self, url: str | None) -> TelemetryTarget | None:
        """``{url}/telemetry``, else the API's telemetry endpoint when authenticated, else none.

        A ``KIKET_SDK_TELEMETRY_URL`` collector gets no workspace token.
        """
        from kiket_sdk._client_options import USER_AGENT, base_headers, checked_base_url

        if url:
            return TelemetryTarget(url.rstrip("/") + "/telemetry", {"user-agent": USER_AGENT})
        if self.workspace_token:
            try:
                base = checked_base_url(self.base_url)
            except ConfigurationError:
                return None  # the API client reports a bad base URL on first use
            return TelemetryTarget(
                base + "/api/v1/ext/telemetry",
                base_headers(self.workspace_token, {}),
                omit_nulls=True,
            )
        return None

    def _jwks(self) -> JWKSCache:
        if self._jwks_cache is None:
            # The JWKS fetch shares the API client's per-event-loop pools (no public handle).
            pools = self.async_client._pools  # pyright: ignore[reportPrivateUsage]
            self._jwks_cache = JWKSCache(jwks_url_for(self.base_url), pools.current)
        return self._jwks_cache

    def _make_pipeline(self) -> DeliveryPipeline:
        from kiket_sdk._delivery.api_hosts import ApiHostPolicy
        from kiket_sdk._delivery.dispatch import HandlerRunner
        from kiket_sdk._delivery.ledger import Ledger
        from kiket_sdk._delivery.pipeline import DeliveryPipeline
        from kiket_sdk._stores import MemoryDeliveryStore, delivery_store_from_env

        given = self.delivery_store
        created: list[DeliveryStore] = []

        def store() -> DeliveryStore:
            if given is not None:
                return given
            if self._memory_ledger is not None:
                return self._memory_ledger
            if not created:
                made = delivery_store_from_env()
                if isinstance(made, MemoryDeliveryStore):
                    # The process's ledger: it outlives a serving period (a lifespan, a
                    # TestClient session), so an event handled before is still answered.
                    self._memory_ledger = made
                    return made
                created.append(made)
            return created[0]

        async def close_created_store() -> None:
            for made in created:  # a Redis store made from KIKET_REDIS_URL: its data stays
                await made.aclose()

        return DeliveryPipeline(
            handlers=self._handlers,
            verifier=self.verifier,
            ledger=Ledger(
                store,
                scope=self.extension_id or "-",
                deduplicate=self.deduplicate,
                duplicate_wait=self.duplicate_wait,
                lease=self.claim_lease,
            ),
            runner=HandlerRunner(
                make_async_client=lambda f: self.async_client.for_delivery(
                    f.auth.runtime_token, f.event_version, f.api_base_url
                ),
                make_sync_client=lambda f: self.client.for_delivery(
                    f.auth.runtime_token, f.event_version, f.api_base_url
                ),
                telemetry=self.telemetry,
                debug=self.debug,
                handler_timeout=self.handler_timeout,
            ),
            settings=MappingProxyType(self.settings),  # read-only in handlers
            extension_id=self.extension_id,
            extension_version=self.extension_version,
            api_hosts=ApiHostPolicy(self.base_url, self.allowed_api_hosts),
            telemetry=self.telemetry,
            shutdown_grace=self.shutdown_grace,
            on_close=close_created_store,
            observers=self.observers,
        )

    # -- serving -------------------------------------------------------------------------

    @property
    def pipeline(self) -> DeliveryPipeline:
        """The framework-free inbound pipeline (``await sdk.pipeline.handle(delivery)``); one
        per serving period (a new one after `aclose`)."""
        if self._pipeline is None:
            self._pipeline = self._make_pipeline()
        return self._pipeline

    def _health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "extension_id": self.extension_id,
            "extension_version": self.extension_version,
            "sdk_version": __version__,
            "registered_events": self.registered_events,
        }

    def _routes(self) -> list[Any]:
        from kiket_sdk._delivery.edge import EdgeLimits, build_routes

        return build_routes(
            lambda: self.pipeline,
            EdgeLimits(self.max_body_size, self.body_timeout),
            self._health,
        )

    @contextlib.asynccontextmanager
    async def lifespan(self, app: object = None) -> AsyncGenerator[None, None]:
        """The SDK's lifespan: while it runs, deferred work goes on after each answer and is
        waited for at the end (up to ``shutdown_grace`` seconds), then the pools and the
        ledger's store are closed. ``uvicorn main:sdk`` and ``app.include_router(sdk.router)``
        run it for you; in any other host, enter it from the host's own lifespan.

        Served without it, each delivery's deferred work runs before its request ends, and one
        warning is logged (see the README's "Inside a host app").

        Example::

            @contextlib.asynccontextmanager
            async def lifespan(app: Starlette) -> AsyncGenerator[None, None]:
                async with sdk.lifespan(app):
                    yield

            host = Starlette(routes=[Mount("/kiket", app=sdk)], lifespan=lifespan)
        """
        self.pipeline.lifespan = "running"
        try:
            yield
        finally:
            await self.aclose()

    @property
    def app(self) -> FastAPI:
        """The FastAPI app: the webhook routes, ``/health``, ``/docs`` and ``/openapi.json``;
        its lifespan is `lifespan`."""
        if self._app is None:
            from kiket_sdk._delivery.edge import build_app
            from kiket_sdk._docs import install_docs

            self._app = build_app(
                routes=self._routes(),
                title=self.title,
                version=self.extension_version or "0.0.0",
                lifespan=self.lifespan,
            )
            install_docs(self._app, lambda: self.handlers)
        return self._app

    @property
    def router(self) -> APIRouter:
        """An ``APIRouter`` to include in your FastAPI app: the webhook routes, ``/health``,
        each registered webhook documented in your app's ``/openapi.json``, the SDK's errors
        as ``{"error": ...}`` bodies, and the SDK's `lifespan` (FastAPI runs the lifespans of
        included routers). One router per SDK.

        Include it after registering the handlers: FastAPI versions before 0.165 copy a
        router's routes when it is included, so a handler registered later is served but not
        documented in your app.

        Example::

            app = FastAPI()
            app.include_router(sdk.router, prefix="/kiket")
        """
        if self._router is None:
            from kiket_sdk._delivery.edge import build_router
            from kiket_sdk._docs import documentation_routes

            self._router = build_router(
                [*self._routes(), *documentation_routes(self._handlers.values())],
                self.lifespan,
            )
        return self._router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Deliveries skip FastAPI's middleware stack (about half the cost of a delivery);
        # everything else -- lifespan, /health, /docs, 404s and 405s -- goes to the app.
        if scope["type"] == "http" and scope["method"] == "POST":
            endpoint = self._endpoint or self._webhook_endpoint()
            route = endpoint.route_of(scope)
            if route is not None:  # matched once, here; the endpoint does not match again
                await endpoint.serve(scope, receive, send, route)
                return
        await self.app(scope, receive, send)

    def _webhook_endpoint(self) -> WebhookEndpoint:
        if self._endpoint is None:
            from kiket_sdk._delivery.edge import EdgeLimits, WebhookEndpoint

            self._endpoint = WebhookEndpoint(
                lambda: self.pipeline, EdgeLimits(self.max_body_size, self.body_timeout)
            )
        return self._endpoint

    def run(self, host: str | None = None, port: int | None = None, **uvicorn_options: Any) -> None:
        """Serve the extension with uvicorn until it is stopped (blocks).

        - ``host``: the interface to bind; default ``$HOST``, else ``127.0.0.1`` (reachable
          from this machine only, uvicorn's default). In a container, set ``HOST=0.0.0.0`` (or
          pass ``host="0.0.0.0"``) so the platform can reach the extension.
        - ``port``: default ``$PORT`` (the platform's containers set it), else 8000.
        - ``uvicorn_options``: passed to ``uvicorn.run`` (``log_level="info"``, ...).

        A host that is not an address or host name, or a port that is not a number in 1-65535
        (``PORT=abc``), ends the process before serving with one line on stderr and exit
        status 2, as ``kiket-sdk run`` does.

        Example::

            sdk.run()                            # 127.0.0.1:$PORT, else 127.0.0.1:8000
            sdk.run(host="0.0.0.0", port=8080)   # every interface, e.g. in a container
        """
        import uvicorn

        from kiket_sdk._serving import listen_host, listen_port

        try:
            host, port = listen_host(host), listen_port(port)
        except ConfigurationError as exc:  # the process's entry point: one line, no traceback
            print(f"kiket-sdk: error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        uvicorn.run(self, host=host, port=port, **uvicorn_options)

    async def aclose(self) -> None:
        """Wait for deferred work and telemetry (up to ``shutdown_grace``), close the pools.

        Runs at the app's shutdown. The SDK can serve again afterwards (a new runtime and new
        pools are made on first use), so one SDK can back several ``TestClient`` sessions.
        """
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            await pipeline.shutdown()
        await self.telemetry.drain()
        async_client, self._async_client, self._jwks_cache = self._async_client, None, None
        if async_client is not None:
            await async_client.aclose()
        sync_client, self._sync_client = self._sync_client, None
        if sync_client is not None:
            sync_client.close()
