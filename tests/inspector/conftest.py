"""The inspector served in front of an extension, over real uvicorn servers on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kiket_sdk import Allow, Deny, HandlerContext, KiketSDK, allow, deny
from kiket_sdk._inspector.api import PREFIX, inspector_app
from kiket_sdk._inspector.journal import DeliveryJournal
from kiket_sdk._inspector.routing import InspectorRouting
from kiket_sdk.events import IssueCreated
from kiket_sdk.testing import FakeKiket, serve_app

SECRET = "whsec_inspector"
API = PREFIX + "/api"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class Served:
    def __init__(self, url: str, fake: FakeKiket, journal: DeliveryJournal) -> None:
        self.url, self.fake, self.journal = url, fake, journal
        self.client = httpx.Client(base_url=url + API, timeout=10.0)

    def send(self, event: str = "issue.created", **extra: Any) -> dict[str, Any]:
        answer = self.client.post("/send", json={"event": event, "version": "v1", **extra})
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def delivery(self, serial: int) -> dict[str, Any]:
        answer = self.client.get(f"/deliveries/{serial}")
        assert answer.status_code == 200, answer.text
        entry: dict[str, Any] = answer.json()
        return entry


@pytest.fixture
def served() -> Iterator[Served]:
    fake = FakeKiket(strict_responses=True)
    with fake.serve() as fake_url:
        sdk = KiketSDK(
            webhook_secret=SECRET,
            base_url=fake_url,
            workspace_token="wk_inspector",
            extension_id="com.example.inspected",
            telemetry_enabled=False,
            body_timeout=1.0,  # the stalled-body tests wait for it
        )

        async def notify(issue_id: int) -> None:
            return None

        @sdk.webhook("issue.created", version="v1")
        async def on_issue(event: IssueCreated, ctx: HandlerContext) -> Allow:
            await ctx.endpoints.log_event("issue.seen", id=event.issue.id)
            ctx.defer(notify, event.issue.id)
            return allow(message="seen")

        @sdk.webhook("acme.gate", version="v1")  # not in the spec: registered only
        async def on_gate(event: dict[str, Any], ctx: HandlerContext) -> Allow | Deny:
            found = await ctx.endpoints.custom_data(42).list("crm", "gates")
            if any(row.model_dump().get("open") is True for row in found.data):
                return allow(message="gate open")
            return deny(message="gate closed")

        @sdk.webhook("acme.boom", version="v1")  # raises: its failure shows on the timeline
        async def on_boom(event: dict[str, Any], ctx: HandlerContext) -> Allow:
            raise LookupError(f"no gate for {event.get('gate')} at http://crm.internal:9000")

        journal = DeliveryJournal()
        sdk.observe(journal)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        handled = [name.rpartition("@") for name in sdk.registered_events]
        registered = [(event, version) for event, _, version in handled]
        inspector = inspector_app(journal, fake, url, SECRET, registered=registered)
        app = InspectorRouting(inspector, sdk, journal)
        with serve_app(app, port=port) as served_url:
            served = Served(served_url, fake, journal)
            try:
                yield served
            finally:
                served.client.close()
