"""One delivery as it came off the wire, parsed once: route, headers, body.

The edge (`edge`) builds a `Delivery` from the ASGI request; everything after it reads only this
object, so the pipeline can be driven without HTTP (tests, other frameworks).

Versions are opaque strings with one rule (contract section 1): blanks are trimmed and a bare
number means ``v<number>``, so ``1``, ``01``, ``V1`` and ``v1`` are the same version.

>>> normalize_version(" 1 ")
'v1'
>>> normalize_version("2024-10-01")
'2024-10-01'
>>> resolve_version(None, "v2", "v1")
'v2'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

__all__ = [
    "Delivery",
    "DuplicateHeaderError",
    "normalize_version",
    "resolve_version",
    "webhook_path",
]

# Headers that carry proof or routing: a second copy is an ambiguity an attacker could exploit.
_SINGLE = (b"x-kiket-signature", b"x-kiket-timestamp", b"x-kiket-event-version")


class DuplicateHeaderError(ValueError):
    """A proof or routing header was sent twice; ``name`` says which."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def webhook_path(event: str, version: str | None = None) -> str:
    """The path Kiket posts ``event`` to: ``/v/{version}/webhooks/{event}``, or
    ``/webhooks/{event}`` without a version; each part one percent-encoded path segment.

    >>> webhook_path("issue.created", "v1"), webhook_path("q?x")
    ('/v/v1/webhooks/issue.created', '/webhooks/q%3Fx')
    """
    tail = f"/webhooks/{quote(event, safe='')}"
    return tail if version is None else f"/v/{quote(version, safe='')}{tail}"


def normalize_version(version: str) -> str:
    """Trim blanks and spell a bare number as ``v<number>`` (``1`` == ``v1``; no int
    conversion, so a 5,000-digit version is just a long name)."""
    text = version.strip()
    digits = text[1:] if text[:1] in ("v", "V") else text
    if digits and digits.isascii() and digits.isdigit():
        return "v" + (digits.lstrip("0") or "0")
    return text


def resolve_version(path: str | None, header: str | None, query: str | None) -> str | None:
    """The delivery's version: from the path, else the ``X-Kiket-Event-Version`` header, else
    ``?version=``; ``None`` when none of them holds a non-blank value."""
    for candidate in (path, header, query):
        if candidate is not None and candidate.strip():
            return normalize_version(candidate)
    return None


def _decode_headers(raw: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        if key in headers and name.lower() in _SINGLE:
            raise DuplicateHeaderError(key)
        headers[key] = value.decode("latin-1")
    return headers


@dataclass(slots=True)
class Delivery:
    """A delivery: its route (event name and version inputs), its headers and its raw body.

    ``headers`` has lower-case names, values decoded as Latin-1 (every byte maps to one
    character, so nothing fails to decode); ``version`` is resolved from the path, the
    ``X-Kiket-Event-Version`` header, then ``?version=`` (``None`` when none is given).
    """

    event: str
    version: str | None
    headers: Mapping[str, str]
    body: bytes

    @classmethod
    def from_wire(
        cls,
        *,
        event: str,
        body: bytes,
        raw_headers: Sequence[tuple[bytes, bytes]],
        path_version: str | None = None,
        query_version: str | None = None,
    ) -> Delivery:
        """Parse the parts of an HTTP request; raises `DuplicateHeaderError`.

        >>> d = Delivery.from_wire(event="issue.created", body=b"{}",
        ...                        raw_headers=[(b"X-Kiket-Event-Version", b"1")])
        >>> d.version
        'v1'
        """
        headers = _decode_headers(raw_headers)
        version = resolve_version(path_version, headers.get("x-kiket-event-version"), query_version)
        return cls(event=event, version=version, headers=headers, body=body)
