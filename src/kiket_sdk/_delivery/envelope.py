"""The envelope of a delivery: the keys Kiket puts beside the event's own fields.

There is one reading for every handler kind: the envelope is always taken from a validated
``EventEnvelope`` (the handler's own model when it extends ``EventEnvelope``, as every generated
event model does; otherwise ``EventEnvelope`` itself), so a malformed envelope is the same 422
for a typed handler and a ``dict`` handler, and a lenient one (``"secrets": {"K": null}``,
``"authentication": {}``) the same 200.

>>> from kiket_sdk._generated.models import EventEnvelope
>>> envelope = read_envelope(EventEnvelope.model_validate(
...     {"id": 7, "secrets": {"API_KEY": "k", "UNSET": None}, "api": {"base_url": "u"}}))
>>> envelope.event_id, dict(envelope.secrets), envelope.api_base_url
('7', {'API_KEY': 'k'}, 'u')
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from kiket_sdk._generated.models import EventEnvelope

__all__ = ["Envelope", "event_id_of", "read_envelope"]


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the runtime reads from a delivery besides the event itself (nothing here is
    trusted more than the proof that covered it; see `proof`)."""

    runtime_token: str | None = None
    token_type: str | None = None
    expires_at: str | None = None
    scopes: tuple[str, ...] = ()
    secrets: Mapping[str, str] = field(default_factory=dict)
    api_base_url: str | None = None
    event_id: str | None = None
    event_names: tuple[str, ...] = ()
    """The event names the body gives itself (``event``, ``event_type``), if any."""


def _id_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    # any other JSON value (true, 1.5, [..], {..}) is an id too, as its canonical JSON text,
    # tagged so that it never equals a string id
    return "json:" + json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_id_of(envelope: EventEnvelope) -> str | None:
    """The id that identifies an event across redeliveries, or ``None``: the first of ``id``,
    ``event_id``, ``delivery_id`` that is present, not null and not a blank string.

    Strings are stripped and integers written in decimal, so ``42`` and ``"42"`` are the same
    event (the platform sends ids either way, contract section 1); any other JSON value is an
    id as its canonical JSON (``true`` is not ``1``, ``1.5`` is ``1.5``).

    >>> event_id_of(EventEnvelope(id=" ", event_id=42))
    '42'
    >>> event_id_of(EventEnvelope(id=True)), event_id_of(EventEnvelope(id={"b": 1, "a": [2.5]}))
    ('json:true', 'json:{"a":[2.5],"b":1}')
    >>> event_id_of(EventEnvelope(event="issue.created")) is None
    True
    """
    for value in (envelope.id, envelope.event_id, envelope.delivery_id):
        text = _id_text(value)
        if text is not None:
            return text
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
        event_id=event_id_of(payload),
        event_names=tuple(
            name.strip() for name in (payload.event, payload.event_type) if name and name.strip()
        ),
    )
