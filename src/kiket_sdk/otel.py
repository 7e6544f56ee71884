"""OpenTelemetry traces and metrics of deliveries: ``pip install 'kiket-sdk[otel]'``.

`instrument` registers a delivery observer (``kiket_sdk.observation``) that turns each
delivery into spans and measurements, through the OpenTelemetry API (``opentelemetry-api``; the
providers are the global ones unless given, so whatever SDK and exporters the application
configured receive them):

* a span per delivery, ``kiket.delivery {event}``, kind SERVER, continuing the W3C
  ``traceparent`` the request carried (the global propagator, W3C trace context by default),
  with the attributes ``kiket.event``, ``kiket.event.version``, ``kiket.delivery.id``,
  ``kiket.proof``, ``kiket.ledger.outcome``, ``kiket.delivery.outcome``,
  ``http.response.status_code`` (and ``kiket.proof.refused``, the reason, when refused);
* a child span per outbound Kiket API request (one per attempt), kind CLIENT, named by its
  method (a child of its deferred job's span when a deferred job sent it), with the stable
  HTTP client attributes of the OpenTelemetry semantic conventions
  (``http.request.method``, ``url.full``, ``url.path``, ``server.address``, ``server.port``,
  ``http.response.status_code``, ``http.request.resend_count``, ``error.type``; status ERROR
  for a 4xx/5xx or no answer), made from the observation records rather than the httpx
  instrumentation, which patches every httpx client of the process;
* a child span per deferred job, ``kiket.deferred {function}``, kind INTERNAL;
* when the handler raises or times out (`HandlerFailed`), an ``exception`` event on the
  delivery span (``exception.type``, ``exception.message``, ``exception.stacktrace``), and on a
  5xx ``error.type`` is the exception's class (``builtins.TimeoutError``), else the status;
* the histogram ``kiket.delivery.duration`` (seconds) and the counter ``kiket.deliveries``,
  both by ``kiket.event``, ``kiket.delivery.outcome`` and ``http.response.status_code``.

``kiket.delivery.outcome`` is the ledger's decision (``first_run``, ``not_recorded``,
``duplicate``, ``in_progress``, ``proof_reused``, ``unavailable``), else ``refused`` (no proof)
or ``rejected`` (refused before the proof: no handler, a body that is not the event's).

Nothing imports this module, or OpenTelemetry, unless the application does::

    from kiket_sdk import KiketSDK
    from kiket_sdk.otel import instrument

    sdk = KiketSDK(webhook_secret="sh_123")
    instrument(sdk)  # global providers; or instrument(sdk, tracer_provider=..., meter_provider=...)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from opentelemetry import metrics, propagate, trace
from opentelemetry.metrics import Counter, Histogram
from opentelemetry.semconv.attributes import (
    error_attributes,
    http_attributes,
    server_attributes,
    url_attributes,
)
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue

from kiket_sdk._version import __version__
from kiket_sdk.observation import (
    DeferredStarted,
    DeliveryEnded,
    DeliveryStarted,
    HandlerFailed,
    LedgerChecked,
    Observation,
    OutboundCall,
    ProofChecked,
)

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

    from kiket_sdk._app import KiketSDK

__all__ = ["DeliveryInstrumentation", "instrument"]

_SCOPE = "kiket_sdk"


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)


@dataclass(slots=True)
class _DeliverySpan:
    """What the instrumentation keeps per delivery (in its ``notes``)."""

    span: trace.Span
    event: str
    started_at: float
    recording: bool
    """Whether the delivery span is recorded (sampled, a real provider): if not, its children
    would not be either, and are not made."""
    outcome: str = "rejected"
    error_type: str | None = None
    """The handler's exception class (`HandlerFailed`), for ``error.type`` on a 5xx."""
    ended: bool = False
    jobs: dict[int, trace.Span] = field(default_factory=dict[int, trace.Span])


