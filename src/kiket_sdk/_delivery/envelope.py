"""The envelope of a delivery: the keys Kiket puts beside the event's own fields.

There is one reading for every handler kind: the envelope is always taken from a validated
``EventEnvelope`` (the handler's own model when it extends ``EventEnvelope``, as every generated
event model does; otherwise ``EventEnvelope`` itself), so a malformed envelope is the same 422
for a typed handler and a ``dict`` handler, and a lenient one (``"secrets": {"K": null}``,
``"authentication": {}``) the same 200.

>>> from kiket_sdk._generated.models import EventEnvelope
>>> envelope = read_envelope(EventEnvelope.model_validate(
...     {"id": 7, "secrets": {"API_KEY": "k", "UNSET": None}, "api": {"base_url": "u"}}))
>>> envelope.event_id, envelope.event_key, dict(envelope.secrets), envelope.api_base_url
('7', 's:7', {'API_KEY': 'k'}, 'u')
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from kiket_sdk._generated.models import EventEnvelope

__all__ = ["Envelope", "event_key_of", "read_envelope"]


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the runtime reads from a delivery besides the event itself (nothing here is
    trusted more than the proof that covered it; see `proof`)."""

    runtime_token: str | None = None
    token_type: str | None = None
    expires_at: str | None = None
    scopes: tuple[str, ...] = ()
    secrets: Mapping[str, str] = field(default_factory=dict[str, str])
    api_base_url: str | None = None
    event_id: str | None = None
    """The event id as text (``ctx.delivery_id``): a string as sent, anything else as JSON."""
    event_key: str | None = None
    """The event id as the ledger keys it (see `event_key_of`)."""
    event_names: tuple[str, ...] = ()
    """The event names the body gives itself (``event``, ``event_type``), if any."""
    event_version: str | None = None
    """The version the body gives itself (``event_version``), if any, as written."""


def _id_key(value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        return "s:" + value
    if isinstance(value, int) and not isinstance(value, bool):
        return "s:" + str(value)  # 42 and "42" are one id: the platform sends both spellings
    # any other JSON value is an id as its canonical JSON; the tags keep the two kinds apart
    return "j:" + json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_key_of(envelope: EventEnvelope) -> str | None:
    """The key that identifies an event across redeliveries, or ``None`` (no id): from the
    first of ``id``, ``event_id``, ``delivery_id`` that is present, not null and not blank.

    Strings are taken exactly as sent (``" 1"`` is not ``"1"``) and an integer as its decimal
    string, so ``42`` and ``"42"`` are the same event (the platform sends ids either way,
    contract section 1); any other JSON value is its canonical JSON, kept apart from strings
    (``true`` is neither ``1`` nor ``"true"``). Numbers compare as the numbers they parse to
    (IEEE doubles: ``0.1`` and ``0.10000000000000001`` are one id).

    >>> event_key_of(EventEnvelope(id=" ", event_id=42))
    's:42'
    >>> event_key_of(EventEnvelope(id=True)), event_key_of(EventEnvelope(id={"b": 1, "a": [2.5]}))
    ('j:true', 'j:{"a":[2.5],"b":1}')
    >>> event_key_of(EventEnvelope(event="issue.created")) is None
    True
    """
    for value in (envelope.id, envelope.event_id, envelope.delivery_id):
        key = _id_key(value)
        if key is not None:
            return key
    return None


def read_envelope(payload: EventEnvelope) -> Envelope:
    """The `Envelope` of a validated delivery. Empty or null secrets count as absent; a blank
    runtime token is no token."""
    auth = payload.authentication
    api = payload.api
    return Envelope(
        runtime_token=(auth.runtime_token or None) if auth else None,
        token_type=auth.token_type if auth else None,
        expires_at=auth.expires_at if auth else None,
        scopes=tuple(auth.scopes or ()) if auth else (),
        secrets={k: v for k, v in (payload.secrets or {}).items() if v},
        api_base_url=(api.base_url.strip() or None) if api and api.base_url else None,
        event_key=(key := event_key_of(payload)),
        event_id=key[2:] if key is not None else None,
        event_names=tuple(
            name.strip() for name in (payload.event, payload.event_type) if name and name.strip()
        ),
        event_version=_version_text((payload.model_extra or {}).get("event_version")),
    )


def _version_text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None
