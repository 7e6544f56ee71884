"""The envelope of a delivery: the keys Kiket puts beside the event's own fields.

Read from the validated event model when it has one (every catalogued payload model extends
``EventEnvelope``), else from the parsed JSON. Only what the runtime needs is kept: the runtime
token and its scopes, the bundled secrets, the API base URL and the event id used for dedupe.

>>> envelope = envelope_from_dict({"id": 7, "secrets": {"API_KEY": "k"}, "api": {"base_url": "u"}})
>>> envelope.event_id, envelope.secrets, envelope.api_base_url
('7', {'API_KEY': 'k'}, 'u')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kiket_sdk._generated.models import EventEnvelope

__all__ = ["Envelope", "dedupe_key", "envelope_from_dict", "envelope_from_model"]

_ID_FIELDS = ("id", "event_id", "delivery_id")


@dataclass(slots=True)
class Envelope:
    """What the runtime reads from a delivery besides the event itself."""

    runtime_token: str | None = None
    token_type: str | None = None
    expires_at: str | None = None
    scopes: tuple[str, ...] = ()
    secrets: Mapping[str, str] = field(default_factory=dict)
    api_base_url: str | None = None
    event_id: str | None = None


def _text(value: object) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip() if isinstance(value, str | int) else ""
    return text or None


def dedupe_key(payload: Mapping[str, Any]) -> str | None:
    """The id that identifies an event across redeliveries, or ``None`` (do not deduplicate).

    The first usable one of ``id``, ``event_id``, ``delivery_id`` of the (signed) body: a
    non-blank string (stripped) or an integer. Other values (blank, bool, float, objects) are
    skipped.

    >>> dedupe_key({"id": "evt_01HZX0", "event": "issue.created"})
    'evt_01HZX0'
    >>> dedupe_key({"id": " ", "event_id": 42})
    '42'
    >>> dedupe_key({"event": "issue.created"}) is None
    True
    """
    for name in _ID_FIELDS:
        value = payload.get(name)
        if isinstance(value, str):
            value = value.strip()
            if value:
                return value
        elif isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


def envelope_from_model(payload: EventEnvelope) -> Envelope:
    auth = payload.authentication
    return Envelope(
        runtime_token=auth.runtime_token if auth else None,
        token_type=auth.token_type if auth else None,
        expires_at=auth.expires_at if auth else None,
        scopes=tuple(auth.scopes or ()) if auth else (),
        secrets=payload.secrets or {},
        api_base_url=payload.api.base_url if payload.api else None,
        event_id=dedupe_key(
            {"id": payload.id, "event_id": payload.event_id, "delivery_id": payload.delivery_id}
        ),
    )


def envelope_from_dict(payload: Mapping[str, Any]) -> Envelope:
    auth = payload.get("authentication")
    auth = auth if isinstance(auth, Mapping) else {}
    scopes = auth.get("scopes")
    secrets = payload.get("secrets")
    api = payload.get("api")
    token = auth.get("runtime_token")
    return Envelope(
        runtime_token=token if isinstance(token, str) and token else None,
        token_type=_text(auth.get("token_type")),
        expires_at=_text(auth.get("expires_at")),
        scopes=tuple(str(s) for s in scopes) if isinstance(scopes, list) else (),
        secrets={str(k): str(v) for k, v in secrets.items() if v is not None}
        if isinstance(secrets, Mapping)
        else {},
        api_base_url=_text(api.get("base_url")) if isinstance(api, Mapping) else None,
        event_id=dedupe_key(payload),
    )
