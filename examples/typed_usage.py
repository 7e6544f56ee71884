# pyright: strict
"""Every public entry point, written the way an extension author writes it, fully typed.

``nox -s typed_usage`` checks this module with ``mypy --strict`` and pyright in strict mode: a
public name whose type leaks ``Any`` or loses a handler's signature fails there. ``main()`` also
runs it end to end against a fake Kiket API on loopback (``tests/test_typed_usage.py``)::

    python -m examples.typed_usage
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import warnings
from collections.abc import AsyncGenerator
from typing import Any

import httpx

import kiket_sdk
from kiket_sdk import (
    Allow,
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AsyncKiketClient,
    AuthContext,
    AuthenticationError,
    BadRequestError,
    BaseHandlerContext,
    ClientClosedError,
    ConfigurationError,
    ConflictError,
    DeliveryStore,
    Deny,
    ExtensionManifest,
    HandlerContext,
    InternalServerError,
    KiketClient,
    KiketSDK,
    KiketSDKError,
    MemoryDeliveryStore,
    NotFoundError,
    Pending,
    PermissionDeniedError,
    RateLimitError,
    RedisDeliveryStore,
    RegistrationWarning,
    ScopeError,
    SigningKeysUnavailableError,
    SyncHandlerContext,
    TelemetryRecord,
    UnprocessableEntityError,
    WebhookVerificationError,
    allow,
    deny,
    load_manifest,
    pending,
    webhook,
)
from kiket_sdk.auth import generate_signature, verify_signature
from kiket_sdk.events import IssueCreated, IssueCreatedV2, SlaBreach, payload_model
from kiket_sdk.stores import delivery_store_from_env
from kiket_sdk.testing import (
    FakeKiket,
    RecordedCall,
    deliver,
    deliver_sync,
    event_payload,
    route_outbound,
    settle,
    signed_headers,
)

SECRET = "example-webhook-secret"  # noqa: S105 - test values, never real secrets
TOKEN = "wk_example"  # noqa: S105

seen: list[str] = []
telemetry: list[TelemetryRecord] = []


async def record_telemetry(record: TelemetryRecord) -> None:
    """A feedback hook: every handler call, as the SDK reports it."""
    telemetry.append(record)


sdk = KiketSDK(
    webhook_secret=SECRET,
    workspace_token=TOKEN,
    extension_id="com.example.typed",
    extension_version="1.0.0",
    delivery_store=MemoryDeliveryStore(),
    feedback_hook=record_telemetry,
    telemetry_url=None,
    manifest_path=None,
)


# -- handlers of both kinds, each decorator keeping the handler's own signature ---------------


@sdk.webhook("issue.created", version="v1", required_scopes=["issues.read"])
async def on_issue_created(event: IssueCreated, ctx: HandlerContext) -> Allow:
    """Async handler: awaitable helpers on ``HandlerContext``."""
    auth: AuthContext = ctx.auth
    ctx.require_scopes("issues.read")  # raises ScopeError (answered 403) when not granted
    client: AsyncKiketClient = ctx.client  # the delivery's client: its runtime token, its version
    facts = (ctx.delivery_id, dict(ctx.headers), dict(ctx.settings), dict(ctx.payload_secrets))
    print(type(client).__name__, ctx.extension_version, len(facts))
    seen.append(f"{ctx.event}@{ctx.event_version} {event.issue.title} via {auth.proof}")
    await ctx.endpoints.log_event("issue.seen", id=str(event.issue.id))
    ctx.defer(seen.append, "deferred after the answer")
    return allow(message="ok", data={"id": str(event.issue.id)})


@sdk.webhook("issue.created", version="V2")  # any spelling registration accepts is typed
def on_issue_created_v2(event: IssueCreatedV2, ctx: SyncHandlerContext) -> Deny:
    """Plain ``def`` handler: blocking helpers on ``SyncHandlerContext``."""
    ctx.endpoints.log_event("issue.seen", id=str(event.issue.id))
    token: str | None = ctx.secret("EXAMPLE_TOKEN")
    seen.append(f"v2 {event.issue.title} token={'set' if token else 'unset'}")
    return deny("v2 issues are closed for now")


@webhook("sla.breach")  # marked here, registered by sdk.load(module)
def on_sla_breach(event: SlaBreach, ctx: BaseHandlerContext) -> Pending:
    """A handler may take the base context when it uses no API helper."""
    seen.append(f"sla breach in {ctx.extension_id}: {event.model_dump(by_alias=True)!r:.20}")
    return pending("looking into it")


async def on_custom(event: dict[str, Any]) -> None:
    """An uncatalogued event: the payload is the plain JSON object."""
    seen.append(f"custom {sorted(event)}")


with warnings.catch_warnings():
    warnings.simplefilter("error", RegistrationWarning)  # a misspelt catalogued name would warn
    sdk.register("custom.ping", on_custom)
    sdk.load(sys.modules[__name__])  # registers on_sla_breach, marked with @webhook


async def call_handlers_directly(ctx: HandlerContext, sync_ctx: SyncHandlerContext) -> None:
    """Decorated handlers are still the functions they were: callable by keyword in tests."""
    payload = IssueCreated.model_validate(event_payload("issue.created"))
    answer: Allow = await on_issue_created(event=payload, ctx=ctx)
    v2 = IssueCreatedV2.model_validate(event_payload("issue.created", "v2"))
    refusal: Deny = on_issue_created_v2(event=v2, ctx=sync_ctx)
    print(answer.status, refusal.message)


# -- the SDK object --------------------------------------------------------------------------


def inspect_sdk(app: KiketSDK) -> list[str]:
    """Properties and registration queries of a `KiketSDK`."""
    assert (app.allow, app.deny, app.pending) == (allow, deny, pending)
    routes: list[str] = app.registered_events
    specs = app.handlers
    assert set(specs) == {(r.split("@")[0], r.split("@")[1]) for r in routes}
    facts: list[str | None] = [
        app.extension_id,
        app.extension_version,
        app.base_url,
        app.workspace_token,
        app.title,
    ]
    print(facts, app.settings, app.allowed_api_hosts, app.max_body_size, app.handler_timeout)
    print(type(app.app).__name__, type(app.router).__name__, type(app.pipeline).__name__)
    clients: tuple[AsyncKiketClient, KiketClient] = (app.async_client, app.client)
    print([type(c).__name__ for c in clients])
    return routes


@contextlib.asynccontextmanager
async def host_lifespan(app: object) -> AsyncGenerator[None]:
    """How a host app runs the SDK's lifespan (deferred work, pools, ledger)."""
    async with sdk.lifespan(app):
        yield


