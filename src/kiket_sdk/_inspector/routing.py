"""`InspectorRouting`: an ASGI app sending the inspector's paths to it, the rest to the app.

Used by ``kiket-sdk dev``::

    app = InspectorRouting(inspector_app(journal, fake, url, secret), sdk, journal)

With a ``journal``, it also journals the requests the extension answered before its delivery
pipeline saw them (a path that is no delivery path, a wrong method: 404, 405): any request
other than ``GET``/``HEAD``, and any request to a ``.../webhooks/...`` path, for which no
delivery started (`DeliveryJournal.noticing`). ``GET /health`` and the like stay out. The
journal shows as much of the body as the app read (up to 64 KiB): nothing is read ahead of the
app, so its own limits (body size, the time a body may take) apply unchanged, and a body the
app answered without reading shows empty.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from kiket_sdk._inspector.api import PREFIX

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from kiket_sdk._inspector.journal import DeliveryJournal

__all__ = ["InspectorRouting"]

_KEPT_BYTES = 64 * 1024
"""How much of an unrouted request's body, and of its answer, the journal keeps."""


def _watched(scope: Scope) -> bool:
    """Whether a request outside the inspector is journaled when the pipeline does not see it."""
    path: str = scope["path"]
    return scope["method"] not in ("GET", "HEAD") or "/webhooks/" in path


class InspectorRouting:
    """Put the inspector (``inspector``) in front of the extension (``app``); with a
    ``journal``, journal the requests answered outside the delivery pipeline."""

    def __init__(
        self, inspector: ASGIApp, app: ASGIApp, journal: DeliveryJournal | None = None
    ) -> None:
        self.inspector = inspector
        self.app = app
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Requests under ``/_kiket/inspector`` go to the inspector; all else (lifespan too) to
        the app."""
        path: str = scope.get("path", "") if scope["type"] in ("http", "websocket") else ""
        if path == PREFIX or path.startswith(PREFIX + "/"):
            await self.inspector(scope, receive, send)
        elif self.journal is not None and scope["type"] == "http" and _watched(scope):
            await self._journaled(self.journal, scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _journaled(
        self, journal: DeliveryJournal, scope: Scope, receive: Receive, send: Send
    ) -> None:
        body = bytearray()
        status = [0]
        answer_headers: dict[str, str] = {}
        answer = bytearray()

        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", [])
        }

        def keep(message: Message) -> Message:
            if message["type"] == "http.request":
                body.extend(message.get("body", b"")[: _KEPT_BYTES - len(body)])
            return message

        async def receiving() -> Message:
            return keep(await receive())

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
                for name, value in message.get("headers", []):
                    answer_headers[name.decode("latin-1").lower()] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                answer.extend(message.get("body", b"")[: _KEPT_BYTES - len(answer)])
            await send(message)

        started_at, started = time.time(), time.perf_counter()
        with journal.noticing() as deliveries:
            try:
                await self.app(scope, receiving, sending)
            finally:
                if not deliveries and status[0]:
                    journal.add_unrouted(
                        (scope["method"], scope["path"], headers, bytes(body)),
                        (status[0], answer_headers, bytes(answer)),
                        started_at,
                        time.perf_counter() - started,
                    )
