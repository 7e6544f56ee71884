"""The inspector's JSON API and event stream, a Starlette app under `PREFIX`.

=======  ==========================================  ===========================================
method   path (under ``/_kiket/inspector``)          answer
=======  ==========================================  ===========================================
GET      ``/api/deliveries``                         ``{"deliveries": [entry, ...]}``, newest first
GET      ``/api/deliveries/{serial}``                one entry (404 when unknown or dropped)
GET      ``/api/stream``                             Server-Sent Events: ``event: delivery``,
                                                     ``data:`` the entry, after each change
GET      ``/api/events``                             the catalogue (`catalogue.EventCatalogue`):
                                                     ``{"events": [{"event", "version",
                                                     "registered", "model", "schema",
                                                     "example"}]}``, the extension's events first
POST     ``/api/send``                               ``{"event", "version", "payload"}`` or
                                                     ``{"event", "version", "payload_text"}``
                                                     (the payload as JSON text: its very bytes
                                                     are sent, so no number is rounded); the
                                                     payload is checked (`EventCatalogue.check`:
                                                     422 with the errors), signed and delivered;
                                                     answers ``{"status", "answer",
                                                     "answer_headers", "serial", "ledger"}``:
                                                     the extension's answer, and the delivery's
                                                     journal serial and ledger outcome (``null``
                                                     when the journal has no entry for it)
POST     ``/api/deliveries/{serial}/resend``         ``{"as": "same"}`` (also ``{}``: the
                                                     default) posts the same bytes and every
                                                     header again but the connection's own
                                                     (the ledger's duplicate path);
                                                     ``{"as": "new"}`` gives the body a new ``id``
                                                     (`resending.with_new_id`: every other byte
                                                     kept) and signs it afresh (422 for a request
                                                     answered outside the pipeline); answers as
                                                     ``send`` does
POST     ``/api/validate``                           as ``send``'s body: the
                                                     check ``send`` runs, without sending:
                                                     ``{"valid": true}`` or ``{"valid": false,
                                                     "errors": [{"loc", "msg", "type"}, ...]}``
GET      ``/api/fake``                               the fake's state (`seeding.fake_state`,
                                                     with each id as text)
POST     ``/api/fake/seed``                          a seed (`seeding.apply_seed`, all or
                                                     nothing); answers the counts added, or 422
                                                     naming the bad key
PUT      ``/api/fake/records/{project_id}/{module}/  the body (a JSON object) becomes that
         {table}/{record_id}``                       record, created or replaced; answers it
DELETE   ``/api/fake/records/{project_id}/{module}/  deletes the record (404 when unknown)
         {table}/{record_id}``
PUT      ``/api/fake/secrets/{extension_id}/{name}`` ``{"value": text}`` sets the secret
DELETE   ``/api/fake/secrets/{extension_id}/{name}`` deletes the secret (404 when unknown)
DELETE   ``/api/fake/sla_events/{event_id}``         deletes the SLA event (404 when unknown)
=======  ==========================================  ===========================================

Every path segment of the ``fake/`` routes follows the seed rule (`editing.segment_text`, 422
naming the part), and a project id is canonical (`editing.project_text`: ``042`` is ``42``).

Every body is read with the extension's own JSON rule (`json_codec.parse_object`: strict RFC
8259, no ``NaN``/``Infinity``, no lone surrogates), so what ``validate`` passes the extension
can read. Every refusal is JSON, ``{"detail": text}`` (plus ``errors`` for an invalid
payload): 400 for a body that is not a JSON object under that rule, 403 for a request another
site could have made (`cross_site.CrossSiteGuard`: a DNS-name ``Host``, a foreign ``Origin``),
404 for an unknown delivery, event or object, 405 for a wrong method, 408 for a body that
stalls (`BODY_SECONDS`), 413 for a body over 1 MiB, 415 for a ``POST`` or ``PUT`` not sent as
``application/json``, 422 for values of the wrong type or shape.

``GET /_kiket/inspector/`` is the page (``page/``: HTML, CSS and JavaScript shipped in the
package, no framework, nothing fetched from elsewhere); it uses only this API.

An entry is `JournalEntry.as_json`. Deliveries are posted to the extension over HTTP at
``extension_url`` (the dev server itself, on loopback), so they go through exactly the path a
real delivery takes; each carries a `SEND_HEADER` with a fresh token, which finds its journal
entry exactly (however many run at once). The event stream sends a ``: connected`` comment
first (with ``retry: 1000``: a page reconnects within a second of a restart) and a
``: ping`` comment every 15 seconds of silence; it ends when ``stopping()`` turns
true.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncGenerator, Callable, Iterable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kiket_sdk._delivery.json_codec import JSONRuleError, dump, parse_object
from kiket_sdk._delivery.request import webhook_path
from kiket_sdk._inspector import editing
from kiket_sdk._inspector.catalogue import EventCatalogue
from kiket_sdk._inspector.cross_site import CrossSiteGuard
from kiket_sdk._inspector.journal import DeliveryJournal, JournalEntry
from kiket_sdk._inspector.resending import with_new_id
from kiket_sdk._inspector.seeding import apply_seed, fake_state
from kiket_sdk._json_shapes import json_kind
from kiket_sdk.testing import FakeKiket, signed_headers

__all__ = ["BODY_SECONDS", "MAX_BODY_BYTES", "PREFIX", "SEND_HEADER", "inspector_app"]

PREFIX = "/_kiket/inspector"
"""Where ``kiket-sdk dev`` serves the inspector, next to the extension's own routes."""

