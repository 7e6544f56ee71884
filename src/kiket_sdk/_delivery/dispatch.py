"""Running one handler: its context, its timeout, its answer, its telemetry.

`HandlerRunner.run` calls a registered handler with its payload and context and turns what
happens into an `Answer`; nothing raises out of it. Past ``handler_timeout`` an ``async``
handler is cancelled (503: the platform retries and the handler runs again), while a plain
``def`` handler cannot be stopped: its thread keeps running, the delivery gets its 503, and
`Outcome.pending` resolves to the answer the thread finally produced -- the ledger keeps the
claim until then and records that answer, so the retry gets it instead of a second run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from kiket_sdk._delivery import messages as msg
from kiket_sdk._delivery.answer import Answer, failure, render_result
from kiket_sdk._delivery.context import (
    BaseHandlerContext,
    DeliveryFacts,
    HandlerContext,
    SyncHandlerContext,
)
from kiket_sdk._delivery.handlers import HandlerSpec
from kiket_sdk._exceptions import KiketSDKError, ScopeError
from kiket_sdk._telemetry import TelemetryRecord, TelemetryReporter
from kiket_sdk.observation import HandlerFailed, current_delivery

__all__ = ["HandlerRunner", "Outcome", "scope_answer"]

logger = logging.getLogger("kiket_sdk")

_RETRY_AFTER_TIMEOUT = 30.0


@dataclass(slots=True)
class Outcome:
    """The answer to send now, and -- for a thread past its timeout -- its eventual answer."""

    answer: Answer
    pending: Awaitable[Answer] | None = None


def _qualified_name(kind: type[BaseException]) -> str:
    """``module.QualifiedName`` of an exception class (``builtins.`` for the built-in ones)."""
    return f"{kind.__module__}.{kind.__qualname__}"


def _report_failure(error: BaseException, *, timed_out: bool) -> None:
    """Tell the delivery's observers (when it is observed) that its handler failed."""
    observed = current_delivery.get()
    if observed is None:
        return
    try:
        message = str(error)
    except Exception:  # an exception whose __str__ raises is still reported
        message = f"<{type(error).__name__}: its text could not be read>"
    observed.emit(HandlerFailed(observed, _qualified_name(type(error)), message, timed_out, error))


def scope_answer(exc: ScopeError) -> Answer:
    """403 with both scope lists (contract section 1)."""
    return failure(
        403,
        "Insufficient scopes",
        required_scopes=exc.required_scopes,
        missing_scopes=exc.missing_scopes,
    )


