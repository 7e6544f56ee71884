"""What a webhook route answers, as OpenAPI documents it: the handler's answer (200) and every
error the SDK gives, all in the SDK's error schema (``InboundError``: ``{"error": ...}``, plus
``required_scopes``/``missing_scopes`` on 403 and ``details`` on 422).

The statuses and their causes are the README's "Answers" table; 409 and 503 carry
``Retry-After`` (whole seconds, at least 1), and a redelivery of a handled event gets its stored
answer with ``X-Kiket-Duplicate: true``. (405, for a method other than POST, is the only status
of the README's table no POST operation can get, so no operation lists it.)

>>> [answer.status for answer in ERROR_ANSWERS if answer.retry_after]
[409, 503]
"""

from __future__ import annotations

import functools
import types
import typing
from dataclasses import dataclass
from typing import Any, get_type_hints

from pydantic import BaseModel, TypeAdapter

from kiket_sdk._delivery.handlers import HandlerSpec
from kiket_sdk._generated.models import Allow, Deny, Pending

__all__ = [
    "DEFAULT_ANSWER",
    "DUPLICATE_HEADERS",
    "ERROR_ANSWERS",
    "RETRY_AFTER_HEADERS",
    "ErrorAnswer",
    "answer_type",
    "documentable",
]


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """One error status of a webhook route and when it is given."""

    status: int
    description: str
    retry_after: bool = False


ERROR_ANSWERS: tuple[ErrorAnswer, ...] = (
    ErrorAnswer(
        400,
        "The body is not strict JSON (nested deeper than ~200 levels, a number too large to "
        "read), or not an object; no version (path, `X-Kiket-Event-Version` or `?version=`); a "
        "bad `Content-Length`; the body was cut short",
    ),
    ErrorAnswer(
        401,
        "Proof of origin failed (HMAC signature or runtime token); a signed body naming another "
        "route; a signature or runtime token already used on another route or with another "
        "body; a proof header sent twice",
    ),
    ErrorAnswer(
        403,
        "The runtime token lacks a scope the handler requires (the body lists "
        "`required_scopes` and `missing_scopes`)",
    ),
    ErrorAnswer(404, "No handler for this event at this version (the answer lists the versions)"),
    ErrorAnswer(408, "The body did not arrive within `body_timeout` (the connection is closed)"),
    ErrorAnswer(
        409,
        "The same event is still running in another delivery after `duplicate_wait`; retry "
        "after `Retry-After` seconds",
        retry_after=True,
    ),
    ErrorAnswer(413, "The body is over `max_body_size` (default 1 MiB)"),
    ErrorAnswer(415, "The content type is not JSON"),
    ErrorAnswer(
        422, "The envelope or the handler's model rejects the payload (`details` lists why)"
    ),
    ErrorAnswer(
        500, "The handler raised, or answered something that is not strict JSON (`NaN`, ...)"
    ),
    ErrorAnswer(
        503,
        "Handler timeout, delivery ledger unreachable, Kiket's signing keys unavailable, or "
        "shutting down; the platform retries after `Retry-After` seconds",
        retry_after=True,
    ),
)

RETRY_AFTER_HEADERS: dict[str, Any] = {
    "Retry-After": {
        "description": "Whole seconds to wait before delivering again (at least 1).",
        "schema": {"type": "integer", "minimum": 1},
    }
}

DUPLICATE_HEADERS: dict[str, Any] = {
    "X-Kiket-Duplicate": {
        "description": "`true` when this is the stored answer to an event already handled "
        "(a redelivery); absent otherwise.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}

DEFAULT_ANSWER: Any = Allow | Deny | Pending | dict[str, Any]
"""The answer of a handler whose return annotation names no model: an allow/deny/pending
answer, or any JSON object (``None`` is answered ``{"ok": true}``)."""


@functools.cache
def documentable(annotation: Any, mode: typing.Literal["validation", "serialization"]) -> bool:
    """Whether pydantic can write a JSON Schema of ``annotation`` (a model with a field of an
    arbitrary class cannot); such a type is documented as a plain JSON object instead."""
    try:
        TypeAdapter(annotation).json_schema(mode=mode)
    except Exception:
        return False
    return True


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def answer_type(spec: HandlerSpec) -> Any:
    """The type of ``spec``'s 200 answer: its return annotation when that is a pydantic model
    or a union of models (``None`` allowed in the union), else `DEFAULT_ANSWER`."""
    try:
        hint = get_type_hints(spec.func).get("return")
    except Exception:  # an annotation that cannot be resolved documents nothing wrong
        return DEFAULT_ANSWER
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        arms = [a for a in typing.get_args(hint) if a is not type(None)]
        fits = bool(arms) and all(_is_model(a) for a in arms)
    else:
        fits = _is_model(hint)
    return hint if fits and documentable(hint, "serialization") else DEFAULT_ANSWER