MAX_BODY_BYTES = 1024 * 1024
"""The largest request body the API reads (413 beyond)."""

BODY_SECONDS = 10.0
"""How long the API waits for a whole request body (408 beyond: a stalled client)."""

SEND_HEADER = "x-kiket-inspector-send"
"""The request header ``send`` and ``resend`` add to each delivery (a fresh random token), by
which they find its journal entry, however many deliveries run at once."""

_PING_SECONDS = 15.0
_STOP_POLL_SECONDS = 0.25
"""How often an event stream asks ``stopping()`` (so a server shutdown ends it promptly)."""
_LONGEST_SERIAL = 18
"""Serials have at most this many digits (a longer one is unknown, never parsed)."""
_NOT_RESENT_HEADERS = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te"}
    | {"upgrade", "expect", "proxy-connection", SEND_HEADER}
)
"""Headers "resend same bytes" does not copy: the connection's own (the new request has its
own), and the old `SEND_HEADER` (the resend gets a fresh one). Every other header goes again."""
_RETRY_MILLISECONDS = 1000
"""How soon a page's event stream reconnects after the server went away (a restart)."""


def _problem(status: int, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status)


class _RefusedError(Exception):
    """A request the API refuses: becomes ``{"detail": ...}`` with ``status``."""

    def __init__(self, status: int, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.answer = _problem(status, detail, **extra)


async def _refused(request: Request, exc: Exception) -> Response:
    if isinstance(exc, _RefusedError):
        return exc.answer
    if isinstance(exc, HTTPException):  # Starlette's own 404 / 405, as JSON
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
    raise exc


async def _json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object body, read with the rule the extension reads deliveries with
    (`json_codec.parse_object`: strict RFC 8259, so no ``NaN``, no lone surrogate, nothing the
    extension would refuse); `_RefusedError` (408, 413, 400) saying what is wrong with it."""
    body = bytearray()
    try:
        async with asyncio.timeout(BODY_SECONDS):
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise _RefusedError(413, f"the body is over {MAX_BODY_BYTES} bytes")
    except TimeoutError:
        raise _RefusedError(408, f"the body did not arrive within {BODY_SECONDS} s") from None
    try:
        return parse_object(bytes(body))  # the extension's own rule: strict RFC 8259
    except JSONRuleError as exc:
        raise _RefusedError(400, str(exc).replace("request body", "the body", 1)) from None


def _text(data: dict[str, Any], key: str, default: str | None = None) -> str:
    """``data[key]`` when it is text (``default`` when absent); `_RefusedError` (422) otherwise."""
    value = data.get(key, default)
    if not isinstance(value, str):
        raise _RefusedError(422, f'"{key}" must be text, got {json_kind(value)}')
    return value


def _entry(journal: DeliveryJournal, request: Request) -> JournalEntry:
    """The delivery named by the path's serial; `_RefusedError` (404) when unknown or dropped."""
    text: str = request.path_params["serial"]
    entry = None
    if text.isascii() and text.isdigit() and len(text) <= _LONGEST_SERIAL:
        entry = journal.entry(int(text))
    if entry is None:
        raise _RefusedError(404, "no such delivery (unknown, or dropped from the journal)")
    return entry


def _header_bytes(text: str) -> bytes:
    """A header name or value as sent: journaled headers were decoded as latin-1, so this gives
    back their very bytes; text beyond latin-1 (a version from a percent-decoded path) as UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _sent_with(entry: dict[str, Any], token: str) -> bool:
    """Whether a journal entry is the request `SEND_HEADER` ``token`` was sent with."""
    headers: dict[str, str] = entry["request"]["headers"]
    return any(name.lower() == SEND_HEADER and value == token for name, value in headers.items())


def _never() -> bool:
    return False


def inspector_app(
    journal: DeliveryJournal,
    fake: FakeKiket,
    extension_url: str,
    secret: str,
    *,
    stopping: Callable[[], bool] = _never,
    registered: Iterable[tuple[str, str]] = (),
) -> Starlette:
    """The inspector's Starlette app (its routes carry the full `PREFIX`).

    ``extension_url``: where the extension listens (``http://127.0.0.1:8000``); ``secret``:
    the webhook secret deliveries are signed with; ``stopping``: true once the server shuts
    down, which ends the open event streams (else they would hold the shutdown up);
    ``registered``: the (event, version) pairs the extension has handlers for (listed first in
    the catalogue, sendable even when the spec does not know them).
    """
    base = extension_url.rstrip("/")
    catalogue = EventCatalogue(registered)

    async def deliver(
        event: str, version: str | None, body: bytes, headers: dict[str, str]
    ) -> JSONResponse:
        """Post a delivery to the extension; answers its status, answer text and headers, and
        the journal's serial and ledger outcome for it (found by `SEND_HEADER`)."""
        token = uuid.uuid4().hex
        sent = [(_header_bytes(name), _header_bytes(value)) for name, value in headers.items()]
        sent.append((SEND_HEADER.encode("ascii"), token.encode("ascii")))
        try:
            async with httpx.AsyncClient(timeout=30.0) as client:
                answer = await client.post(
                    base + webhook_path(event, version), content=body, headers=sent
                )
        except httpx.TransportError as exc:
            return _problem(502, f"cannot reach the extension at {base}: {exc!r}")
        entry = next(
            (item for item in journal.entries() if _sent_with(item, token)),
            None,
        )
        return JSONResponse(
            {
                "status": answer.status_code,
                "answer": answer.text,
                "answer_headers": {
                    name.decode("latin-1").lower(): value.decode("latin-1")
                    for name, value in answer.headers.raw
                },
                "serial": None if entry is None else entry["serial"],
                "ledger": None if entry is None else entry["ledger"],
            }
        )

    def send_parts(data: dict[str, Any]) -> tuple[str, str, object]:
        """The event, version and payload of a send or validate body (the event's template when
        there is no payload); `_RefusedError` (422 wrong types, 404 unknown event) otherwise."""
        event, version = _text(data, "event"), _text(data, "version", "v1")
        if not catalogue.knows(event, version):
            raise _RefusedError(404, f"no event {event[:200]!r} at version {version[:50]!r}")
        if "payload" in data and "payload_text" in data:
            raise _RefusedError(422, 'give "payload" or "payload_text", not both')
        if "payload_text" in data:
            try:  # the extension's own rule, on the very bytes that will be sent
                return event, version, parse_object(_text(data, "payload_text").encode("utf-8"))
            except JSONRuleError as exc:
                detail = str(exc).replace("request body", '"payload_text"', 1)
                raise _RefusedError(400, detail) from None
            except UnicodeEncodeError:
                raise _RefusedError(400, '"payload_text" holds a lone surrogate') from None
        payload = data["payload"] if "payload" in data else catalogue.example(event, version)
        return event, version, payload

    async def list_deliveries(request: Request) -> Response:
        return JSONResponse({"deliveries": journal.entries()})

    async def one_delivery(request: Request) -> Response:
        return JSONResponse(_entry(journal, request).as_json())

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
                yield f": connected\nretry: {_RETRY_MILLISECONDS}\n\n"
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

    async def list_events(request: Request) -> Response:
        return JSONResponse({"events": catalogue.items()})

    async def validate(request: Request) -> Response:
        errors = catalogue.check(*send_parts(await _json_object(request)))
        return JSONResponse({"valid": False, "errors": errors} if errors else {"valid": True})

    async def send(request: Request) -> Response:
        data = await _json_object(request)
        event, version, payload = send_parts(data)
        errors = catalogue.check(event, version, payload)
        if errors:
            raise _RefusedError(422, f"the payload is not a valid {event}@{version}", errors=errors)
        if "payload_text" in data:  # the very text typed: its bytes go unchanged
            body = _text(data, "payload_text").encode("utf-8")
        else:
            body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        return await deliver(event, version, body, signed_headers(secret, body, version=version))

    async def resend(request: Request) -> Response:
        entry = _entry(journal, request)
        data = await _json_object(request)
        if entry.answered_by != "pipeline":
            raise _RefusedError(422, "this request was answered before the delivery pipeline")
        mode = data.get("as", "same")
        if mode == "same":
            headers = {
                name: value
                for name, value in entry.headers.items()
                if name.lower() not in _NOT_RESENT_HEADERS
            }
            return await deliver(entry.event, entry.version, entry.body, headers)
        if mode != "new":
            raise _RefusedError(
                400,
                '"as" must be "same" or "new", got '
                + (repr(mode[:100]) if isinstance(mode, str) else json_kind(mode)),
            )
        try:
            parse_object(entry.body)
            body = with_new_id(entry.body, f"evt_{uuid.uuid4().hex}")
        except (JSONRuleError, UnicodeDecodeError):
            raise _RefusedError(
                422, "the delivery's body is not a JSON object; only its same bytes can go"
            ) from None
        headers = signed_headers(secret, body, version=entry.version)
        return await deliver(entry.event, entry.version, body, headers)

    async def read_fake(request: Request) -> Response:
        # strict JSON whatever the fake holds (a non-finite float as null): never a 500
        return Response(dump(fake_state(fake)), media_type="application/json")

    async def seed_fake(request: Request) -> Response:
        data = await _json_object(request)
        try:
            counts = apply_seed(fake, data)
        except ValueError as exc:
            raise _RefusedError(422, str(exc)) from None
        return JSONResponse({"added": counts})

    async def record(request: Request) -> Response:
        where = request.path_params
        place = (where["module"], where["table"], where["project_id"], where["record_id"])
        try:
            if request.method == "DELETE":
                editing.delete_record(fake, *place)
                return JSONResponse({"deleted": True})
            stored = editing.put_record(fake, *place, await _json_object(request))
        except KeyError as exc:
            raise _RefusedError(404, str(exc.args[0])) from None
        except ValueError as exc:
            raise _RefusedError(422, str(exc)) from None
        return JSONResponse({"record": stored})

    async def secret_value(request: Request) -> Response:
        extension_id, name = request.path_params["extension_id"], request.path_params["name"]
        try:
            if request.method == "DELETE":
                editing.delete_secret(fake, extension_id, name)
                return JSONResponse({"deleted": True})
            data = await _json_object(request)
            editing.put_secret(fake, extension_id, name, data.get("value"))
        except KeyError as exc:
            raise _RefusedError(404, str(exc.args[0])) from None
        except ValueError as exc:
            raise _RefusedError(422, str(exc)) from None
        return JSONResponse({"set": True})

    async def sla_event(request: Request) -> Response:
        try:
            editing.delete_sla_event(fake, request.path_params["event_id"])
        except KeyError as exc:
            raise _RefusedError(404, str(exc.args[0])) from None
        except ValueError as exc:
            raise _RefusedError(422, str(exc)) from None
        return JSONResponse({"deleted": True})

    api = PREFIX + "/api"
    records = api + "/fake/records/{project_id}/{module}/{table}/{record_id}"
    return Starlette(
        routes=[
            Route(api + "/deliveries", list_deliveries),
            Route(api + "/deliveries/{serial}", one_delivery),
            Route(api + "/deliveries/{serial}/resend", resend, methods=["POST"]),
            Route(api + "/stream", stream),
            Route(api + "/events", list_events),
            Route(api + "/validate", validate, methods=["POST"]),
            Route(api + "/send", send, methods=["POST"]),
            Route(api + "/fake", read_fake),
            Route(api + "/fake/seed", seed_fake, methods=["POST"]),
            Route(records, record, methods=["PUT", "DELETE"]),
            Route(
                api + "/fake/secrets/{extension_id}/{name}", secret_value, methods=["PUT", "DELETE"]
            ),
            Route(api + "/fake/sla_events/{event_id}", sla_event, methods=["DELETE"]),
            Mount(PREFIX, StaticFiles(packages=[("kiket_sdk._inspector", "page")], html=True)),
        ],
        exception_handlers={_RefusedError: _refused, HTTPException: _refused},
        middleware=[Middleware(CrossSiteGuard)],
    )
