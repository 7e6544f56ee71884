"""The inbound pipeline: one `Delivery` in, one `Answer` out, in this order.

1. **signature** -- with a webhook secret, the HMAC over the raw body (401), before any parsing;
2. **route** -- a version (400) and a handler for ``event@version`` (404);
3. **body** -- the one JSON rule (`json_codec`, 400), then the envelope and the handler's model
   (422), the same for every handler kind;
4. **proof** -- `proof.DeliveryVerifier.prove` (401; 503 when Kiket's keys are unavailable), then
   the handler's ``required_scopes`` (403);
5. **ledger** -- `ledger.Ledger.begin`: a stored answer, 401 for a reused proof, 409, 503, or a
   claim to run under;
6. **run** -- `dispatch.HandlerRunner` calls the handler; the ledger records its answer;
7. **after** -- ``ctx.defer`` work runs once the answer is on its way; shutdown waits for it.

With observers registered (`kiket_sdk.observation`), each step is reported to them, and the
delivery is the context's `kiket_sdk.observation.current_delivery` while it is served (its
outbound calls and deferred jobs report to it); with none, the only cost is one attribute test.

Nothing raises out of `DeliveryPipeline.handle`.
"""

from __future__ import annotations

import asyncio
import difflib
import inspect
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import anyio.to_thread
from pydantic import ValidationError

from kiket_sdk._delivery import messages as msg
from kiket_sdk._delivery.answer import Answer, DeferredCall, failure
from kiket_sdk._delivery.api_hosts import ApiHostPolicy
from kiket_sdk._delivery.context import AuthContext, DeliveryFacts
from kiket_sdk._delivery.dispatch import HandlerRunner, scope_answer
from kiket_sdk._delivery.envelope import Envelope, read_envelope
from kiket_sdk._delivery.handlers import HandlerSpec
from kiket_sdk._delivery.json_codec import JSONRuleError, parse_object
from kiket_sdk._delivery.ledger import DUPLICATE_HEADER, Ledger, Ticket
from kiket_sdk._delivery.proof import DeliveryVerifier, Proof
from kiket_sdk._delivery.request import Delivery, normalize_version
from kiket_sdk._exceptions import (
    ScopeError,
    SigningKeysUnavailableError,
    WebhookVerificationError,
)
from kiket_sdk._generated.models import EventEnvelope
from kiket_sdk._telemetry import TelemetryRecord, TelemetryReporter
from kiket_sdk.observation import (
    DeferredEnded,
    DeferredStarted,
    DeliveryEnded,
    DeliveryObservers,
    LedgerChecked,
    LedgerOutcome,
    ObservedDelivery,
    ProofChecked,
    current_deferred_job,
    current_delivery,
)

__all__ = ["DeliveryPipeline"]

logger = logging.getLogger("kiket_sdk")

# Event names and versions come from the URL: log them only when they look like names.
_LOGGABLE_NAME = re.compile(r"[A-Za-z0-9_.:@-]{1,100}")
_RETRY_AFTER_SHUTDOWN = 5.0


class _Rejected(Exception):  # noqa: N818 - internal control flow, never escapes handle()
    def __init__(self, answer: Answer) -> None:
        self.answer = answer


def _validation_answer(exc: ValidationError, what: str) -> Answer:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    details = [
        {"loc": [str(p)[:100] for p in e["loc"]][:20], "msg": e["msg"][:200], "type": e["type"]}
        for e in errors[:50]
    ]
    return failure(422, what, details=details)