class DeliveryInstrumentation:
    """The delivery observer `instrument` registers (see the module docstring).

    ``tracer_provider``/``meter_provider``: ``None`` for the global providers.
    """

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self.tracer: Tracer = trace.get_tracer(_SCOPE, __version__, tracer_provider=tracer_provider)
        meter = metrics.get_meter(_SCOPE, __version__, meter_provider=meter_provider)
        self.duration: Histogram = meter.create_histogram(
            "kiket.delivery.duration", unit="s", description="Time the pipeline took to answer"
        )
        self.deliveries: Counter = meter.create_counter(
            "kiket.deliveries", unit="{delivery}", description="Deliveries served, by outcome"
        )

    def __call__(self, record: Observation) -> None:
        """Turn one observation record into span and metric updates."""
        if isinstance(record, DeliveryStarted):
            self._started(record)
            return
        state: _DeliverySpan | None = record.delivery.notes.get(self)
        if state is None:  # the delivery started before this observer was registered
            return
        if isinstance(record, ProofChecked):
            state.span.set_attribute("kiket.proof", record.kind)
            if record.refused is not None:
                state.outcome = "refused"
                state.span.set_attribute("kiket.proof.refused", record.refused)
        elif isinstance(record, LedgerChecked):
            state.outcome = record.outcome
            state.span.set_attribute("kiket.ledger.outcome", record.outcome)
        elif isinstance(record, OutboundCall):
            if state.recording:
                self._outbound(state, record)
        elif isinstance(record, HandlerFailed):
            if not state.ended:  # a thread past its timeout may fail after the answer
                state.error_type = record.error_type
                if state.recording:
                    state.span.record_exception(
                        record.exception, attributes={"kiket.handler.timed_out": record.timed_out}
                    )
        elif isinstance(record, DeliveryEnded):
            self._ended(state, record)
        elif not state.recording:
            return
        elif isinstance(record, DeferredStarted):
            state.jobs[record.job] = self.tracer.start_span(
                f"kiket.deferred {record.function}",
                context=trace.set_span_in_context(state.span),
                kind=SpanKind.INTERNAL,
                start_time=_ns(record.started_at),
                attributes={"code.function.name": record.function},
            )
        else:  # DeferredEnded
            job = state.jobs.pop(record.job, None)
            if job is not None:
                if record.error is not None:
                    job.set_attribute(error_attributes.ERROR_TYPE, record.error)
                    job.set_status(Status(StatusCode.ERROR))
                job.end()

    def _started(self, record: DeliveryStarted) -> None:
        attributes: dict[str, AttributeValue] = {
            "kiket.event": record.event,
            http_attributes.HTTP_REQUEST_METHOD: "POST",
        }
        if record.version is not None:
            attributes["kiket.event.version"] = record.version
        span = self.tracer.start_span(
            f"kiket.delivery {record.event}",
            context=propagate.extract(record.headers),
            kind=SpanKind.SERVER,
            start_time=_ns(record.started_at),
            attributes=attributes,
        )
        record.delivery.notes[self] = _DeliverySpan(
            span, record.event, record.started_at, span.is_recording()
        )

    def _outbound(self, state: _DeliverySpan, record: OutboundCall) -> None:
        url = urlsplit(record.url)
        attributes: dict[str, AttributeValue] = {
            http_attributes.HTTP_REQUEST_METHOD: record.method,
            url_attributes.URL_FULL: record.url,
            url_attributes.URL_PATH: record.path,
            server_attributes.SERVER_ADDRESS: url.hostname or "",
        }
        if url.port is not None:
            attributes[server_attributes.SERVER_PORT] = url.port
        if record.resend_count:
            attributes[http_attributes.HTTP_REQUEST_RESEND_COUNT] = record.resend_count
        if record.status is not None:
            attributes[http_attributes.HTTP_RESPONSE_STATUS_CODE] = record.status
        error = record.error or (
            str(record.status) if record.status is not None and record.status >= 400 else None
        )
        if error is not None:
            attributes[error_attributes.ERROR_TYPE] = error
        parent = state.jobs.get(record.job, state.span) if record.job is not None else state.span
        span = self.tracer.start_span(
            record.method,
            context=trace.set_span_in_context(parent),
            kind=SpanKind.CLIENT,
            start_time=_ns(record.started_at),
            attributes=attributes,
        )
        if error is not None:
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=_ns(record.started_at + record.duration))

    def _ended(self, state: _DeliverySpan, record: DeliveryEnded) -> None:
        span = state.span
        span.set_attribute(http_attributes.HTTP_RESPONSE_STATUS_CODE, record.status)
        span.set_attribute("kiket.delivery.outcome", state.outcome)
        if record.delivery_id is not None:
            span.set_attribute("kiket.delivery.id", record.delivery_id)
        state.ended = True
        if record.status >= 500:  # server spans: only a 5xx is an error (HTTP semconv)
            span.set_attribute(error_attributes.ERROR_TYPE, state.error_type or str(record.status))
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=_ns(state.started_at + record.duration))
        measured: dict[str, AttributeValue] = {
            "kiket.event": state.event,
            "kiket.delivery.outcome": state.outcome,
            http_attributes.HTTP_RESPONSE_STATUS_CODE: record.status,
        }
        self.duration.record(record.duration, measured)
        self.deliveries.add(1, measured)


def instrument(
    sdk: KiketSDK,
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
) -> DeliveryInstrumentation:
    """Trace and measure every delivery ``sdk`` serves from now on (module docstring: what).

    ``tracer_provider``/``meter_provider``: where spans and measurements go (default: the
    global providers, ``opentelemetry.trace.set_tracer_provider`` /
    ``opentelemetry.metrics.set_meter_provider``; with neither configured they are no-ops).
    Returns the observer; ``sdk.unobserve(it)`` stops it.

    >>> from kiket_sdk import KiketSDK
    >>> sdk = KiketSDK(webhook_secret="sh_123", telemetry_enabled=False)
    >>> observer = instrument(sdk)
    >>> observer in sdk.observers.observers
    True
    """
    observer = DeliveryInstrumentation(tracer_provider, meter_provider)
    sdk.observe(observer)
    return observer
