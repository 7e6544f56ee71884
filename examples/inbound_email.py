"""Inbound e-mail: turn a relayed mail-provider webhook into a Kiket inbound e-mail.

The provider (Mailjet Parse here) posts to the extension's external webhook URL; Kiket relays
the raw request as ``external.webhook.inbound_email``. The handler checks the shared token the
provider was configured with (header ``X-Webhook-Token`` or query ``?token=``) against the
``MAILJET_WEBHOOK_TOKEN`` secret, normalises the body and posts it to
``/api/v1/ext/inbound_emails``::

    kiket-sdk dev examples.inbound_email:sdk
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from typing import Any, cast

from kiket_sdk import Allow, Deny, HandlerContext, KiketSDK, allow, deny
from kiket_sdk.events import ExternalWebhook, ExternalWebhookInboundEmail

sdk = KiketSDK(extension_id="com.example.inbound-email", extension_version="1.0.0")

TOKEN_HEADER = "x-webhook-token"  # noqa: S105 - a header name
TOKEN_QUERY = "token"  # noqa: S105 - the name of a query parameter, not a secret
_ADDRESS = re.compile(r"^\s*(?:\"?(?P<name>[^\"<]*?)\"?\s*<(?P<addr>[^>]+)>|(?P<bare>\S+@\S+))\s*$")


def supplied_token(hook: ExternalWebhook) -> str | None:
    """The token the sender supplied, from the header or the query string."""
    for name, value in (hook.headers or {}).items():
        if name.lower() == TOKEN_HEADER:
            return value
    query = (hook.query_params or {}).get(TOKEN_QUERY)
    return str(query) if query is not None else None


def _address(value: object) -> tuple[str | None, str | None]:
    """``("Sam", "sam@x")`` from ``"Sam <sam@x>"`` or ``"sam@x"``."""
    if not isinstance(value, str):
        return None, None
    match = _ADDRESS.match(value)
    if match is None:
        return None, None
    if match["bare"]:
        return None, match["bare"]
    return (match["name"] or "").strip() or None, match["addr"].strip()


def _first(body: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if body.get(key) not in (None, ""):
            return body[key]
    return None


def normalise(body: Mapping[str, Any]) -> dict[str, Any]:
    """Map a generic (from/to/subject/text/html) or Mailjet Parse body to an ``InboundEmail``."""
    from_name, from_email = _address(_first(body, "from", "From", "Sender"))
    _, to_email = _address(_first(body, "to", "To", "Recipient"))
    email: dict[str, Any] = {
        "from_email": from_email,
        "to_email": to_email,
        "subject": _first(body, "subject", "Subject"),
        "text_body": _first(body, "text", "Text-part"),
        "html_body": _first(body, "html", "Html-part"),
    }
    if from_name:
        email["from_name"] = from_name
    return {key: value for key, value in email.items() if value is not None}


@sdk.webhook("external.webhook.inbound_email", version="v1")
async def on_inbound_email(event: ExternalWebhookInboundEmail, ctx: HandlerContext) -> Allow | Deny:
    """Check the sender's token, then hand the normalised e-mail to Kiket."""
    hook = event.external_webhook
    expected = ctx.secret("MAILJET_WEBHOOK_TOKEN")
    supplied = supplied_token(hook)
    if not expected:
        return deny("MAILJET_WEBHOOK_TOKEN is not configured")
    if supplied is None or not hmac.compare_digest(supplied.encode(), expected.encode()):
        return deny("the relayed request does not carry the shared webhook token")
    try:
        body = json.loads(hook.body)
    except ValueError:
        return deny("the relayed body is not JSON")
    if not isinstance(body, dict):
        return deny("the relayed body is not a JSON object")
    email = normalise(cast("dict[str, Any]", body))  # parsed JSON: its keys are strings
    if "from_email" not in email or "to_email" not in email:
        return deny("the relayed e-mail has no sender or recipient")
    stored = await ctx.endpoints.create_inbound_email(email, raw_payload=hook.body)
    return allow(message="e-mail stored", data={"inbound_email_id": stored.id})
