"""The inspector's JSON API and event stream, a Starlette app under `PREFIX`.

=======  ==========================================  ===========================================
method   path (under ``/_kiket/inspector``)          answer
=======  ==========================================  ===========================================
GET      ``/api/deliveries``                         ``{"deliveries": [entry, ...]}``, newest first
GET      ``/api/deliveries/{serial}``                one entry (404 when unknown or dropped)
GET      ``/api/stream``                             Server-Sent Events: ``event: delivery``,
                                                     ``data:`` the entry, after each change
GET      ``/api/events``                             the catalogue: ``{"events": [{"event",
                                                     "version", "model", "schema", "example"}]}``
POST     ``/api/send``                               ``{"event", "version", "payload"}``: the
                                                     payload is validated against the event's
                                                     model (422 with pydantic's errors), signed
                                                     and delivered; answers ``{"status",
                                                     "answer", "serial"}``
POST     ``/api/deliveries/{serial}/resend``         ``{"as": "same"}`` posts the same bytes and
                                                     headers again (the ledger's duplicate path);
                                                     ``{"as": "new"}`` gives the body a new ``id``
                                                     and signs it afresh
GET      ``/api/fake``                               the fake's state (`seeding.fake_state`)
POST     ``/api/fake/seed``                          a seed (`seeding.apply_seed`); answers the
                                                     counts added, or 422 naming the bad key
=======  ==========================================  ===========================================

``GET /_kiket/inspector/`` is the page (``page/``: HTML, CSS and JavaScript shipped in the
package, no framework, nothing fetched from elsewhere); it uses only this API.

An entry is `JournalEntry.as_json`. Deliveries are posted to the extension over HTTP at
``extension_url`` (the dev server itself, on loopback), so they go through exactly the path a
real delivery takes. The event stream sends a ``: connected`` comment first and a ``: ping``
comment every 15 seconds of silence; it ends when ``stopping()`` turns true.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncGenerator, Callable
from typing import Any

import httpx
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kiket_sdk._generated.catalogue import EVENT_PAYLOADS, KNOWN_EVENTS
from kiket_sdk._inspector.journal import DeliveryJournal
from kiket_sdk._inspector.seeding import apply_seed, fake_state
from kiket_sdk._json_shapes import is_json_object
from kiket_sdk.testing import FakeKiket, event_payload, signed_headers

__all__ = ["PREFIX", "inspector_app"]

PREFIX = "/_kiket/inspector"
"""Where ``kiket-sdk dev`` serves the inspector, next to the extension's own routes."""

_PING_SECONDS = 15.0
_STOP_POLL_SECONDS = 0.25
"""How often an event stream asks ``stopping()`` (so a server shutdown ends it promptly)."""
_RESENT_HEADERS = (
    "content-type",
    "x-kiket-signature",
    "x-kiket-timestamp",
    "x-kiket-event-version",
)


def _problem(status: int, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status)


async def _json_object(request: Request) -> dict[str, Any] | JSONResponse:
    """The request's JSON object body, or a 400 answer saying what is wrong with it."""
    try:
        data = json.loads(await request.body())
    except ValueError as exc:
        return _problem(400, f"the body is not JSON: {exc}")
    if not is_json_object(data):
        return _problem(400, "the body must be a JSON object")
    return data


def _catalogue() -> list[dict[str, Any]]:
    """Every event and version of the spec, with its model's JSON schema and example."""
    return [
        {
            "event": event,
            "version": version,
            "model": EVENT_PAYLOADS[(event, version)].__name__,
            "schema": EVENT_PAYLOADS[(event, version)].model_json_schema(),
            "example": event_payload(event, version),
        }
        for event, versions in sorted(KNOWN_EVENTS.items())
        for version in versions
    ]


def _never() -> bool:
    return False


