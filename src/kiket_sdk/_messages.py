"""Every user-facing error and log text of the webhook runtime, in one place."""

from __future__ import annotations

from collections.abc import Sequence

MISSING_VERSION = (
    "missing event version: post to /v/{version}/webhooks/{event}, or send the "
    "X-Kiket-Event-Version header or ?version="
)
MALFORMED_JSON = "request body is not valid JSON"
NOT_AN_OBJECT = "request body must be a JSON object"
BODY_TOO_LARGE = "request body is larger than the limit of {limit} bytes"
UNSUPPORTED_MEDIA = "unsupported content type {content_type!r}: send application/json"
DUPLICATE_HEADER = "duplicate {name} header"
INVALID_PAYLOAD = "payload does not match the {event}@{version} schema"
HANDLER_FAILED = "handler failed"
HANDLER_TIMEOUT = "handler did not finish within {seconds:g} s; retry later"
VERIFY_DISABLED = (
    "webhook verification is DISABLED (verify=False): any caller can invoke your handlers. "
    "Use this for local development only."
)


def no_handler(event: str, version: str, registered: Sequence[str]) -> str:
    """404 text: which versions of the event do have handlers."""
    if registered:
        return (
            f"no handler for {event}@{version}; registered versions of {event}: "
            f"{', '.join(registered)}"
        )
    return f"no handler registered for event {event!r}"


def unhandled_snippet(event: str, version: str) -> str:
    """A ready-to-paste handler for an event that arrived with no handler (logged once)."""
    return (
        f"Unhandled delivery {event}@{version}. Add a handler:\n\n"
        f'@sdk.webhook("{event}", version="{version}")\n'
        f"async def handle(event: dict, ctx: HandlerContext) -> Allow:\n"
        f'    return allow(message="ok")\n'
    )
