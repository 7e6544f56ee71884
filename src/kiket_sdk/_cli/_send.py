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

from kiket_sdk._cli._common import CLIError, out
from kiket_sdk._cli._network import network_failure, os_reason

__all__ = ["DEFAULT_URL", "cmd_events", "cmd_send", "cmd_sign"]

DEFAULT_URL = "http://127.0.0.1:8000"
"""Where ``send`` posts by default: ``kiket-sdk run``/``dev`` on their default port."""


def _parse_value(text: str) -> Any:
    """A ``--set`` value: JSON when it parses (``3``, ``true``, ``{...}``), else the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _read_json(path: str) -> tuple[bytes, Any]:
    """The file's raw bytes (what gets signed) and their parsed JSON."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {os_reason(exc)}") from None
    try:
        return raw, json.loads(raw)
    except ValueError as exc:
        raise CLIError(f"{path} is not valid JSON: {exc}") from None


def _secret(value: str | None) -> str:
    """``--secret``, else ``$KIKET_WEBHOOK_SECRET``; signing without one is an error."""
    secret = value or os.environ.get("KIKET_WEBHOOK_SECRET")
    if not secret:
        raise CLIError("no webhook secret: pass --secret or set KIKET_WEBHOOK_SECRET")
    return secret


def cmd_send(args: argparse.Namespace) -> int:
    """Sign and post one event; exit code 0 when the extension answered 2xx, else 1.

    A network failure is one line naming the URL (``cannot connect to URL: connection
    refused``), exit code 1; a bad ``--url``, ``--file`` or ``--set`` is exit code 2.
    """
    import httpx

    from kiket_sdk._client_options import checked_base_url
    from kiket_sdk.testing import event_payload, set_path, signed_headers

    base = checked_base_url(args.url, setting="--url", credentials_allowed=True)
    if args.api_url:
        checked_base_url(args.api_url, setting="--api-url")
    payload: Any
    if args.file:
        _, payload = _read_json(args.file)
    else:
        payload = event_payload(args.event, args.version)
    for item in args.set or ():
        path, sep, value = item.partition("=")
        if not sep or not path:
            raise CLIError(f"--set expects PATH=VALUE, got {item!r}")
        if not isinstance(payload, dict):
            raise CLIError("--set needs a JSON object payload")
        set_path(payload, path, _parse_value(value))
    if args.api_url:
        if not isinstance(payload, dict):
            raise CLIError("--api-url needs a JSON object payload")
        set_path(payload, "api.base_url", args.api_url)
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    headers = signed_headers(_secret(args.secret), body, version=args.version)
    target = f"{base}/v/{args.version}/webhooks/{args.event}"
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
