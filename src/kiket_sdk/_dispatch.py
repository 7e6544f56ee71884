"""The framework-free dispatch core: one delivery in, one answer out.

``Dispatcher.dispatch`` runs the whole pipeline on plain data, so tests (and other web
frameworks) can call it without HTTP: proof of origin -> version -> handler -> typed payload ->
runtime token -> scopes -> handler call -> JSON answer. Every failure becomes a 4xx/5xx
``Answer`` with an ``{"error": ...}`` body; nothing raises out of ``dispatch``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio.to_thread
from pydantic import ValidationError

from kiket_sdk import _messages as msg
from kiket_sdk._context import (
    AuthContext,
    BaseHandlerContext,
    DeliveryFacts,
    HandlerContext,
    SyncHandlerContext,
)
from kiket_sdk._envelope import Envelope, envelope_from_dict, envelope_from_model
from kiket_sdk._exceptions import KiketSDKError, ScopeError, WebhookVerificationError
from kiket_sdk._generated.models import EventEnvelope
from kiket_sdk._handlers import HandlerSpec
from kiket_sdk._responses import render_result
from kiket_sdk._runtime_token import RuntimeTokenClaims
from kiket_sdk._telemetry import TelemetryRecord, TelemetryReporter
from kiket_sdk._verify import DeliveryVerifier, JWKSUnavailableError
from kiket_sdk._versions import resolve_version

__all__ = ["Answer", "DeliveryGuard", "Dispatcher", "GuardTicket", "InboundRequest", "error_body"]

logger = logging.getLogger("kiket_sdk")

_SIGNATURE = b"x-kiket-signature"
_TIMESTAMP = b"x-kiket-timestamp"
_VERSION = b"x-kiket-event-version"
_SINGLE = (_SIGNATURE, _TIMESTAMP, _VERSION)
_JSON = {"content-type": "application/json"}
# Event names and versions come from the URL: log them only when they look like names.
_LOGGABLE_NAME = re.compile(r"[A-Za-z0-9_.:@-]{1,100}")


@dataclass(slots=True)
class InboundRequest:
    """One delivery as it came off the wire."""

    event: str
    body: bytes
    raw_headers: Sequence[tuple[bytes, bytes]]
    path_version: str | None = None
    query_version: str | None = None


@dataclass(slots=True)
class Answer:
    """What to send back, plus what the runtime needs after sending it."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=lambda: dict(_JSON))
    deferred: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = field(
        default_factory=list
    )


@dataclass(frozen=True, slots=True)
class GuardTicket:
    """A claim on an event id, held while its handler runs."""

    key: str
    token: str | None


class DeliveryGuard(Protocol):
    """Called around the handler (dedupe and replay guard; see ``kiket_sdk._runtime``)."""

    async def enter(
        self, event_id: str | None, signature: tuple[str, str] | None
    ) -> Answer | GuardTicket | None: ...

    async def leave(self, ticket: GuardTicket, answer: Answer) -> None: ...


def error_body(message: str, **details: Any) -> bytes:
    """``{"error": message, **details}`` as compact JSON."""
    return json.dumps({"error": message, **details}, separators=(",", ":")).encode()


def _fail(status: int, message: str, **details: Any) -> Answer:
    return Answer(status, error_body(message, **details))


class _Rejected(Exception):  # noqa: N818 - internal control flow, never escapes dispatch
    def __init__(self, answer: Answer) -> None:
        self.answer = answer


def _validation_answer(exc: ValidationError, spec: HandlerSpec) -> Answer:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    if any(e["type"] == "json_invalid" for e in errors):
        return _fail(400, msg.MALFORMED_JSON)
    if any(e["loc"] == () and e["type"] in ("model_type", "dict_type") for e in errors):
        return _fail(400, msg.NOT_AN_OBJECT)
    details = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
    return _fail(
        422, msg.INVALID_PAYLOAD.format(event=spec.event, version=spec.version), details=details
    )


