"""Every user-facing error and log text of the inbound path, in one place.

Texts never contain a secret, a token, an internal URL or exception text from a library; parts
of the request echoed back (event names, versions, content types) are cut with `echo`.
"""

from __future__ import annotations

from collections.abc import Sequence

ECHO_LIMIT = 100
"""At most this many characters of a request part are echoed back in an error."""

MISSING_VERSION = (
    "missing event version: post to /v/{version}/webhooks/{event}, or send the "
    "X-Kiket-Event-Version header or ?version="
)
MALFORMED_JSON = "request body is not valid JSON"
NOT_AN_OBJECT = "request body must be a JSON object"
JSON_TOO_DEEP = "request body is nested too deeply"
JSON_NUMBER_TOO_LARGE = "request body holds a number too large to read"
BODY_TOO_LARGE = "request body is larger than the limit of {limit} bytes"
BODY_TIMEOUT = "request body was not received within {seconds:g} s"
BODY_INCOMPLETE = "client disconnected before sending the whole body"
BAD_CONTENT_LENGTH = "invalid Content-Length header"
UNSUPPORTED_MEDIA = "unsupported content type {content_type!r}: send application/json"
DUPLICATE_HEADER = "duplicate {name} header"
INVALID_PAYLOAD = "payload does not match the {event}@{version} schema"
INVALID_ENVELOPE = "the delivery's envelope (authentication, api, secrets, id) is malformed"
HANDLER_FAILED = "handler failed"
HANDLER_TIMEOUT = "handler did not finish within {seconds:g} s; retry later"
ANSWER_NOT_JSON = "handler returned an answer that is not JSON"
SHUTTING_DOWN = "extension is shutting down; retry later"
LEDGER_UNAVAILABLE = "the delivery ledger is unavailable; retry later"
IN_PROGRESS = "this event is being processed by another delivery; retry later"
PROOF_REUSED_SIGNATURE = (
    "this signature already vouched for another delivery (a different route or body)"
)
PROOF_REUSED_TOKEN = (
    "this runtime token already vouched for another delivery (a different route or body)"
)
EVENT_MISMATCH = (
    "the signed body is for another route than {route!r} (its event, event_type or "
    "event_version field differs)"
)
SIGNATURE_WITHOUT_SECRET = (
    "the delivery is signed (X-Kiket-Signature) but no webhook secret is configured: set "
    "KIKET_WEBHOOK_SECRET or pass webhook_secret="
)
METHOD_NOT_ALLOWED = "method not allowed here; allowed: {allowed}"
NO_LIFESPAN = (
    "a delivery was served without the SDK's lifespan (a sub-app mount, a host app that does "
    "not run router lifespans, or TestClient without 'with'): each delivery's deferred work now "
    "runs before its request ends, and nothing drains work or closes pools at shutdown. Serve "
    "the SDK itself (uvicorn main:sdk), include sdk.router in a FastAPI app, or enter "
    "sdk.lifespan(app) in your app's lifespan."
)
SIGNATURE_WITHOUT_SECRET_TOKEN_REFUSED = (
    SIGNATURE_WITHOUT_SECRET + " (its runtime token, the proof this SDK checks without a "
    "secret, was refused too: {reason})"
)
SIGNATURE_EXPECTED = (
    "missing X-Kiket-Signature header: a webhook secret is configured, so only HMAC-signed "
    "deliveries are accepted (a runtime token alone is accepted only by an SDK with no webhook "
    "secret)"
)
TOKEN_EXPECTED_WITH_HMAC = (
    "the delivery carries no runtime token (authentication.runtime_token): "
    "verify_runtime_token=True checks one besides the HMAC signature"
)
RUNTIME_TOKENS_ONLY = (
    "no webhook secret is configured (set KIKET_WEBHOOK_SECRET or pass webhook_secret=): "
    "only deliveries carrying a runtime token, checked against the keys published by %s, "
    "will be accepted; HMAC-signed deliveries will be refused"
)
VERIFY_DISABLED = (
    "webhook verification is DISABLED (verify=False): any caller can invoke your handlers. "
    "Use this for local development only."
)
API_BASE_URL_REFUSED = (
    "ignoring the delivery's api.base_url %s: its scheme, host or port is not allowed for "
    "credentials; calls go to the configured base URL. Pass allowed_api_hosts= to allow it."
)


def echo(text: str) -> str:
    """``text`` cut to `ECHO_LIMIT` characters (with an ellipsis when cut).

    >>> echo("x" * 500)[-4:], len(echo("x" * 500))
    ('xxx…', 101)
    """
    return text if len(text) <= ECHO_LIMIT else text[:ECHO_LIMIT] + "…"


def no_handler(
    event: str, version: str, registered: Sequence[str], closest: str | None = None
) -> str:
    """404 text: which versions of the event do have handlers, and the registered route
    (``event@version``) closest to the one asked for.

    >>> no_handler("issue.craeted", "v1", [], "issue.created@v1")
    "no handler registered for event 'issue.craeted'; did you mean issue.created@v1?"
    """
    event, version = echo(event), echo(version)
    hint = f"; did you mean {closest}?" if closest else ""
    if registered:
        return (
            f"no handler for {event}@{version}; registered versions of {event}: "
            f"{', '.join(registered)}{hint}"
        )
    return f"no handler registered for event {event!r}{hint}"


def unhandled_snippet(event: str, version: str) -> str:
    """A ready-to-paste handler for an event that arrived with no handler (logged once)."""
    return (
        f"Unhandled delivery {event}@{version}. Add a handler:\n\n"
        f'@sdk.webhook("{event}", version="{version}")\n'
        f"async def handle(event: dict, ctx: HandlerContext) -> Allow:\n"
        f'    return allow(message="ok")\n'
    )