class DeliveryPipeline:
    """Serves deliveries (see the module docstring). One per serving period of an SDK.

    Collaborators are passed in, each for what it does: ``handlers`` by (event, version),
    the ``verifier``, the ``ledger``, the ``runner``; ``settings`` and the extension's id and
    version go into every context; ``api_hosts`` decides where credentials may go;
    ``telemetry`` hears of failed deferred work; ``observers`` (shared with the SDK, so
    observers added later count) hear of every step; ``shutdown_grace`` is in seconds.
    """

    def __init__(
        self,
        *,
        handlers: Mapping[tuple[str, str], HandlerSpec],
        verifier: DeliveryVerifier,
        ledger: Ledger,
        runner: HandlerRunner,
        settings: Mapping[str, Any],
        extension_id: str | None,
        extension_version: str | None,
        api_hosts: ApiHostPolicy,
        telemetry: TelemetryReporter | None = None,
        shutdown_grace: float = 30.0,
        on_close: Callable[[], Awaitable[None]] | None = None,
        observers: DeliveryObservers | None = None,
    ) -> None:
        self.handlers = handlers
        self.verifier = verifier
        self.ledger = ledger
        self.runner = runner
        self.settings = settings
        self.extension_id = extension_id
        self.extension_version = extension_version
        self.api_hosts = api_hosts
        self.telemetry = telemetry
        self.shutdown_grace = shutdown_grace
        self._on_close = on_close
        self.observers = observers if observers is not None else DeliveryObservers()
        self._background: set[asyncio.Task[None]] = set()
        self._inflight = 0
        self._idle: asyncio.Event | None = None
        self._unhandled_logged: set[tuple[str, str]] = set()
        self._refused_hosts: set[str] = set()
        self.accepting: bool = True
        self.lifespan: Literal["unknown", "running", "none"] = "unknown"
        """``"running"``: a lifespan will shut this pipeline down (``sdk.lifespan``); ``"none"``:
        the caller knows there is none and settles each delivery (the testing kit);
        ``"unknown"``: served without one, warned about once (see `after_answer`)."""
        self._lifespan_warned = False

    # -- one delivery -----------------------------------------------------------------------

    async def handle(self, delivery: Delivery) -> Answer:
        """Serve one delivery; always returns an `Answer`."""
        if not self.accepting:
            return failure(503, msg.SHUTTING_DOWN, retry_after=_RETRY_AFTER_SHUTDOWN)
        if self.observers.observers:
            return await self._handle_observed(delivery)
        return await self._serve(delivery, None)

    async def _handle_observed(self, delivery: Delivery) -> Answer:
        observed = self.observers.start(
            delivery.event, delivery.version, delivery.headers, delivery.body
        )
        token = current_delivery.set(observed)
        try:  # the deferred jobs spawned in here inherit the context variable
            return await self._serve(delivery, observed)
        finally:
            current_delivery.reset(token)

    async def _serve(self, delivery: Delivery, observed: ObservedDelivery | None) -> Answer:
        self._inflight += 1
        try:
            answer = await self._process(delivery, observed)
        except _Rejected as rejected:
            answer = rejected.answer
        finally:
            self._inflight -= 1
            if self._inflight == 0 and self._idle is not None:
                self._idle.set()
        if observed is not None:
            observed.emit(
                DeliveryEnded(
                    observed,
                    answer.status,
                    answer.body,
                    observed.delivery_id,
                    time.perf_counter() - observed.started,
                    len(answer.deferred),
                    {name.lower(): value for name, value in answer.headers.items()},
                )
            )
        if answer.deferred:
            for call in answer.deferred:
                answer.jobs.append(self._spawn(self._run_deferred(call)))
        return answer

    async def after_answer(self, answer: Answer) -> None:
        """Call once ``answer`` was sent. While a lifespan runs (`lifespan` is ``"running"``)
        the delivery's jobs go on in the background and shutdown waits for them; without one
        nothing would wait for them -- the event loop may even close right after the request
        (``TestClient`` without ``with``) -- so they are awaited here, in the request, the way
        Starlette runs background tasks. With `lifespan` ``"unknown"`` the first delivery logs
        one warning that says how to plug the SDK's lifespan in."""
        if self.lifespan == "running":
            return
        if self.lifespan == "unknown" and not self._lifespan_warned:
            self._lifespan_warned = True
            logger.warning(msg.NO_LIFESPAN)
        while answer.jobs:
            await asyncio.gather(*answer.jobs, return_exceptions=True)  # each logs its failure
            answer.jobs = [job for job in answer.jobs if not job.done()]

    async def _process(self, delivery: Delivery, observed: ObservedDelivery | None) -> Answer:
        try:
            self.verifier.check_signature(delivery.body, delivery.headers)
        except WebhookVerificationError as exc:
            if observed is not None:
                observed.emit(ProofChecked(observed, "hmac", str(exc)))
            return failure(401, str(exc))
        if delivery.version is None:
            return failure(400, msg.MISSING_VERSION)
        spec = self.handlers.get((delivery.event, delivery.version))
        if spec is None:
            return self._no_handler(delivery.event, delivery.version)
        payload, envelope = self._read_body(spec, delivery.body)
        if observed is not None:
            observed.delivery_id = envelope.event_id
        try:
            proof = await self.verifier.prove(delivery.headers, envelope.runtime_token)
        except WebhookVerificationError as exc:  # SigningKeysUnavailableError included
            if observed is not None:
                mode = self.verifier.mode
                observed.emit(ProofChecked(observed, "none" if mode == "off" else mode, str(exc)))
            if isinstance(exc, SigningKeysUnavailableError):
                return failure(503, str(exc), retry_after=exc.retry_after)
            return failure(401, str(exc))
        if proof.covers_body and not _names_route(envelope, spec):
            # The signature covers the body's event name and version, not the URL: a body for
            # one route posted to another is refused before it can bind the signature there.
            route = msg.echo(f"{spec.event}@{spec.version}")
            refused = msg.EVENT_MISMATCH.format(route=route)
            if observed is not None:
                observed.emit(ProofChecked(observed, proof.kind, refused))
            return failure(401, refused)
        if observed is not None:
            observed.emit(ProofChecked(observed, proof.kind))
        auth = _auth_context(envelope, proof)
        missing = auth.missing_scopes(spec.required_scopes)
        if missing:
            return scope_answer(ScopeError(spec.required_scopes, missing))
        entered = await self.ledger.begin(
            event=spec.event,
            version=spec.version,
            body=delivery.body,
            proof=proof,
            event_key=envelope.event_key,
        )
        if observed is not None:
            observed.emit(LedgerChecked(observed, _ledger_outcome(entered)))
        if isinstance(entered, Answer):
            return entered
        facts = DeliveryFacts(
            event=spec.event,
            event_version=spec.version,
            headers=delivery.headers,
            payload_secrets=envelope.secrets,
            auth=auth,
            delivery_id=envelope.event_id,
            api_base_url=self._api_base_url(envelope, proof),
            settings=self.settings,
            extension_id=self.extension_id,
            extension_version=self.extension_version,
        )
        if entered is None:
            return (await self.runner.run(spec, payload, facts)).answer
        return await self._run_recorded(entered, spec, payload, facts)

    def _read_body(self, spec: HandlerSpec, body: bytes) -> tuple[Any, Envelope]:
        try:
            data = parse_object(body)
        except JSONRuleError as exc:
            raise _Rejected(failure(400, str(exc))) from None
        model = spec.model
        try:
            if model is not None and issubclass(model, EventEnvelope):
                payload: Any = model.model_validate(data)
                return payload, read_envelope(payload)
            envelope = read_envelope(EventEnvelope.model_validate(data))
            return (data if model is None else model.model_validate(data)), envelope
        except ValidationError as exc:
            what = msg.INVALID_PAYLOAD.format(event=spec.event, version=spec.version)
            raise _Rejected(_validation_answer(exc, what)) from None

    def _api_base_url(self, envelope: Envelope, proof: Proof) -> str | None:
        url = envelope.api_base_url
        if url is None or not proof.covers_body:
            return None
        trusted = self.api_hosts.trusted_url(url)
        if trusted is not None:
            return trusted
        shown = msg.echo(url.split("//", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1])  # host:port
        if shown not in self._refused_hosts and len(self._refused_hosts) < 64:
            self._refused_hosts.add(shown)
            logger.warning(msg.API_BASE_URL_REFUSED, repr(shown))
        return None

    async def _run_recorded(
        self, ticket: Ticket, spec: HandlerSpec, payload: Any, facts: DeliveryFacts
    ) -> Answer:
        self.ledger.keep(ticket)
        try:
            outcome = await self.runner.run(spec, payload, facts)
        except BaseException:  # cancelled: let a retry run it again
            self.ledger.drop(ticket)
            await self.ledger.finish(ticket, failure(503, msg.SHUTTING_DOWN))
            raise
        if outcome.pending is None:
            self.ledger.drop(ticket)
            await self.ledger.finish(ticket, outcome.answer)
            return outcome.answer
        outcome.answer.jobs.append(self._spawn(self._record_when_done(ticket, outcome.pending)))
        return outcome.answer

    async def _record_when_done(self, ticket: Ticket, pending: Awaitable[Answer]) -> None:
        try:
            answer = await pending
        finally:
            self.ledger.drop(ticket)
        await self.ledger.finish(ticket, answer)
        for call in answer.deferred:  # already a background job: run them here, in turn
            await self._run_deferred(call)

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
        closest = _closest_route(self.handlers, event, version)
        return failure(
            404,
            msg.no_handler(event, version, registered, closest),
            registered_versions=registered,
        )

    # -- work after the answer, and shutdown ----------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def _run_deferred(self, call: DeferredCall) -> None:
        fn, args, kwargs = call
        name = getattr(fn, "__qualname__", repr(fn))
        observed = current_delivery.get()  # set when the delivery that deferred it is observed
        started, job = 0.0, 0
        if observed is not None:
            job = observed.next_job()
            current_deferred_job.set(job)  # this task's own context: its calls carry the job
            observed.emit(DeferredStarted(observed, name, job, time.time()))
            started = time.perf_counter()
        try:
            if inspect.iscoroutinefunction(fn):
                await fn(*args, **kwargs)
            else:
                result = await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))
                if inspect.isawaitable(result):
                    await result
        except Exception as exc:
            if observed is not None:
                duration = time.perf_counter() - started
                observed.emit(DeferredEnded(observed, name, job, duration, type(exc).__name__))
            logger.exception("deferred work %s failed", name)
            if self.telemetry is not None:
                self.telemetry.report(
                    TelemetryRecord(
                        event="deferred",
                        version="-",
                        status="error",
                        duration_ms=0.0,
                        extension_id=self.extension_id,
                        extension_version=self.extension_version,
                        error_class=type(exc).__name__,
                        metadata={"function": name},
                    )
                )
        else:
            if observed is not None:
                observed.emit(DeferredEnded(observed, name, job, time.perf_counter() - started))

    @property
    def pending_deferred(self) -> int:
        """How many jobs (deferred work, handlers past their timeout) are still running."""
        return len(self._background)

    async def shutdown(self, grace: float | None = None) -> None:
        """Stop accepting, wait up to ``grace`` s (default ``shutdown_grace``) for in-flight
        deliveries, handlers past their timeout and deferred work; log what did not finish."""
        self.accepting = False
        grace = self.shutdown_grace if grace is None else grace
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        if self._inflight:
            self._idle = asyncio.Event()
            try:
                await asyncio.wait_for(self._idle.wait(), timeout=grace)
            except TimeoutError:
                logger.error(
                    "shutdown: %d deliveries still running after %.0f s", self._inflight, grace
                )
        while self._background and loop.time() < deadline:
            await asyncio.wait(set(self._background), timeout=max(0.0, deadline - loop.time()))
        if self._background:
            names = sorted(getattr(t.get_coro(), "__qualname__", "?") for t in self._background)
            logger.error("shutdown: %d deferred jobs did not finish: %s", len(names), names)
        await self.ledger.aclose()
        if self._on_close is not None:
            await self._on_close()


