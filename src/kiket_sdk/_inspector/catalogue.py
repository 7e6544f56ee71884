"""`EventCatalogue`: the events the inspector can send, and the one payload check they share.

The catalogue is every event and version of the spec (its model, JSON schema and example), plus
the (event, version) pairs the extension registered handlers for, given as plain data by
``kiket-sdk dev`` (the inspector never sees the SDK object). Registered events come first; an
event the extension registered but the spec does not know gets an empty ``{}`` template, and its
payload is only checked to be a JSON object.

`EventCatalogue.check` is the check both ``POST /api/validate`` and ``POST /api/send`` run.

>>> catalogue = EventCatalogue([("issue.created", "v1"), ("acme.ping", "v1")])
>>> [(item["event"], item["registered"]) for item in catalogue.items()[:2]]
[('issue.created', True), ('acme.ping', True)]
>>> catalogue.check("acme.ping", "v1", [1])
[{'type': 'model_type', 'loc': [], 'msg': 'Input should be a JSON object'}]
>>> catalogue.check("issue.created", "v1", {"issue": 3})[0]["loc"]
['issue']
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from kiket_sdk._generated.catalogue import EVENT_PAYLOADS, KNOWN_EVENTS
from kiket_sdk._json_shapes import is_json_object
from kiket_sdk.testing import event_payload

__all__ = ["EventCatalogue"]


class EventCatalogue:
    """The spec's events and the extension's registered ones (``registered``: (event,
    version) pairs, in the order to list them)."""

    def __init__(self, registered: Iterable[tuple[str, str]] = ()) -> None:
        self.registered: tuple[tuple[str, str], ...] = tuple(dict.fromkeys(registered))
        spec = [
            (event, version)
            for event, versions in sorted(KNOWN_EVENTS.items())
            for version in versions
        ]
        known = set(self.registered)
        self._order = [*self.registered, *(pair for pair in spec if pair not in known)]

    def knows(self, event: str, version: str) -> bool:
        """Whether ``event`` at ``version`` can be sent: in the spec or registered."""
        return (event, version) in EVENT_PAYLOADS or (event, version) in self.registered

    def items(self) -> list[dict[str, Any]]:
        """What ``GET /api/events`` lists: registered events first, then the rest of the spec,
        each with ``model`` and ``schema`` (``None`` outside the spec) and ``example``."""
        listed: list[dict[str, Any]] = []
        for event, version in self._order:
            model = EVENT_PAYLOADS.get((event, version))
            listed.append(
                {
                    "event": event,
                    "version": version,
                    "registered": (event, version) in self.registered,
                    "model": model.__name__ if model else None,
                    "schema": model.model_json_schema() if model else None,
                    "example": self.example(event, version),
                }
            )
        return listed

    def example(self, event: str, version: str) -> object:
        """The payload template of ``event`` at ``version``: the spec's example, else ``{}``."""
        return event_payload(event, version) if (event, version) in EVENT_PAYLOADS else {}

    def check(self, event: str, version: str, payload: object) -> list[dict[str, Any]]:
        """The errors of ``payload`` as ``event`` at ``version`` (``[]`` when it is valid):
        pydantic's (``type``, ``loc``, ``msg``) against the spec's model; outside the spec, one
        error unless the payload is a JSON object. The event must be known (`knows`)."""
        model = EVENT_PAYLOADS.get((event, version))
        if model is None:
            if is_json_object(payload):
                return []
            return [{"type": "model_type", "loc": [], "msg": "Input should be a JSON object"}]
        try:
            model.model_validate(payload)
        except ValidationError as exc:
            errors: list[dict[str, Any]] = json.loads(
                exc.json(include_url=False, include_input=False)
            )
            return errors
        return []