def inspector_app(
    journal: DeliveryJournal,
    fake: FakeKiket,
    extension_url: str,
    secret: str,
    *,
    stopping: Callable[[], bool] = _never,
) -> Starlette:
    """The inspector's Starlette app (its routes carry the full `PREFIX`).

    ``extension_url``: where the extension listens (``http://127.0.0.1:8000``); ``secret``:
    the webhook secret deliveries are signed with; ``stopping``: true once the server shuts
    down, which ends the open event streams (else they would hold the shutdown up).
    """
    base = extension_url.rstrip("/")

    async def deliver(
        event: str, version: str | None, body: bytes, headers: dict[str, str]
    ) -> JSONResponse:
        sent = body.decode("utf-8", errors="replace")
        newest = max((entry["serial"] for entry in journal.entries()), default=0)
        path = f"/v/{version}/webhooks/{event}" if version else f"/webhooks/{event}"
        try:
            async with httpx.AsyncClient(timeout=30.0) as client:
                answer = await client.post(base + path, content=body, headers=headers)
        except httpx.TransportError as exc:
            return _problem(502, f"cannot reach the extension at {base}: {exc!r}")
        serial = next(
            (
                entry["serial"]
                for entry in journal.entries()
                if entry["serial"] > newest and entry["request"]["body"] == sent
            ),
            None,
        )
        return JSONResponse({"status": answer.status_code, "answer": answer.text, "serial": serial})

    async def list_deliveries(request: Request) -> Response:
        return JSONResponse({"deliveries": journal.entries()})

    async def one_delivery(request: Request) -> Response:
        entry = journal.entry(request.path_params["serial"])
        if entry is None:
            return _problem(404, "no such delivery (unknown, or dropped from the journal)")
        return JSONResponse(entry.as_json())

    async def stream(request: Request) -> Response:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)

        def put(entry: dict[str, Any]) -> None:
            if not queue.full():
                queue.put_nowait(entry)

        def push(entry: dict[str, Any]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the server stops
                loop.call_soon_threadsafe(put, entry)

        stop = journal.listen(push)

        async def events() -> AsyncGenerator[str, None]:
            try:
                yield ": connected\n\n"
                quiet = 0.0
                while not stopping():
                    try:
                        entry = await asyncio.wait_for(queue.get(), _STOP_POLL_SECONDS)
                    except TimeoutError:
                        quiet += _STOP_POLL_SECONDS
                        if quiet >= _PING_SECONDS:
                            quiet = 0.0
                            yield ": ping\n\n"
                        continue
                    quiet = 0.0
                    yield f"event: delivery\ndata: {json.dumps(entry)}\n\n"
            finally:
                stop()

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    async def catalogue(request: Request) -> Response:
        return JSONResponse({"events": _catalogue()})

    async def send(request: Request) -> Response:
        data = await _json_object(request)
        if isinstance(data, JSONResponse):
            return data
        event, version = data.get("event"), data.get("version", "v1")
        model = EVENT_PAYLOADS.get((str(event), str(version)))
        if model is None:
            return _problem(404, f"no event {event!r} at version {version!r} in the catalogue")
        payload = data.get("payload")
        if payload is None:
            payload = event_payload(str(event), str(version))
        try:
            model.model_validate(payload)
        except ValidationError as exc:
            errors = json.loads(exc.json(include_url=False, include_input=False))
            return _problem(422, f"the payload is not a valid {model.__name__}", errors=errors)
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        headers = signed_headers(secret, body, version=str(version))
        return await deliver(str(event), str(version), body, headers)

    async def resend(request: Request) -> Response:
        entry = journal.entry(request.path_params["serial"])
        if entry is None:
            return _problem(404, "no such delivery (unknown, or dropped from the journal)")
        data = await _json_object(request)
        if isinstance(data, JSONResponse):
            return data
        mode = data.get("as", "same")
        if mode == "same":
            headers = {k: v for k, v in entry.headers.items() if k.lower() in _RESENT_HEADERS}
            return await deliver(entry.event, entry.version, entry.body, headers)
        if mode != "new":
            return _problem(400, f'"as" must be "same" or "new", got {mode!r}')
        try:
            payload = json.loads(entry.body)
        except ValueError:
            return _problem(422, "the delivery's body is not JSON; only its same bytes can go")
        if is_json_object(payload):
            payload["id"] = f"evt_{uuid.uuid4().hex}"
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        headers = signed_headers(secret, body, version=entry.version)
        return await deliver(entry.event, entry.version, body, headers)

    async def read_fake(request: Request) -> Response:
        return JSONResponse(fake_state(fake))

    async def seed_fake(request: Request) -> Response:
        data = await _json_object(request)
        if isinstance(data, JSONResponse):
            return data
        try:
            counts = apply_seed(fake, data)
        except ValueError as exc:
            return _problem(422, str(exc))
        return JSONResponse({"added": counts})

    api = PREFIX + "/api"
    return Starlette(
        routes=[
            Route(api + "/deliveries", list_deliveries),
            Route(api + "/deliveries/{serial:int}", one_delivery),
            Route(api + "/deliveries/{serial:int}/resend", resend, methods=["POST"]),
            Route(api + "/stream", stream),
            Route(api + "/events", catalogue),
            Route(api + "/send", send, methods=["POST"]),
            Route(api + "/fake", read_fake),
            Route(api + "/fake/seed", seed_fake, methods=["POST"]),
            Mount(PREFIX, StaticFiles(packages=[("kiket_sdk._inspector", "page")], html=True)),
        ]
    )
