"""``ctx.endpoints``: the extension's everyday API calls, typed.

``Endpoints`` wraps a ``KiketClient`` (inside a delivery: the delivery's copy, which already
sends the runtime token and event version) and fills in what the context knows: the extension
id for ``/api/v1/extensions/{extension_id}/...`` paths and the handler's event version for
``log_event``. ``AsyncEndpoints`` is its awaited twin with the same names, for async handlers.

| Helper | Call |
|---|---|
| ``log_event(event, **data)`` | ``POST /api/v1/extensions/{id}/events`` (body below) |
| ``notify(title, body, level="info")`` | ``POST /api/v1/extensions/notifications`` |
| ``emit_metric(name, value, unit="count")`` | ``POST /api/v1/extensions/metrics`` |
| ``metadata()`` | ``GET /api/v1/extensions/{id}`` |
| ``rate_limit()`` | ``GET /api/v1/ext/rate_limit`` (the inner ``RateLimit``) |
| ``custom_data(project_id)`` / ``sla_events(..)`` / ``intake_forms(..)`` | generated helpers |
| ``webhook_url(action)`` / ``rotate_webhook_url(action)`` | ``/api/v1/ext/webhook_url[/rotate]`` |
| ``update_configuration(values)`` | ``PATCH /api/v1/ext/configuration`` |
| ``create_inbound_email(email, **fields)`` | ``POST /api/v1/ext/inbound_emails`` |
| ``secrets`` / ``audit`` | ``SecretManager`` / ``AuditClient`` |

The project helpers and most of ``audit`` are generated from the spec's ``x-kiket-scope``
annotations (``kiket_sdk._generated.endpoints``); this module only wires them to the delivery's
client and adds what the spec cannot say: the conveniences below (positional arguments, the
extension id and event version filled in, answers unwrapped), ``secrets`` (env first, see
``_secrets``), ``audit.verify(proof)`` and ``intake_forms(..).public_url``.

``log_event`` sends ``{event, version, data, timestamp}``: ``version`` is the handler's event
version (``ConfigurationError`` when there is none), ``timestamp`` the time of the call in
ISO-8601 UTC. A helper that needs the extension id raises ``ConfigurationError`` before any
request when it is unknown. Calls whose answer carries nothing return ``None``; API failures
raise the ``_exceptions`` tree.

```python
def on_issue_created(payload, ctx):
    ctx.endpoints.log_event("issue.synced", issue_id=payload.issue.id)
    if ctx.endpoints.rate_limit().remaining < 5:
        ctx.endpoints.notify("Slow down", "Rate limit nearly used up", level="warning")
```
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from kiket_sdk._audit import AsyncAuditClient, AuditClient
from kiket_sdk._client import AsyncKiketClient, KiketClient
from kiket_sdk._exceptions import ConfigurationError, KiketSDKError
from kiket_sdk._generated.endpoints import GeneratedAsyncEndpoints, GeneratedEndpoints
from kiket_sdk._generated.models import (
    ExtensionMetadata,
    InboundEmail,
    InboundEmailResponse,
    RateLimit,
    WebhookUrl,
)
from kiket_sdk._intake_forms import AsyncIntakeFormsClient, IntakeFormsClient
from kiket_sdk._secrets import AsyncSecretManager, SecretManager, require_extension_id

__all__ = [
    "AsyncAuditClient",
    "AsyncEndpoints",
    "AsyncSecretManager",
    "AuditClient",
    "Endpoints",
    "SecretManager",
]

ProjectId = int | str


def utc_timestamp() -> str:
    """Now as ISO-8601 UTC with milliseconds, e.g. ``2026-03-01T12:00:00.123Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _required_version(event_version: str | None) -> str:
    if event_version:
        return event_version
    raise ConfigurationError(
        "log_event needs the handler's event version: pass event_version= to Endpoints "
        "(inside a webhook delivery it is set for you)."
    )


def _inbound_email(
    email: InboundEmail | Mapping[str, Any] | None, fields: dict[str, Any]
) -> InboundEmail:
    base = (
        email.model_dump(exclude_unset=True) if isinstance(email, BaseModel) else dict(email or {})
    )
    try:
        return InboundEmail.model_validate({**base, **fields})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        )
        raise KiketSDKError(f"The inbound e-mail is not valid: {problems}.") from None


