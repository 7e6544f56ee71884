"""Type-checked by ``test_typing.py`` with ``mypy --strict`` (not collected by pytest)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from kiket_sdk import Allow, HandlerContext, KiketSDK, SyncHandlerContext, allow, deny
from kiket_sdk.events import IssueCreated, IssueCreatedV2

sdk = KiketSDK(webhook_secret="sh_123")


@sdk.webhook("issue.created", version="v1")
async def on_issue(event: IssueCreated, ctx: HandlerContext) -> Allow:
    title: str = event.issue.title
    org: str | int | None = ctx.auth.org_id
    secret: str | None = ctx.secret("API_KEY")
    return allow(message=f"{title} {org} {secret}", output_fields={"k": "v"})


@sdk.webhook("issue.created", version="v2", required_scopes=["issues.read"])
async def on_issue_v2(event: IssueCreatedV2, ctx: HandlerContext) -> dict[str, Any]:
    return {"actor": event.actor.id}


@sdk.webhook("issue.updated", version="v1")
def on_update_dict(event: dict[str, Any], ctx: SyncHandlerContext) -> None:
    ctx.require_scopes("issues.write")


@sdk.webhook("extension.testConnection")
async def on_test(event: dict[str, Any]) -> Any:
    return deny("no")


handler: Callable[[IssueCreated, HandlerContext], Coroutine[Any, Any, Allow]] = on_issue
registered: int = len(sdk.handlers)
