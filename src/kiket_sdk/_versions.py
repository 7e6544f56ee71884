"""Event schema versions: opaque strings, with ``1`` meaning ``v1``.

>>> normalize_version(" 1 ")
'v1'
>>> normalize_version("2024-10-01")
'2024-10-01'
>>> resolve_version(None, "v2", "v1")
'v2'
"""

from __future__ import annotations

__all__ = ["normalize_version", "resolve_version"]


def normalize_version(version: str) -> str:
    """Trim blanks and spell a bare number as ``v<number>`` (the contract's decision: 1 == v1)."""
    text = version.strip()
    if text.isdigit() and text.isascii():
        return f"v{int(text)}"
    if text[:1] in ("V",) and text[1:].isdigit() and text.isascii():
        return f"v{int(text[1:])}"
    return text


def resolve_version(path: str | None, header: str | None, query: str | None) -> str | None:
    """The delivery's version: from the path, else the ``X-Kiket-Event-Version`` header, else
    ``?version=``; ``None`` when none of them holds a non-blank value."""
    for candidate in (path, header, query):
        if candidate is not None and candidate.strip():
            return normalize_version(candidate)
    return None
