"""Delivery observation: the exact records an observer gets, in order, for the main cases."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from kiket_sdk import Allow, HandlerContext, KiketSDK, SyncHandlerContext, allow
from kiket_sdk.events import IssueCreated
from kiket_sdk.observation import (
    DeferredEnded,
    DeferredStarted,
    DeliveryEnded,
    DeliveryStarted,
    HandlerFailed,
    LedgerChecked,
    Observation,
    OutboundCall,
    ProofChecked,
    current_delivery,
)
from kiket_sdk.testing import FakeKiket, deliver, event_payload

SECRET = "whsec_observation"
EXT_ID = "com.example.observed"


@pytest.fixture
def fake() -> Iterator[FakeKiket]:
    kiket = FakeKiket(strict_responses=True)
    with kiket.serve():
        yield kiket


def recording_sdk(fake: FakeKiket, **options: Any) -> tuple[KiketSDK, list[Observation]]:
    """An SDK sending its outbound calls to ``fake`` (no handlers yet), and its records."""
    assert fake.url is not None
    sdk = KiketSDK(
        webhook_secret=SECRET,
        base_url=fake.url,
        workspace_token="wk_observed",
        extension_id=EXT_ID,
        telemetry_enabled=False,
        **options,
    )
    records: list[Observation] = []
    sdk.observe(records.append)
    return sdk, records


def observed_sdk(fake: FakeKiket) -> tuple[KiketSDK, list[Observation]]:
    """An SDK whose handler makes two outbound calls and defers one job, and its records."""
    sdk, records = recording_sdk(fake)
    ran: list[str] = []

    async def notify(issue_id: int) -> None:
        ran.append(f"notified {issue_id}")

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: IssueCreated, ctx: HandlerContext) -> Allow:
        await ctx.endpoints.rate_limit()
        await ctx.endpoints.log_event("issue.seen", id=event.issue.id)
        ctx.defer(notify, event.issue.id)
        return allow(message="ok")

    return sdk, records


def _kinds(records: list[Observation]) -> list[str]:
    return [type(r).__name__ for r in records]


async def test_an_allowed_delivery_reports_each_step_in_order(fake: FakeKiket) -> None:
    sdk, records = observed_sdk(fake)
    payload = event_payload("issue.created", id="evt-observed-1", issue__id=42)
    answer = await deliver(sdk, "issue.created", payload)
    assert answer.status_code == 200, answer.text

    assert _kinds(records) == [
        "DeliveryStarted",
        "ProofChecked",
        "LedgerChecked",
        "OutboundCall",
        "OutboundCall",
        "DeliveryEnded",
        "DeferredStarted",
        "DeferredEnded",
    ]
    started, proof, ledger, rate_limit, log_event, ended, job_started, job_ended = records
    assert isinstance(started, DeliveryStarted)
    assert (started.event, started.version) == ("issue.created", "v1")
    assert json.loads(started.body)["id"] == "evt-observed-1"
    assert started.headers["x-kiket-signature"]
    assert proof == ProofChecked(started.delivery, "hmac", None)
    assert ledger == LedgerChecked(started.delivery, "first_run")

    # The outbound calls are the ones the fake received, in order, with both bodies.
    assert [(c.method, c.path) for c in fake.calls] == [
        (r.method, r.path) for r in (rate_limit, log_event) if isinstance(r, OutboundCall)
    ]
    assert isinstance(rate_limit, OutboundCall)
    assert isinstance(log_event, OutboundCall)
    assert (rate_limit.method, rate_limit.status, rate_limit.request_body) == ("GET", 200, b"")
    assert rate_limit.url == fake.url + rate_limit.path
    assert "rate_limit" in json.loads(rate_limit.response_body or b"{}")
    assert log_event.method == "POST"
    assert log_event.status is not None
    assert 200 <= log_event.status < 300
    assert json.loads(log_event.request_body)["event"] == "issue.seen"
    assert (rate_limit.resend_count, log_event.resend_count) == (0, 0)
    assert rate_limit.duration >= 0
    assert log_event.duration >= 0

    assert isinstance(ended, DeliveryEnded)
    assert (ended.status, ended.delivery_id, ended.jobs) == (200, "evt-observed-1", 1)
    assert ended.body == answer.content
    assert isinstance(job_started, DeferredStarted)
    assert job_started.function.endswith("notify")
    assert job_started.job == 1
    assert job_ended == DeferredEnded(started.delivery, job_started.function, 1, 0.0, None)
    # One delivery: every record carries the same handle.
    assert {id(r.delivery) for r in records} == {id(started.delivery)}


async def test_a_duplicate_is_answered_from_the_ledger_and_says_so(fake: FakeKiket) -> None:
    sdk, records = observed_sdk(fake)
    payload = event_payload("issue.created", id="evt-observed-dup", issue__id=7)
    first = await deliver(sdk, "issue.created", payload)
    records.clear()
    second = await deliver(sdk, "issue.created", payload)

    assert second.headers["x-kiket-duplicate"] == "true"
    assert _kinds(records) == ["DeliveryStarted", "ProofChecked", "LedgerChecked", "DeliveryEnded"]
    started, proof, ledger, ended = records
    assert proof == ProofChecked(started.delivery, "hmac", None)
    assert ledger == LedgerChecked(started.delivery, "duplicate")
    assert ended == DeliveryEnded(started.delivery, 200, first.content, "evt-observed-dup", 0.0)
    assert isinstance(ended, DeliveryEnded)
    assert ended.headers["x-kiket-duplicate"] == "true"  # the answer's own headers
    assert records[0].delivery.serial == 2  # the second delivery this SDK observed


async def test_a_deferred_jobs_outbound_call_names_its_job(fake: FakeKiket) -> None:
    sdk, records = recording_sdk(fake)

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: IssueCreated, ctx: HandlerContext) -> Allow:
        await ctx.endpoints.rate_limit()

        async def follow_up() -> None:
            await ctx.endpoints.log_event("issue.followed", id=event.issue.id)

        def follow_up_in_a_thread() -> None:  # a plain def job runs on a worker thread
            sdk.client.extension.log_event(
                EXT_ID, event="threaded", version="v1", timestamp="2026-12-01T00:00:00Z"
            )

        ctx.defer(follow_up)
        ctx.defer(follow_up_in_a_thread)
        return allow()

    answer = await deliver(sdk, "issue.created", event_payload("issue.created", id="evt-jobs"))
    assert answer.status_code == 200, answer.text

    calls = [r for r in records if isinstance(r, OutboundCall)]
    jobs = {r.function.rsplit(".", 1)[-1]: r.job for r in records if isinstance(r, DeferredStarted)}
    assert sorted(jobs) == ["follow_up", "follow_up_in_a_thread"]
    by_job = {call.job: json.loads(call.request_body or b"{}").get("event") for call in calls}
    assert by_job == {
        None: None,  # the handler's own rate_limit GET
        jobs["follow_up"]: "issue.followed",
        jobs["follow_up_in_a_thread"]: "threaded",
    }


async def test_a_refused_signature_reports_the_reason_and_the_401(fake: FakeKiket) -> None:
    sdk, records = observed_sdk(fake)
    payload = event_payload("issue.created", id="evt-observed-bad")
    answer = await deliver(sdk, "issue.created", payload, secret="not-the-secret")

    assert answer.status_code == 401
    assert _kinds(records) == ["DeliveryStarted", "ProofChecked", "DeliveryEnded"]
    started, proof, ended = records
    assert isinstance(proof, ProofChecked)
    assert proof.kind == "hmac"
    assert proof.refused == answer.json()["error"]
    assert ended == DeliveryEnded(started.delivery, 401, answer.content, None, 0.0)
    assert fake.calls == []


async def test_an_observer_that_raises_never_breaks_a_delivery(
    fake: FakeKiket, caplog: pytest.LogCaptureFixture
) -> None:
    sdk, records = observed_sdk(fake)

    def broken(record: Observation) -> None:
        raise RuntimeError("observer bug")

    sdk.unobserve(records.append)
    sdk.observe(broken)
    sdk.observe(records.append)  # after the broken one: still told everything
    answer = await deliver(sdk, "issue.created", event_payload("issue.created", id="evt-x"))

    assert answer.status_code == 200
    assert len(records) == 8
    assert "delivery observer" in caplog.text


async def test_without_observers_no_delivery_is_in_the_context(fake: FakeKiket) -> None:
    assert fake.url is not None
    sdk = KiketSDK(webhook_secret=SECRET, base_url=fake.url, telemetry_enabled=False)
    seen: list[object] = []

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: Any, ctx: HandlerContext) -> Any:
        seen.append(current_delivery.get())
        return allow()

    assert (await deliver(sdk, "issue.created", event_payload("issue.created"))).status_code == 200
    assert seen == [None]


class SyncFailedError(RuntimeError):
    """The error the failing handlers below raise."""


async def test_a_handler_that_raises_is_reported_with_its_exception(fake: FakeKiket) -> None:
    sdk, records = recording_sdk(fake)

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: IssueCreated, ctx: HandlerContext) -> Allow:
        raise SyncFailedError("the CRM at http://crm.internal:9000 said no")

    answer = await deliver(sdk, "issue.created", event_payload("issue.created", id="evt-fail"))
    assert answer.status_code == 500
    assert "crm.internal" not in answer.text  # the answer carries only the class
    assert _kinds(records)[-2:] == ["HandlerFailed", "DeliveryEnded"]
    failed = records[-2]
    assert isinstance(failed, HandlerFailed)
    assert failed.error_type == f"{__name__}.SyncFailedError"
    assert failed.message == "the CRM at http://crm.internal:9000 said no"
    assert failed.timed_out is False
    assert isinstance(failed.exception, SyncFailedError)
    assert failed.exception.__traceback__ is not None


async def test_handlers_past_their_timeout_are_reported_as_timed_out(fake: FakeKiket) -> None:
    sdk, records = recording_sdk(fake, handler_timeout=0.2)
    release = threading.Event()

    @sdk.webhook("issue.created", version="v1")
    async def slow_async(event: IssueCreated, ctx: HandlerContext) -> Allow:
        await asyncio.sleep(5)
        return allow()

    @sdk.webhook("issue.updated", version="v1")
    def slow_thread(event: dict[str, Any], ctx: SyncHandlerContext) -> Allow:
        release.wait(5)
        return allow()

    for event in ("issue.created", "issue.updated"):
        records.clear()
        release.clear()
        answer = await deliver(sdk, event, event_payload(event, id=f"evt-slow-{event}"))
        release.set()
        assert answer.status_code == 503
        failed = [r for r in records if isinstance(r, HandlerFailed)]
        assert len(failed) == 1, _kinds(records)
        assert failed[0].timed_out is True
        assert failed[0].error_type == "builtins.TimeoutError"


async def test_an_exception_whose_text_cannot_be_read_is_still_reported(fake: FakeKiket) -> None:
    sdk, records = recording_sdk(fake)

    class UnprintableError(Exception):
        def __str__(self) -> str:
            raise ValueError("no text")

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: IssueCreated, ctx: HandlerContext) -> Allow:
        raise UnprintableError

    answer = await deliver(sdk, "issue.created", event_payload("issue.created", id="evt-unpr"))
    assert answer.status_code == 500
    (failed,) = [r for r in records if isinstance(r, HandlerFailed)]
    assert failed.error_type.endswith("UnprintableError")
    assert "could not be read" in failed.message
