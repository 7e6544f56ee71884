"""Helpers for the end-to-end delivery-model tests: real uvicorn servers on loopback.

* `make_sdk` -- a `KiketSDK` with a webhook secret, telemetry off and a short shutdown grace;
* `issue_body` / `splice` / `sign` / `post` -- the bytes of a delivery, signed like Kiket does;
* `FakeAPI` / `fake_api` -- a tiny Starlette app serving a JWKS and the Kiket extension API that
  records every request it receives (method, path, headers);
* `raw_exchange` -- talk HTTP over a raw socket (bodies that never arrive, bogus headers);
* `wait_until` / `strict_json` -- polling without timing assertions, and strict JSON reading.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kiket_sdk import KiketSDK
from kiket_sdk.auth import generate_signature
from kiket_sdk.testing import event_payload, serve_app

SECRET = "whsec_delivery_model"
EXT_ID = "com.example.delivery-model"
WORKSPACE_TOKEN = "wk_delivery_model"
RATE_LIMIT = {"rate_limit": {"limit": 100, "remaining": 99, "window_seconds": 60, "reset_in": 30}}
TIMEOUT = 30.0  # seconds an HTTP call of a test may take (generous: never a timing assertion)

_ENV = (
    "KIKET_WEBHOOK_SECRET",
    "KIKET_BASE_URL",
    "KIKET_WORKSPACE_TOKEN",
    "KIKET_SDK_TELEMETRY_URL",
    "KIKET_SDK_TELEMETRY_OPTOUT",
    "KIKET_REDIS_URL",
)


def isolate(monkeypatch: Any, tmp_path: Path) -> None:
    """No KIKET_* variable and no stray manifest in the working directory reach the SDK."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def make_sdk(**options: Any) -> KiketSDK:
    """A `KiketSDK` for these tests; ``options`` override the defaults (``webhook_secret=None``
    gives token mode)."""
    options.setdefault("webhook_secret", SECRET)
    options.setdefault("telemetry_enabled", False)
    options.setdefault("extension_id", EXT_ID)
    options.setdefault("shutdown_grace", 5.0)
    return KiketSDK(**options)


# -- bodies and signatures -------------------------------------------------------------------


def new_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(dict(payload), separators=(",", ":")).encode()


def issue_payload(**overrides: Any) -> dict[str, Any]:
    """A valid ``issue.created`` v1 payload (the spec's example) with a fresh id.

    ``overrides`` replace top-level keys; ``id=None`` removes every event id.
    """
    payload = event_payload("issue.created")
    for key, value in overrides.items():
        payload[key] = value
    for key in ("id", "event_id", "delivery_id"):
        if key in payload and payload[key] is None:
            del payload[key]
    return payload


def issue_body(**overrides: Any) -> bytes:
    return encode(issue_payload(**overrides))


def splice(body: bytes, raw_value: bytes, key: bytes = b"x") -> bytes:
    """``body`` (a JSON object) with ``"key": <raw_value>`` added as its last member, verbatim."""
    assert body.endswith(b"}")
    return body[:-1] + b',"' + key + b'":' + raw_value + b"}"


def sign(body: bytes, *, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """Headers of a delivery of ``body`` signed at ``timestamp`` (default: now)."""
    signed = generate_signature(secret, body, int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": "application/json",
        "X-Kiket-Signature": signed["signature"],
        "X-Kiket-Timestamp": signed["timestamp"],
    }


def route(event: str = "issue.created", version: str = "v1") -> str:
    return f"/v/{version}/webhooks/{event}"


def post(
    base_url: str,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    event: str = "issue.created",
    version: str = "v1",
) -> httpx.Response:
    """POST ``body`` to ``event@version``; ``headers`` default to a fresh signature."""
    sent = dict(sign(body) if headers is None else headers)
    return httpx.post(base_url + route(event, version), content=body, headers=sent, timeout=TIMEOUT)


UNSIGNED = {"Content-Type": "application/json"}
"""Headers of a delivery without an HMAC signature (token mode)."""


# -- a fake Kiket: JWKS + API, recording what it receives ------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class FakeAPI:
    """Serves ``/.well-known/jwks.json`` (``jwks_status`` other than 200: that status, with an
    error body) and answers any other path (``/api/v1/ext/rate_limit`` with a rate limit).
    ``calls`` records the API requests, ``jwks_requests`` counts the key fetches."""

    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    jwks_status: int = 200
    calls: list[Call] = field(default_factory=list)
    jwks_requests: int = 0

    def app(self) -> Starlette:
        async def jwks(request: Request) -> Response:
            self.jwks_requests += 1
            if self.jwks_status != 200:
                return Response(
                    b"upstream exploded: Traceback (most recent call last)",
                    status_code=self.jwks_status,
                )
            return JSONResponse(self.jwks)

        async def api(request: Request) -> Response:
            self.calls.append(
                Call(
                    request.method,
                    request.url.path,
                    {k.lower(): v for k, v in request.headers.items()},
                )
            )
            if request.url.path == "/api/v1/ext/rate_limit":
                return JSONResponse(RATE_LIMIT)
            return JSONResponse({})

        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return Starlette(
            routes=[
                Route("/.well-known/jwks.json", jwks, methods=["GET"]),
                Route("/{path:path}", api, methods=methods),
            ]
        )


@contextmanager
def fake_api(jwks: dict[str, Any] | None = None) -> Iterator[tuple[str, FakeAPI]]:
    """A running `FakeAPI`: ``(base_url, fake)``."""
    fake = FakeAPI(jwks=jwks or {"keys": []})
    with serve_app(fake.app()) as url:
        yield url, fake


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


# -- raw HTTP ----------------------------------------------------------------------------------


@dataclass
class RawExchange:
    data: bytes
    closed: bool
    """The server closed the connection (EOF) within the read timeout."""

    @property
    def status(self) -> int:
        line = self.data.split(b"\r\n", 1)[0]
        parts = line.split(b" ")
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1

    @property
    def body(self) -> bytes:
        return self.data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in self.data else b""

    @property
    def headers(self) -> dict[str, str]:
        head = self.data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
        return {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in head)
        }


def raw_exchange(base_url: str, request: bytes, *, read_timeout: float = 5.0) -> RawExchange:
    """Send ``request`` as is over a new connection, then read until EOF (or ``read_timeout``
    seconds pass without the server closing: ``closed=False``)."""
    parts = urlsplit(base_url)
    assert parts.hostname is not None
    assert parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=read_timeout) as sock:
        sock.sendall(request)
        sock.settimeout(read_timeout)
        chunks: list[bytes] = []
        closed = False
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    closed = True
                    break
                chunks.append(chunk)
        except TimeoutError:
            closed = False
        except ConnectionResetError:
            closed = True
    return RawExchange(b"".join(chunks), closed)


# -- small utilities -----------------------------------------------------------------------


def wait_until(predicate: Callable[[], bool], *, timeout: float = 10.0, what: str = "") -> None:
    """Poll ``predicate`` until it holds; fail after ``timeout`` seconds (never a timing
    assertion: only a bound on how long a test may hang)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.01)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name!r} in an answer")


def strict_json(content: bytes) -> Any:
    """Parse an answer as strict RFC 8259 JSON (``NaN``/``Infinity`` literals raise)."""
    return json.loads(content, parse_constant=_refuse_constant)
