"""RFC 7807 problem answers of the fake Kiket API.

A route raises ``ProblemError``; the fake turns it into an ``application/problem+json`` answer.

>>> problem = ProblemError(404, "No secret API_KEY for extension com.example.")
>>> problem.body()["title"], problem.body()["status"]
('Not Found', 404)
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

__all__ = ["PROBLEM_CONTENT_TYPE", "ProblemError"]

PROBLEM_CONTENT_TYPE = "application/problem+json"
_TYPE_BASE = "https://kiket.dev/problems/"


class ProblemError(Exception):
    """An error answer: HTTP ``status``, a ``detail`` text, optional extra members and headers."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The problem document ``{type, title, status, detail, ...extra}``."""
        title = HTTPStatus(self.status).phrase
        slug = title.lower().replace(" ", "-").replace("'", "")
        return {
            "type": _TYPE_BASE + slug,
            "title": title,
            "status": self.status,
            "detail": self.detail,
            **self.extra,
        }
