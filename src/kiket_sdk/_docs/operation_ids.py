"""Operation ids of the documented webhook routes: unique for any set of handlers, and a pure
function of the route, so an id never changes because another handler was registered.

- ``POST /v/{version}/webhooks/{event}`` -> ``webhook_{event}_{version}``;
- ``POST /webhooks/{event}`` (version in a header or the query) -> ``webhook_{event}_unversioned``;

where ``{event}`` is the event name folded to ASCII letters, digits and ``_`` (``.`` and every
other character become ``_``; accents are dropped) and ``{version}`` is the version with ``-``
as ``_`` (``v2``, ``2024_10_01``). Folding can make two names alike (``a.b`` and ``a_b``), so the
plain form is kept only for names that cannot be confused:

- a catalogued event (the spec's ``webhooks:``) whose folded name no other catalogued event has;
- an uncatalogued name made of letters and digits in dot-separated parts (``slack.notify``,
  ``extension.testConnection``) that folds unlike every catalogued event.

Every other name gets ``_`` and 8 hex digits of the SHA-256 of its exact UTF-8 spelling appended
(``webhook_a_b_v1_2ae01e4f``). Plain ids end in a version or ``unversioned``, suffixed ones in
8 hex digits, so the two kinds never meet; plain ids of dotted names fold one-to-one.

>>> operation_id("issue.created", "v1"), operation_id("issue.created", None)
('webhook_issue_created_v1', 'webhook_issue_created_unversioned')
>>> operation_id("a.b", "2024-10-01")
'webhook_a_b_2024_10_01'
>>> operation_id("a_b", "v1") != operation_id("a.b", "v1")
True
"""

from __future__ import annotations

import collections
import functools
import hashlib
import re
import unicodedata

from kiket_sdk._generated.catalogue import KNOWN_EVENTS

__all__ = ["fold_event_name", "operation_id"]

_DOTTED = re.compile(r"[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*")
_SUFFIX_DIGITS = 8


def fold_event_name(event: str) -> str:
    """``event`` as ASCII letters, digits and single ``_`` (``"café.Ordered"`` ->
    ``"cafe_Ordered"``); ``"event"`` when nothing of it is left.

    >>> fold_event_name("café.Ordered"), fold_event_name("事件")
    ('cafe_Ordered', 'event')
    """
    ascii_name = unicodedata.normalize("NFKD", event).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]+", "_", ascii_name).strip("_") or "event"


@functools.cache
def _catalogue_folds() -> dict[str, int]:
    return dict(collections.Counter(fold_event_name(name) for name in KNOWN_EVENTS))


def _needs_suffix(event: str) -> bool:
    folds = _catalogue_folds()
    folded = fold_event_name(event)
    if event in KNOWN_EVENTS:
        return folds[folded] > 1
    return not _DOTTED.fullmatch(event) or folded in folds


def operation_id(event: str, version: str | None) -> str:
    """The operation id of ``event``'s route at ``version`` (``None``: the unversioned route).

    ``version`` is a registered version (``v<digits>`` or ``YYYY-MM-DD``, as
    ``check_route`` leaves it); see the module docstring for the rule.
    """
    kind = version.replace("-", "_") if version is not None else "unversioned"
    base = f"webhook_{fold_event_name(event)}_{kind}"
    if not _needs_suffix(event):
        return base
    digest = hashlib.sha256(event.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{base}_{digest[:_SUFFIX_DIGITS]}"