def serve() -> None:
    """Production: ``uvicorn examples.typed_usage:sdk``, or this (blocks; $HOST and $PORT)."""
    sdk.run(port=8080, log_level="info")


async def shut_down() -> None:
    """What a host does at its shutdown when it does not run `sdk.lifespan`."""
    await sdk.aclose()


# -- outbound clients ------------------------------------------------------------------------


def use_sync_client(base_url: str) -> int:
    """A few operations of the blocking client; returns the remaining rate-limit budget."""
    with KiketClient(base_url=base_url, workspace_token=TOKEN, max_retries=0) as client:
        budget = client.extension.rate_limit().rate_limit
        client.extension.notify(title="Hello", body="from the sync client", level="info")
        fast: KiketClient = client.with_options(timeout=5.0)
        fast.custom_data.list("com.example.crm", "contacts", project_id=42, limit=1)
        return budget.remaining or 0


async def use_async_client(base_url: str) -> str:
    """A few operations of the async client, and its error tree."""
    async with AsyncKiketClient(base_url=base_url, workspace_token=TOKEN) as client:
        url = await client.webhooks.get_url(action_name="inbound_email")
        try:
            await client.custom_data.get("com.example.crm", "contacts", 404_404, project_id=42)
        except NotFoundError as error:
            status: int = error.status_code
            print("not found:", status)
        except APIStatusError as error:
            print("other status:", error.status_code)
        return url.webhook_url


def describe(error: KiketSDKError) -> str:
    """The error tree, from the most specific class to the root."""
    kinds: tuple[type[KiketSDKError], ...] = (
        BadRequestError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        ConflictError,
        UnprocessableEntityError,
        RateLimitError,
        InternalServerError,
        APIStatusError,
        APITimeoutError,
        APIConnectionError,
        APIError,
        ClientClosedError,
        ConfigurationError,
        WebhookVerificationError,
        SigningKeysUnavailableError,
    )
    if isinstance(error, ScopeError):
        return f"scopes missing: {error.missing_scopes} of {error.required_scopes}"
    return next((kind.__name__ for kind in kinds if isinstance(error, kind)), "KiketSDKError")


# -- stores, manifest, signatures ------------------------------------------------------------


def choose_store(redis_url: str | None) -> DeliveryStore:
    """A store for the delivery ledger: Redis when configured, else in memory."""
    if redis_url:
        return RedisDeliveryStore.from_url(redis_url, prefix="typed-example:")
    return delivery_store_from_env({}) if redis_url is None else MemoryDeliveryStore()


def read_manifest() -> ExtensionManifest | None:
    """The extension's manifest, when there is one beside the working directory."""
    return load_manifest(None)


def sign_and_check(body: bytes) -> bool:
    """Sign a body as Kiket does and check the signature as the SDK does."""
    signed = generate_signature(SECRET, body)
    headers = signed_headers(SECRET, body)
    verify_signature(SECRET, body, signed["signature"], signed["timestamp"])
    return headers["X-Kiket-Signature"] == signed["signature"]


# -- the test kit ----------------------------------------------------------------------------


def main() -> list[str]:
    """Deliver one event of each handler kind through a fake Kiket; returns what was seen."""
    assert payload_model("sla.breach", "v1") is SlaBreach
    calls: list[RecordedCall] = []
    fake = FakeKiket(workspace_token=TOKEN, on_call=calls.append)
    with fake.serve() as url:
        previous = route_outbound(sdk, url)
        try:
            first: httpx.Response = deliver_sync(
                sdk, "issue.created", event_payload("issue.created")
            )
            second = deliver_sync(sdk, "issue.created", event_payload("issue.created", "v2"), "v2")
            third = asyncio.run(deliver(sdk, "sla.breach", event_payload("sla.breach")))
            fourth = deliver_sync(sdk, "custom.ping", {"hello": "world"})
            print([r.status_code for r in (first, second, third, fourth)])
            print(use_sync_client(url), asyncio.run(use_async_client(url)))
        finally:
            settle(sdk)
            route_outbound(sdk, previous)
            asyncio.run(shut_down())
    print(inspect_sdk(sdk), sign_and_check(b"{}"), len(calls), len(telemetry))
    print(kiket_sdk.__version__, describe(ScopeError(["a", "b"], ["b"])))
    return seen


if __name__ == "__main__":
    main()
