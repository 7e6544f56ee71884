"""``kiket-sdk send``, ``sign`` and ``events``: exercise an extension by hand.

``send`` builds a payload (the spec's example for the event, or ``--file``), applies
``--set PATH=VALUE`` edits, signs the exact bytes it posts and prints the answer. ``sign``
prints the signature headers for a body, for use with curl or another client. ``events``
lists the catalogue: every event, version, payload model and field ``send`` understands.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from kiket_sdk._cli._common import CLIError, out
from kiket_sdk._cli._network import network_failure, os_reason
from kiket_sdk._delivery.request import webhook_path
from kiket_sdk._json_shapes import is_json_object

__all__ = ["DEFAULT_URL", "cmd_events", "cmd_send", "cmd_sign", "webhook_url"]

DEFAULT_URL = "http://127.0.0.1:8000"
"""Where ``send`` posts by default: ``kiket-sdk run``/``dev`` on their default port."""


def webhook_url(base: str, version: str, event: str) -> str:
    """The delivery URL of ``event`` at ``version`` under ``base``, its query kept at the end.

    The path ``/v/{version}/webhooks/{event}`` is appended to ``base``'s path with
    ``urllib.parse`` (segments percent-encoded), so a query in ``--url`` stays a query:

    >>> webhook_url("http://127.0.0.1:1/kiket?token=X", "v1", "issue.created")
    'http://127.0.0.1:1/kiket/v/v1/webhooks/issue.created?token=X'
    """
    parts = urlsplit(base)
    path = parts.path.rstrip("/") + webhook_path(event, version)
    return urlunsplit(parts._replace(path=path, fragment=""))


def _read_json(path: str) -> tuple[bytes, Any]:
    """The ``--file``'s raw bytes (what gets signed) and their parsed JSON; a usage error
    naming ``--file`` when it cannot be read or parsed."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CLIError(f"argument --file: cannot read {path}: {os_reason(exc)}") from None
    try:
        return raw, json.loads(raw)
    except ValueError as exc:
        raise CLIError(f"argument --file: {path} is not valid JSON: {exc}") from None


def _secret(value: str | None) -> str:
    """``--secret``, else ``$KIKET_WEBHOOK_SECRET``; signing without one is an error."""
    secret = value or os.environ.get("KIKET_WEBHOOK_SECRET")
    if not secret:
        raise CLIError("no webhook secret: pass --secret or set KIKET_WEBHOOK_SECRET")
    return secret


def cmd_send(args: argparse.Namespace) -> int:
    """Sign and post one event; exit code 0 when the extension answered 2xx, else 1.

    ``args`` are already checked by ``_arguments`` (``--set`` is a list of ``(path, value)``).
    A network failure is one line naming the URL (``cannot connect to URL: connection
    refused``, query values shown as ``***``), exit code 1; a ``--file`` that cannot be read or
    a ``--set`` the payload cannot take is exit code 2, naming the option.
    """
    import httpx

    from kiket_sdk.testing import event_payload, set_path, signed_headers

    payload: Any
    if args.file:
        _, payload = _read_json(args.file)
    else:
        payload = event_payload(args.event, args.version)
    for path, value in args.set or ():
        if not is_json_object(payload):
            raise CLIError("argument --set: needs a JSON object payload")
        try:
            set_path(payload, path, value)
        except ValueError as exc:
            raise CLIError(f"argument --set: {exc}") from None
    if args.api_url:
        if not is_json_object(payload):
            raise CLIError("argument --api-url: needs a JSON object payload")
        set_path(payload, "api.base_url", args.api_url)
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    headers = signed_headers(_secret(args.secret), body, version=args.version)
    target = webhook_url(args.url, args.version, args.event)
    try:
        answer = httpx.post(target, content=body, headers=headers, timeout=args.timeout)
    except httpx.TransportError as exc:
        raise network_failure(target, exc, args.timeout) from None
    out(f"{answer.status_code} {answer.reason_phrase}")
    try:
        out(json.dumps(answer.json(), indent=2, sort_keys=True))
    except ValueError:
        if answer.text:
            out(answer.text)
    return 0 if answer.is_success else 1


def cmd_sign(args: argparse.Namespace) -> int:
    """Print the signature and timestamp headers for the file's exact bytes."""
    from kiket_sdk._signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, generate_signature

    raw, _ = _read_json(args.file)
    signed = generate_signature(_secret(args.secret), raw, args.timestamp)
    out(f"{SIGNATURE_HEADER}: {signed['signature']}")
    out(f"{TIMESTAMP_HEADER}: {signed['timestamp']}")
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    """List every catalogued event and version with its payload model and field names."""
    from kiket_sdk._generated.catalogue import EVENT_PAYLOADS, KNOWN_EVENTS

    for event, versions in sorted(KNOWN_EVENTS.items()):
        for version in versions:
            model = EVENT_PAYLOADS[(event, version)]
            fields = [info.alias or name for name, info in model.model_fields.items()]
            out(f"{event} {version} ({model.__name__})")
            out(f"    fields: {', '.join(fields)}")
    return 0