def _closest_route(
    handlers: Mapping[tuple[str, str], HandlerSpec], event: str, version: str
) -> str | None:
    """The registered ``event@version`` most like the one asked for (``None`` if none is
    close). The request's parts are cut to `messages.ECHO_LIMIT` first: matching is quadratic
    in their length, and only a registered name is ever echoed."""
    asked = f"{event[: msg.ECHO_LIMIT]}@{version[: msg.ECHO_LIMIT]}".lower()
    routes = {f"{e}@{v}".lower(): f"{e}@{v}" for e, v in handlers}
    match = difflib.get_close_matches(asked, routes, n=1, cutoff=0.6)
    return routes[match[0]] if match else None


def _ledger_outcome(entered: Answer | Ticket | None) -> LedgerOutcome:
    """Name what `Ledger.begin` decided (its answers are told apart by status, see there)."""
    if entered is None:
        return "not_recorded"
    if isinstance(entered, Ticket):
        return "first_run"
    if DUPLICATE_HEADER in entered.headers:
        return "duplicate"
    if entered.status == 401:
        return "proof_reused"
    if entered.status == 409:
        return "in_progress"
    return "unavailable"


def _names_route(envelope: Envelope, spec: HandlerSpec) -> bool:
    """Whether every event name and the version the body gives itself (when it gives any)
    are the route's."""
    if any(name != spec.event for name in envelope.event_names):
        return False
    version = envelope.event_version
    return version is None or normalize_version(version) == spec.version


def _auth_context(envelope: Envelope, proof: Proof) -> AuthContext:
    """What the proof established. With a runtime token as the proof, every fact comes from its
    claims: the body is not covered by it, so its ``authentication`` block is not believed."""
    claims = proof.claims
    body_trusted = proof.kind != "runtime_token"
    scopes = claims.scopes if claims and claims.scopes else ()
    if not scopes and body_trusted:
        scopes = envelope.scopes
    expires_at = envelope.expires_at if body_trusted else None
    if expires_at is None and claims is not None and claims.exp is not None:
        try:
            expires_at = datetime.fromtimestamp(claims.exp, UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            expires_at = None
    return AuthContext(
        runtime_token=envelope.runtime_token,
        token_type=envelope.token_type if body_trusted else None,
        expires_at=expires_at,
        scopes=tuple(scopes),
        org_id=claims.org_id if claims else None,
        ext_id=claims.ext_id if claims else None,
        proj_id=claims.proj_id if claims else None,
        verified=proof.token_verified,
        proof=proof.kind,
    )