class HandlerRunner:
    """Calls handlers (see the module docstring).

    ``make_async_client``/``make_sync_client`` build the API client of one delivery from its
    facts; ``handler_timeout`` is in seconds (``None``: no limit); ``debug`` puts the text of
    any exception in 500 answers (otherwise only its class: texts can name internal URLs).
    """

    def __init__(
        self,
        *,
        make_async_client: Callable[[DeliveryFacts], Any],
        make_sync_client: Callable[[DeliveryFacts], Any],
        telemetry: TelemetryReporter | None = None,
        debug: bool = False,
        handler_timeout: float | None = None,
    ) -> None:
        self._make_async_client = make_async_client
        self._make_sync_client = make_sync_client
        self.telemetry = telemetry
        self.debug = debug
        self.handler_timeout = handler_timeout

    async def run(self, spec: HandlerSpec, payload: Any, facts: DeliveryFacts) -> Outcome:
        """Call ``spec``'s handler; never raises."""
        ctx: BaseHandlerContext
        if spec.is_async:
            ctx = HandlerContext(facts, self._make_async_client)
        else:
            ctx = SyncHandlerContext(facts, self._make_sync_client)
        args = (payload, ctx) if spec.wants_context else (payload,)
        started = time.perf_counter()
        if spec.is_async:
            return Outcome(await self._run_async(spec, args, facts, started))
        return await self._run_in_thread(spec, args, facts, started)

    async def _run_async(
        self, spec: HandlerSpec, args: tuple[Any, ...], facts: DeliveryFacts, started: float
    ) -> Answer:
        try:
            if self.handler_timeout is None:
                result = await spec.func(*args)
            else:
                async with asyncio.timeout(self.handler_timeout):
                    result = await spec.func(*args)
        except TimeoutError as exc:
            return self._finish(spec, facts, started, self._timeout_answer(), exc)
        except Exception as exc:
            return self._finish(spec, facts, started, self._failure_answer(spec, exc), exc)
        return self._finish(spec, facts, started, *self._result_answer(spec, result, facts))

    async def _run_in_thread(
        self, spec: HandlerSpec, args: tuple[Any, ...], facts: DeliveryFacts, started: float
    ) -> Outcome:
        thread = asyncio.ensure_future(anyio.to_thread.run_sync(lambda: spec.func(*args)))
        if self.handler_timeout is not None:
            done, _ = await asyncio.wait({thread}, timeout=self.handler_timeout)
            if not done:
                logger.warning(
                    "handler %s for %s@%s is still running after %g s; answered 503, its "
                    "outcome will be recorded when it ends",
                    spec.name,
                    spec.event,
                    spec.version,
                    self.handler_timeout,
                )
                _report_failure(
                    TimeoutError(f"still running after {self.handler_timeout:g} s"),
                    timed_out=True,
                )
                return Outcome(
                    self._timeout_answer(), self._thread_answer(spec, thread, facts, started)
                )
        return Outcome(await self._thread_answer(spec, thread, facts, started))

    async def _thread_answer(
        self, spec: HandlerSpec, thread: asyncio.Future[Any], facts: DeliveryFacts, started: float
    ) -> Answer:
        try:
            result = await thread
        except Exception as exc:
            return self._finish(spec, facts, started, self._failure_answer(spec, exc), exc)
        return self._finish(spec, facts, started, *self._result_answer(spec, result, facts))

    def _result_answer(
        self, spec: HandlerSpec, result: Any, facts: DeliveryFacts
    ) -> tuple[Answer, BaseException | None]:
        try:
            return Answer(200, render_result(result), deferred=facts.deferred), None
        except TypeError as exc:
            logger.error(
                "handler %s for %s@%s returned an answer that is not JSON: %s",
                spec.name,
                spec.event,
                spec.version,
                exc,
            )
            return failure(500, msg.ANSWER_NOT_JSON), exc

    def _timeout_answer(self) -> Answer:
        return failure(
            503,
            msg.HANDLER_TIMEOUT.format(seconds=self.handler_timeout or 0),
            retry_after=_RETRY_AFTER_TIMEOUT,
        )

    def _failure_answer(self, spec: HandlerSpec, exc: Exception) -> Answer:
        if isinstance(exc, ScopeError):
            return scope_answer(exc)
        logger.exception("handler %s for %s@%s failed", spec.name, spec.event, spec.version)
        details: dict[str, Any] = {"error_class": type(exc).__name__}
        if self.debug:  # exception texts can name internal hosts or echo upstream answers
            details["detail"] = str(exc)
        return failure(500, msg.HANDLER_FAILED, **details)

    def _finish(
        self,
        spec: HandlerSpec,
        facts: DeliveryFacts,
        started: float,
        answer: Answer,
        error: BaseException | None = None,
    ) -> Answer:
        if error is not None:
            _report_failure(
                error, timed_out=isinstance(error, TimeoutError) and answer.status == 503
            )
        telemetry = self.telemetry
        if telemetry is not None and telemetry.active:
            telemetry.report(
                TelemetryRecord(
                    event=spec.event,
                    version=spec.version,
                    status="ok" if answer.status < 400 else "error",
                    duration_ms=(time.perf_counter() - started) * 1000,
                    extension_id=facts.extension_id,
                    extension_version=facts.extension_version,
                    error_class=type(error).__name__ if error else None,
                    error_message=str(error) if isinstance(error, KiketSDKError) else None,
                    metadata={"http_status": answer.status, "delivery_id": facts.delivery_id},
                )
            )
        return answer