class Endpoints(GeneratedEndpoints[KiketClient]):
    """Blocking helpers for sync handlers (see the module docstring)."""

    def __init__(
        self, client: KiketClient, *, extension_id: str | None, event_version: str | None
    ) -> None:
        super().__init__(client)
        self.extension_id: str | None = extension_id or None
        self.event_version: str | None = event_version or None

    @functools.cached_property
    def secrets(self) -> SecretManager:
        """The extension's secret store."""
        return SecretManager(self.client, self.extension_id)

    @functools.cached_property
    def audit(self) -> AuditClient:
        """Audit anchors and Merkle proofs."""
        return AuditClient(self.client.audit)

    def intake_forms(self, project_id: ProjectId | None) -> IntakeFormsClient:
        """Intake forms and submissions of one project (``ConfigurationError`` without one)."""
        return IntakeFormsClient(self.client.intake_forms, project_id)

    def log_event(self, event: str, /, **data: Any) -> None:
        """Append ``event`` with ``data`` to the extension's event log (handler's version, now)."""
        extension_id = require_extension_id(self.extension_id, "log_event")
        version = _required_version(self.event_version)
        self.client.extension.log_event(
            extension_id, event=event, version=version, data=data, timestamp=utc_timestamp()
        )

    def notify(self, title: str, body: str, level: str = "info") -> None:
        """Show a notification in the workspace (``level``: info, success, warning, error)."""
        self.client.extension.notify(title=title, body=body, level=level)

    def emit_metric(self, name: str, value: float, unit: str = "count") -> None:
        """Record one metric sample."""
        self.client.extension.emit_metric(name=name, value=value, unit=unit)

    def metadata(self) -> ExtensionMetadata:
        """What the platform knows about this extension."""
        return self.client.extension.metadata(require_extension_id(self.extension_id, "metadata"))

    def rate_limit(self) -> RateLimit:
        """The current budget: ``limit``, ``remaining``, ``window_seconds``, ``reset_in``."""
        return self.client.extension.rate_limit().rate_limit

    def webhook_url(self, action_name: str) -> WebhookUrl:
        """The URL third parties post to so Kiket relays ``external.webhook.<action_name>``."""
        return self.client.webhooks.get_url(action_name=action_name)

    def rotate_webhook_url(self, action_name: str) -> WebhookUrl:
        """A new URL and token for the action; the previous URL stops working."""
        return self.client.webhooks.rotate_url(action_name=action_name)

    def update_configuration(self, configuration: Mapping[str, Any]) -> None:
        """Merge ``configuration`` into the installation's configuration."""
        self.client.extension.update_configuration(configuration=dict(configuration))

    def create_inbound_email(
        self, email: InboundEmail | Mapping[str, Any] | None = None, /, **fields: Any
    ) -> InboundEmailResponse:
        """Hand a parsed e-mail to the platform: a model or mapping, ``fields`` laid over it.

        ``from_email`` and ``to_email`` are required (``KiketSDKError`` before any request).
        """
        inbound = _inbound_email(email, fields)
        return self.client.inbound_emails.create(inbound_email=inbound)


class AsyncEndpoints(GeneratedAsyncEndpoints[AsyncKiketClient]):
    """Awaited helpers for async handlers: the same names as ``Endpoints``."""

    def __init__(
        self, client: AsyncKiketClient, *, extension_id: str | None, event_version: str | None
    ) -> None:
        super().__init__(client)
        self.extension_id: str | None = extension_id or None
        self.event_version: str | None = event_version or None

    @functools.cached_property
    def secrets(self) -> AsyncSecretManager:
        """The extension's secret store."""
        return AsyncSecretManager(self.client, self.extension_id)

    @functools.cached_property
    def audit(self) -> AsyncAuditClient:
        """Audit anchors and Merkle proofs."""
        return AsyncAuditClient(self.client.audit)

    def intake_forms(self, project_id: ProjectId | None) -> AsyncIntakeFormsClient:
        """Intake forms and submissions of one project (its methods are awaited)."""
        return AsyncIntakeFormsClient(self.client.intake_forms, project_id)

    async def log_event(self, event: str, /, **data: Any) -> None:
        """Append ``event`` with ``data`` to the extension's event log (handler's version, now)."""
        extension_id = require_extension_id(self.extension_id, "log_event")
        version = _required_version(self.event_version)
        await self.client.extension.log_event(
            extension_id, event=event, version=version, data=data, timestamp=utc_timestamp()
        )

    async def notify(self, title: str, body: str, level: str = "info") -> None:
        """Show a notification in the workspace (``level``: info, success, warning, error)."""
        await self.client.extension.notify(title=title, body=body, level=level)

    async def emit_metric(self, name: str, value: float, unit: str = "count") -> None:
        """Record one metric sample."""
        await self.client.extension.emit_metric(name=name, value=value, unit=unit)

    async def metadata(self) -> ExtensionMetadata:
        """What the platform knows about this extension."""
        extension_id = require_extension_id(self.extension_id, "metadata")
        return await self.client.extension.metadata(extension_id)

    async def rate_limit(self) -> RateLimit:
        """The current budget: ``limit``, ``remaining``, ``window_seconds``, ``reset_in``."""
        return (await self.client.extension.rate_limit()).rate_limit

    async def webhook_url(self, action_name: str) -> WebhookUrl:
        """The URL third parties post to so Kiket relays ``external.webhook.<action_name>``."""
        return await self.client.webhooks.get_url(action_name=action_name)

    async def rotate_webhook_url(self, action_name: str) -> WebhookUrl:
        """A new URL and token for the action; the previous URL stops working."""
        return await self.client.webhooks.rotate_url(action_name=action_name)

    async def update_configuration(self, configuration: Mapping[str, Any]) -> None:
        """Merge ``configuration`` into the installation's configuration."""
        await self.client.extension.update_configuration(configuration=dict(configuration))

    async def create_inbound_email(
        self, email: InboundEmail | Mapping[str, Any] | None = None, /, **fields: Any
    ) -> InboundEmailResponse:
        """Hand a parsed e-mail to the platform: a model or mapping, ``fields`` laid over it.

        ``from_email`` and ``to_email`` are required (``KiketSDKError`` before any request).
        """
        inbound = _inbound_email(email, fields)
        return await self.client.inbound_emails.create(inbound_email=inbound)
