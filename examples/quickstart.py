"""Quickstart: one extension touching the everyday parts of the SDK.

Run it locally against a fake Kiket API (the dev command prints a webhook secret and a ready
``kiket-sdk send ...`` line)::

    kiket-sdk dev examples.quickstart:sdk

In production the webhook secret comes from ``KIKET_WEBHOOK_SECRET`` (or the manifest); it is
never hard-coded here.
"""

from __future__ import annotations

import logging

from kiket_sdk import Allow, Deny, HandlerContext, KiketSDK, allow, deny
from kiket_sdk.events import (
    AutomationDispatch,
    ExtensionTestConnection,
    IssueCreated,
    IssueCreatedV2,
    WorkflowSlaStatus,
)

logger = logging.getLogger(__name__)

sdk = KiketSDK(extension_id="com.example.marketing", extension_version="1.0.0")

LOW_RATE_LIMIT = 5
"""Below this many remaining API calls, the automation handler warns the workspace."""


@sdk.webhook("issue.created", version="v1")
async def on_issue_created(event: IssueCreated, ctx: HandlerContext) -> Allow:
    """Log the issue, remember it, and make sure its reporter is a CRM contact."""
    issue = event.issue
    await ctx.endpoints.log_event("issue.received", issue_id=issue.id, title=issue.title)
    await ctx.endpoints.secrets.set("LAST_SEEN_ISSUE", str(issue.key or issue.id))
    project_id = issue.project_id or (event.project.id if event.project else None)
    created = False
    email = issue.created_by.email if issue.created_by else None
    if project_id is not None and email:
        contacts = ctx.endpoints.custom_data(project_id)
        found = await contacts.list("crm", "contacts", limit=1, filters={"email": email})
        if not found.data:
            await contacts.create("crm", "contacts", {"email": email, "source": "issue"})
            created = True
    return allow(message=f"Tracked {issue.title}", data={"contact_created": created})


@sdk.webhook("issue.created", version="v2")
async def on_issue_created_v2(event: IssueCreatedV2, ctx: HandlerContext) -> Allow:
    """v2 adds ``actor`` and ``custom_fields``: log them too."""
    actor = event.actor.email if event.actor else None
    await ctx.endpoints.log_event(
        "issue.received", issue_id=event.issue.id, actor=actor, fields=event.custom_fields or {}
    )
    return allow(message=f"Tracked {event.issue.title} (v2)")


@sdk.webhook("workflow.sla_status", version="v1")
async def on_sla_status(event: WorkflowSlaStatus, ctx: HandlerContext) -> Allow:
    """When an SLA is about to breach, tell the workspace how many more are close."""
    project_id = event.project.id if event.project else event.issue.project_id
    if project_id is None:
        return allow(message="no project")
    imminent = await ctx.endpoints.sla_events(project_id).list(state="imminent", limit=5)
    if imminent.data:
        await ctx.endpoints.notify(
            "SLAs at risk",
            f"{len(imminent.data)} SLA(s) about to breach in project {project_id}",
            level="warning",
        )
    return allow(message="checked", data={"imminent": len(imminent.data)})


@sdk.webhook("automation.dispatch", version="v1")
async def on_automation(event: AutomationDispatch, ctx: HandlerContext) -> Allow:
    """Run the dispatched action, warning the workspace when the API budget runs low."""
    budget = await ctx.endpoints.rate_limit()
    if budget.remaining is not None and budget.remaining < LOW_RATE_LIMIT:
        await ctx.endpoints.notify(
            "Kiket API budget low",
            f"{budget.remaining} calls left; resets in {budget.reset_in} s",
            level="warning",
        )
    action = event.automation.get("action")
    await ctx.endpoints.log_event("automation.ran", action=action)
    return allow(message=f"ran {action}", data={"remaining": budget.remaining})


@sdk.webhook("extension.testConnection", version="v1")
async def on_test_connection(event: ExtensionTestConnection, ctx: HandlerContext) -> Allow | Deny:
    """The "Test connection" button: check the credentials and show where mail goes."""
    if not ctx.secret("MAILJET_API_KEY"):
        return deny("MAILJET_API_KEY is not configured")
    org = event.organization.subdomain if event.organization else "workspace"
    return allow(
        "Connected",
        output_fields={"inbound_email": f"support@{org}.kiket.dev", "status": "connected"},
    )
