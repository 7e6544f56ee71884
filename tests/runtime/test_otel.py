"""kiket_sdk.otel: spans, parent links and metrics of deliveries, through OpenTelemetry's own
in-memory exporters; and nothing of OpenTelemetry is imported unless the integration is used."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from kiket_sdk import Allow, HandlerContext, KiketSDK, allow
from kiket_sdk.events import IssueCreated, IssueUpdated
from kiket_sdk.otel import instrument
from kiket_sdk.testing import FakeKiket, deliver, event_payload

SECRET = "whsec_otel"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN_ID = "00f067aa0ba902b7"


@pytest.fixture
def fake() -> Iterator[FakeKiket]:
    kiket = FakeKiket(strict_responses=True)
    with kiket.serve():
        yield kiket


class Instrumented:
    """An SDK whose handler makes two outbound calls and defers one job, instrumented into
    in-memory exporters."""

    def __init__(self, fake: FakeKiket) -> None:
        assert fake.url is not None
        self.sdk = KiketSDK(
            webhook_secret=SECRET,
            base_url=fake.url,
            workspace_token="wk_otel",
            extension_id="com.example.otel",
            telemetry_enabled=False,
        )

        async def notify(issue_id: int) -> None:
            return None

        @self.sdk.webhook("issue.created", version="v1")
        async def on_issue(event: IssueCreated, ctx: HandlerContext) -> Allow:
            await ctx.endpoints.rate_limit()
            await ctx.endpoints.log_event("issue.seen", id=event.issue.id)
            ctx.defer(notify, event.issue.id)
            return allow(message="ok")

        self.spans = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.metrics = InMemoryMetricReader()
        instrument(
            self.sdk,
            tracer_provider=tracer_provider,
            meter_provider=MeterProvider(metric_readers=[self.metrics]),
        )

    def finished(self) -> dict[str, ReadableSpan]:
        return {span.name: span for span in self.spans.get_finished_spans()}

    def points(self, name: str) -> list[Any]:
        data = self.metrics.get_metrics_data()
        assert data is not None
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]


async def test_a_delivery_is_a_server_span_with_client_and_deferred_children(
    fake: FakeKiket,
) -> None:
    run = Instrumented(fake)
    payload = event_payload("issue.created", id="evt-otel-1", issue__id=5)
    answer = await deliver(run.sdk, "issue.created", payload)
    assert answer.status_code == 200, answer.text

    spans = run.finished()
    assert sorted(spans) == sorted(
        ["kiket.delivery issue.created", "GET", "POST", "kiket.deferred " + _notify_name(spans)]
    )
    delivery = spans["kiket.delivery issue.created"]
    assert delivery.kind is SpanKind.SERVER
    assert delivery.parent is None  # no traceparent came: a new trace
    assert dict(delivery.attributes or {}) == {
        "kiket.event": "issue.created",
        "kiket.event.version": "v1",
        "http.request.method": "POST",
        "kiket.proof": "hmac",
        "kiket.ledger.outcome": "first_run",
        "kiket.delivery.outcome": "first_run",
        "kiket.delivery.id": "evt-otel-1",
        "http.response.status_code": 200,
    }
    assert delivery.context is not None
    calls = {(c.method, c.path) for c in fake.calls}
    for name in ("GET", "POST"):
        call = spans[name]
        assert call.kind is SpanKind.CLIENT
        assert call.parent is not None
        assert call.parent.span_id == delivery.context.span_id
        assert call.context is not None
        assert call.context.trace_id == delivery.context.trace_id
        attributes = dict(call.attributes or {})
        assert attributes["http.request.method"] == name
        assert (name, attributes["url.path"]) in calls
        assert attributes["url.full"] == f"{fake.url}{attributes['url.path']}"
        assert attributes["server.address"] == "127.0.0.1"
        assert 200 <= int(str(attributes["http.response.status_code"])) < 300
        assert call.status.status_code is StatusCode.UNSET
        assert delivery.start_time is not None
        assert call.start_time is not None
        assert delivery.start_time <= call.start_time
    deferred = spans["kiket.deferred " + _notify_name(spans)]
    assert deferred.kind is SpanKind.INTERNAL
    assert deferred.parent is not None
    assert deferred.parent.span_id == delivery.context.span_id


def _notify_name(spans: dict[str, ReadableSpan]) -> str:
    (name,) = [n for n in spans if n.startswith("kiket.deferred ")]
    assert name.endswith(".notify")
    return name.removeprefix("kiket.deferred ")


async def test_a_deferred_jobs_outbound_call_is_a_child_of_the_jobs_span(fake: FakeKiket) -> None:
    run = Instrumented(fake)

    @run.sdk.webhook("issue.updated", version="v1")
    async def on_update(event: IssueUpdated, ctx: HandlerContext) -> Allow:
        async def audit_later() -> None:
            await ctx.endpoints.log_event("issue.audited")

        ctx.defer(audit_later)
        return allow()

    answer = await deliver(run.sdk, "issue.updated", event_payload("issue.updated", id="evt-j"))
    assert answer.status_code == 200, answer.text

    spans = run.finished()
    assert sorted(spans) == sorted(["kiket.delivery issue.updated", "POST", _deferred(spans)])
    delivery, job, call = (
        spans["kiket.delivery issue.updated"],
        spans[_deferred(spans)],
        spans["POST"],
    )
    assert delivery.context is not None
    assert job.context is not None
    assert job.parent is not None
    assert job.parent.span_id == delivery.context.span_id
    assert call.parent is not None
    assert call.parent.span_id == job.context.span_id  # the job's call, not the handler's
    assert call.kind is SpanKind.CLIENT


def _deferred(spans: dict[str, ReadableSpan]) -> str:
    (name,) = [n for n in spans if n.startswith("kiket.deferred ")]
    return name


class LedgerSyncError(RuntimeError):
    """What the failing handler below raises."""


async def test_a_handler_that_raises_is_an_exception_event_and_error_type(
    fake: FakeKiket,
) -> None:
    run = Instrumented(fake)

    @run.sdk.webhook("issue.updated", version="v1")
    async def on_update(event: IssueUpdated, ctx: HandlerContext) -> Allow:
        raise LedgerSyncError("upstream said no")

    answer = await deliver(run.sdk, "issue.updated", event_payload("issue.updated", id="evt-x"))
    assert answer.status_code == 500

    delivery = run.finished()["kiket.delivery issue.updated"]
    assert delivery.status.status_code is StatusCode.ERROR
    attributes = dict(delivery.attributes or {})
    assert attributes["error.type"] == f"{__name__}.LedgerSyncError"
    (event,) = delivery.events
    assert event.name == "exception"
    recorded = dict(event.attributes or {})
    assert recorded["exception.type"] == f"{__name__}.LedgerSyncError"
    assert recorded["exception.message"] == "upstream said no"
    assert "raise LedgerSyncError" in str(recorded["exception.stacktrace"])
    assert recorded["kiket.handler.timed_out"] is False


async def test_an_incoming_traceparent_is_continued(fake: FakeKiket) -> None:
    run = Instrumented(fake)
    traceparent = f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01"
    answer = await deliver(
        run.sdk,
        "issue.created",
        event_payload("issue.created", id="evt-otel-tp"),
        headers={"traceparent": traceparent},
    )
    assert answer.status_code == 200

    delivery = run.finished()["kiket.delivery issue.created"]
    assert delivery.parent is not None
    assert delivery.parent.is_remote
    assert format(delivery.parent.trace_id, "032x") == TRACE_ID
    assert format(delivery.parent.span_id, "016x") == PARENT_SPAN_ID
    assert delivery.context is not None
    for span in run.spans.get_finished_spans():  # every span of the delivery is in that trace
        assert span.context is not None
        assert format(span.context.trace_id, "032x") == TRACE_ID


@pytest.mark.parametrize(
    "traceparent",
    [
        "garbage",
        f"00-{'0' * 32}-{PARENT_SPAN_ID}-01",  # an all-zero trace id is invalid (W3C)
        f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01-extra",  # version 00 has exactly four fields
        f"ff-{TRACE_ID}-{PARENT_SPAN_ID}-01",  # version ff is forbidden
    ],
)
async def test_a_malformed_traceparent_starts_a_new_trace(
    fake: FakeKiket, traceparent: str
) -> None:
    run = Instrumented(fake)
    answer = await deliver(
        run.sdk,
        "issue.created",
        event_payload("issue.created", id="evt-otel-bad-tp"),
        headers={"traceparent": traceparent},
    )
    assert answer.status_code == 200, answer.text
    delivery = run.finished()["kiket.delivery issue.created"]
    assert delivery.parent is None
    assert delivery.context is not None
    assert format(delivery.context.trace_id, "032x") != TRACE_ID


async def test_metrics_count_deliveries_by_outcome_and_time_them(fake: FakeKiket) -> None:
    run = Instrumented(fake)
    payload = event_payload("issue.created", id="evt-otel-m")
    await deliver(run.sdk, "issue.created", payload)
    await deliver(run.sdk, "issue.created", payload)  # a duplicate
    await deliver(run.sdk, "issue.created", payload, secret="wrong")  # refused

    counted = {
        (p.attributes["kiket.delivery.outcome"], p.attributes["http.response.status_code"]): p.value
        for p in run.points("kiket.deliveries")
    }
    assert counted == {("first_run", 200): 1, ("duplicate", 200): 1, ("refused", 401): 1}
    timed = run.points("kiket.delivery.duration")
    assert sorted(p.count for p in timed) == [1, 1, 1]
    assert all(p.attributes["kiket.event"] == "issue.created" for p in timed)
    assert all(p.sum > 0 for p in timed)
    refused = [
        s for s in run.spans.get_finished_spans() if (s.attributes or {}).get("kiket.proof.refused")
    ]
    assert len(refused) == 1


def test_kiket_sdk_and_a_served_delivery_import_no_opentelemetry() -> None:
    # Served straight through the SDK's ASGI callable, as a server does (the FastAPI app --
    # whose own native telemetry imports opentelemetry -- is built only for other routes).
    script = textwrap.dedent(
        """
        import asyncio, sys
        import httpx
        import kiket_sdk
        from kiket_sdk import KiketSDK, allow
        from kiket_sdk.testing import event_payload, delivery_body, signed_headers

        sdk = KiketSDK(webhook_secret="s", telemetry_enabled=False)
        sdk.register("issue.created", lambda event: allow())
        sdk.pipeline.lifespan = "none"
        body = delivery_body(event_payload("issue.created"))

        async def main():
            transport = httpx.ASGITransport(app=sdk)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                answer = await http.post(
                    "/v/v1/webhooks/issue.created", content=body, headers=signed_headers("s", body)
                )
            assert answer.status_code == 200, answer.text

        asyncio.run(main())
        print(sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry"))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", result.stderr