def _parse(spec: HandlerSpec, body: bytes) -> tuple[Any, Envelope]:
    model = spec.model
    if model is not None:
        try:
            payload: Any = model.model_validate_json(body)
        except ValidationError as exc:
            raise _Rejected(_validation_answer(exc, spec)) from None
        if isinstance(payload, EventEnvelope):
            return payload, envelope_from_model(payload)
        return payload, envelope_from_dict(json.loads(body))
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _Rejected(_fail(400, msg.MALFORMED_JSON)) from None
    if not isinstance(data, dict):
        raise _Rejected(_fail(400, msg.NOT_AN_OBJECT))
    return data, envelope_from_dict(data)


def _headers(raw: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        if key.encode() in _SINGLE and key in headers:
            raise _Rejected(_fail(401, msg.DUPLICATE_HEADER.format(name=key)))
        headers[key] = value.decode("latin-1")
    return headers


class Dispatcher:
    """Routes verified deliveries to registered handlers (see the module docstring)."""

    def __init__(
        self,
        *,
        handlers: Mapping[tuple[str, str], HandlerSpec],
        verifier: DeliveryVerifier,
        settings: Mapping[str, Any],
        extension_id: str | None,
        extension_version: str | None,
        make_async_client: Callable[[DeliveryFacts], Any],
        make_sync_client: Callable[[DeliveryFacts], Any],
        telemetry: TelemetryReporter | None = None,
        debug: bool = False,
        handler_timeout: float | None = None,
    ) -> None:
        self.handlers = handlers
        self.verifier = verifier
        self.settings = settings
        self.extension_id = extension_id
        self.extension_version = extension_version
        self._make_async_client = make_async_client
        self._make_sync_client = make_sync_client
        self.telemetry = telemetry
        self.debug = debug
        self.handler_timeout = handler_timeout
        self._unhandled_logged: set[tuple[str, str]] = set()

    async def dispatch(self, request: InboundRequest, guard: DeliveryGuard | None = None) -> Answer:
        """Run the delivery through the pipeline; always returns an ``Answer``."""
        try:
            return await self._dispatch(request, guard)
        except _Rejected as rejected:
            return rejected.answer

    async def _dispatch(self, request: InboundRequest, guard: DeliveryGuard | None) -> Answer:
        headers = _headers(request.raw_headers)
        signature = headers.get("x-kiket-signature")
        timestamp = headers.get("x-kiket-timestamp")
        try:
            hmac_verified = self.verifier.check_signature(request.body, signature, timestamp)
        except WebhookVerificationError as exc:
            return _fail(401, str(exc))
        version = resolve_version(
            request.path_version, headers.get("x-kiket-event-version"), request.query_version
        )
        if version is None:
            return _fail(400, msg.MISSING_VERSION)
        spec = self.handlers.get((request.event, version))
        if spec is None:
            return self._no_handler(request.event, version)
        payload, envelope = _parse(spec, request.body)
        try:
            claims, token_verified = await self.verifier.check_token(envelope.runtime_token)
        except JWKSUnavailableError as exc:
            answer = _fail(503, str(exc))
            answer.headers["retry-after"] = "30"
            return answer
        except WebhookVerificationError as exc:
            return _fail(401, str(exc))
        auth = _auth_context(envelope, claims, token_verified)
        missing = auth.missing_scopes(spec.required_scopes)
        if missing:
            return self._scope_answer(ScopeError(spec.required_scopes, missing))
        facts = DeliveryFacts(
            event=request.event,
            event_version=version,
            headers=headers,
            payload_secrets=envelope.secrets,
            auth=auth,
            delivery_id=envelope.event_id,
            api_base_url=envelope.api_base_url if (hmac_verified or token_verified) else None,
            settings=self.settings,
            extension_id=self.extension_id,
            extension_version=self.extension_version,
        )
        ticket = None
        if guard is not None:
            replay_key = (
                (timestamp, signature) if hmac_verified and timestamp and signature else None
            )
            entered = await guard.enter(envelope.event_id, replay_key)
            if isinstance(entered, Answer):
                return entered
            ticket = entered
        answer = await self._call(spec, payload, facts)
        if guard is not None and ticket is not None:
            await guard.leave(ticket, answer)
        return answer

    def _no_handler(self, event: str, version: str) -> Answer:
        registered = sorted(v for (e, v) in self.handlers if e == event)
        loggable = _LOGGABLE_NAME.fullmatch(event) and _LOGGABLE_NAME.fullmatch(version)
        if (
            loggable
            and (event, version) not in self._unhandled_logged
            and len(self._unhandled_logged) < 256
        ):
            self._unhandled_logged.add((event, version))
            logger.warning(msg.unhandled_snippet(event, version))
        return _fail(
            404, msg.no_handler(event, version, registered), registered_versions=registered
        )

    @staticmethod
    def _scope_answer(exc: ScopeError) -> Answer:
        return _fail(
            403,
            "Insufficient scopes",
            required_scopes=exc.required_scopes,
            missing_scopes=exc.missing_scopes,
        )

    async def _call(self, spec: HandlerSpec, payload: Any, facts: DeliveryFacts) -> Answer:
        ctx: BaseHandlerContext
        if spec.is_async:
            ctx = HandlerContext(facts, self._make_async_client)
        else:
            ctx = SyncHandlerContext(facts, self._make_sync_client)
        args = (payload, ctx) if spec.wants_context else (payload,)
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            if self.handler_timeout is None:
                result = await self._invoke(spec, args)
            else:
                async with asyncio.timeout(self.handler_timeout):
                    result = await self._invoke(spec, args)
            answer = Answer(200, render_result(result), deferred=facts.deferred)
        except ScopeError as exc:
            error, answer = exc, self._scope_answer(exc)
        except TimeoutError as exc:
            error = exc
            answer = _fail(503, msg.HANDLER_TIMEOUT.format(seconds=self.handler_timeout or 0))
            answer.headers["retry-after"] = "30"
        except Exception as exc:
            error = exc
            answer = self._failure_answer(spec, exc)
        self._report(spec, facts, answer.status, started, error)
        return answer

    @staticmethod
    async def _invoke(spec: HandlerSpec, args: tuple[Any, ...]) -> Any:
        if spec.is_async:
            return await spec.func(*args)
        return await anyio.to_thread.run_sync(lambda: spec.func(*args))

    def _failure_answer(self, spec: HandlerSpec, exc: Exception) -> Answer:
        logger.exception("handler %s for %s@%s failed", spec.name, spec.event, spec.version)
        details: dict[str, Any] = {"error_class": type(exc).__name__}
        if isinstance(exc, KiketSDKError) or self.debug:
            details["detail"] = str(exc)
        return _fail(500, msg.HANDLER_FAILED, **details)

    def _report(
        self,
        spec: HandlerSpec,
        facts: DeliveryFacts,
        status: int,
        started: float,
        error: BaseException | None,
    ) -> None:
        if self.telemetry is None or not self.telemetry.active:
            return
        self.telemetry.report(
            TelemetryRecord(
                event=spec.event,
                version=spec.version,
                status="ok" if status < 400 else "error",
                duration_ms=(time.perf_counter() - started) * 1000,
                extension_id=facts.extension_id,
                extension_version=facts.extension_version,
                error_class=type(error).__name__ if error else None,
                error_message=str(error) if isinstance(error, KiketSDKError) else None,
                metadata={"http_status": status, "delivery_id": facts.delivery_id},
            )
        )


def _auth_context(
    envelope: Envelope, claims: RuntimeTokenClaims | None, verified: bool
) -> AuthContext:
    scopes = claims.scopes if claims and claims.scopes else envelope.scopes
    return AuthContext(
        runtime_token=envelope.runtime_token,
        token_type=envelope.token_type,
        expires_at=envelope.expires_at,
        scopes=tuple(scopes),
        org_id=claims.org_id if claims else None,
        ext_id=claims.ext_id if claims else None,
        proj_id=claims.proj_id if claims else None,
        verified=verified,
    )
