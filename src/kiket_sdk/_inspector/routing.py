"""`InspectorRouting`: an ASGI app sending the inspector's paths to it, the rest to the app.

Used by ``kiket-sdk dev``::

    app = InspectorRouting(inspector_app(journal, fake, url, secret), sdk)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiket_sdk._inspector.api import PREFIX

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["InspectorRouting"]


class InspectorRouting:
    """Put the inspector (``inspector``) in front of the extension (``app``)."""

    def __init__(self, inspector: ASGIApp, app: ASGIApp) -> None:
        self.inspector = inspector
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Requests under ``/_kiket/inspector`` go to the inspector; all else (lifespan too) to
        the app."""
        path: str = scope.get("path", "") if scope["type"] in ("http", "websocket") else ""
        if path == PREFIX or path.startswith(PREFIX + "/"):
            await self.inspector(scope, receive, send)
        else:
            await self.app(scope, receive, send)
