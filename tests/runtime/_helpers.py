"""Signing and posting helpers for the webhook runtime tests."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
from starlette.testclient import TestClient

from kiket_sdk.auth import generate_signature

SECRET = "whsec_runtime_test"


def event_id() -> str:
    """A fresh delivery id (dedupe and replay need one per request)."""
    return f"evt_{uuid.uuid4().hex}"


def issue_payload(**extra: Any) -> dict[str, Any]:
    """A valid ``issue.created`` payload with a fresh id."""
    payload: dict[str, Any] = {
        "id": event_id(),
        "event": "issue.created",
        "issue": {"id": 42, "title": "Printer on fire", "status": "open"},
    }
    payload.update(extra)
    return payload


def encode(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def signed_headers(
    body: bytes,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    prefix: str = "",
) -> dict[str, str]:
    signed = generate_signature(secret, body, int(time.time()) if timestamp is None else timestamp)
    return {
        "X-Kiket-Signature": prefix + signed["signature"],
        "X-Kiket-Timestamp": signed["timestamp"],
        "Content-Type": "application/json",
    }


def post(
    client: TestClient | httpx.Client,
    event: str = "issue.created",
    payload: Any = None,
    *,
    version: str | None = "v1",
    path: str | None = None,
    secret: str | None = SECRET,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timestamp: int | None = None,
) -> httpx.Response:
    """Sign (unless ``secret`` is None) and POST a delivery; ``body`` overrides ``payload``.

    A payload that names its event (``"event"``) is sent naming the route's event, as Kiket's
    deliveries do (a signed body naming another event is refused).
    """
    if body is None:
        payload = issue_payload() if payload is None else payload
        if isinstance(payload, dict) and "event" in payload:
            named = path.split("?", 1)[0].rsplit("/", 1)[-1] if path else event
            payload = {**payload, "event": named}
    raw = body if body is not None else encode(payload)
    sent = (
        signed_headers(raw, secret=secret, timestamp=timestamp)
        if secret
        else {"Content-Type": "application/json"}
    )
    sent.update(headers or {})
    url = path or (f"/v/{version}/webhooks/{event}" if version else f"/webhooks/{event}")
    return client.post(url, content=raw, headers=sent)
