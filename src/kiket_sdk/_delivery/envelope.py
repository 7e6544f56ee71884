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


def _id_text(value: int | str | None) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def event_id_of(envelope: EventEnvelope) -> str | None:
    """The id that identifies an event across redeliveries, or ``None``: the first non-blank
    of ``id``, ``event_id``, ``delivery_id`` (strings are stripped; integers as decimal text,
    so ``42`` and ``"42"`` are the same event).

    >>> event_id_of(EventEnvelope(id=" ", event_id=42))
    '42'
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
    )
