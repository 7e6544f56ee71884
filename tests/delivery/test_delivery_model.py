"""End to end, on real uvicorn servers on loopback: the delivery model of `kiket_sdk._delivery`.

* **A delivery is its signed bytes on its route**: the same bytes on the same route get the stored
  answer after a success, run again after a 5xx or a timeout, wait (or 409) while the first
  still runs; the same bytes on another event or version are refused (401).
* **An event is (extension, event, version, id)**: a fresh signature with a handled id gets the
  stored answer; the same id on another event or version is another event;
  ``deduplicate=False`` turns only this off.
* **A claim is a lease**, renewed while its handler runs, left to expire by a dead process; a
  ``def`` handler past ``handler_timeout`` keeps its claim until its thread ends.
* **Token mode**: a runtime token vouches for one body; credentials go to the configured base URL.
* **One JSON rule** for every handler kind, strict JSON answers, and an edge that never echoes
  much, never hangs and never leaks where Kiket's keys live.
* **The ledger fails closed**: store down -> 503 + ``Retry-After``, no handler runs.

Handler runs are counted with lists the handlers append to; no test asserts a wall-clock timing
(sleeps only wait out leases, and every wait is bounded).
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
import jwt
import pytest

from kiket_sdk import HandlerContext, KiketSDK, SyncHandlerContext
from kiket_sdk._delivery.ledger import _key
from kiket_sdk._stores import ClaimState, DeliveryStore, MemoryDeliveryStore, ProofBinding
from kiket_sdk._stores.base import DEFAULT_LEASE, Claim, StoredResponse
from kiket_sdk.events import IssueCreated
from kiket_sdk.testing import generate_signing_key, serve_app, sign_runtime_token

from ._deliveries import (
    EXT_ID,
    UNSIGNED,
    encode,
    fake_api,
    isolate,
    issue_body,
    issue_payload,
    make_sdk,
    port_of,
    post,
    raw_exchange,
    route,
    sign,
    splice,
    strict_json,
    wait_until,
)

DUPLICATE = "x-kiket-duplicate"
HANDLER_GATE = 30.0  # seconds a gated handler waits at most for its test to release it
# Seconds to wait for the server to close a connection it answered early. uvicorn closes an idle
# keep-alive connection after its own `timeout_keep_alive` (5 s): a bound below that tells "the
# server closed the connection because of the answer" from "keep-alive expired".
KEEP_ALIVE_BOUND = 3.0


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


def is_duplicate(response: httpx.Response) -> bool:
    return response.headers.get(DUPLICATE) == "true"


def retry_after(response: httpx.Response) -> int:
    value = response.headers.get("retry-after")
    assert value is not None, f"no Retry-After on {response.status_code}: {response.text}"
    assert value.isdigit(), value
    assert int(value) >= 1, value
    return int(value)


async def gate(release: threading.Event) -> None:
    """Block an async handler until the test sets ``release`` (bounded)."""
    await anyio.to_thread.run_sync(release.wait, HANDLER_GATE)


def counting_sdk(**options: Any) -> tuple[KiketSDK, list[str]]:
    """An SDK whose ``issue.created@v1`` async handler records each run and answers
    ``{"run": <n>}``."""
    sdk = make_sdk(**options)
    runs: list[str] = []

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
        runs.append(str(event.get("id")))
        return {"run": len(runs)}

    return sdk, runs


# -- 1. the retry matrix (HMAC, an event with an id) ----------------------------------------------


def test_identical_bytes_after_success_get_the_stored_answer() -> None:
    sdk, runs = counting_sdk()
    body = issue_body()
    headers = sign(body)
    with serve_app(sdk) as url:
        first = post(url, body, headers)
        again = post(url, body, headers)
    assert first.status_code == 200, first.text
    assert not is_duplicate(first)
    assert again.status_code == 200, again.text
    assert is_duplicate(again)
    assert again.content == first.content == b'{"run":1}'
    assert len(runs) == 1


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_identical_bytes_after_the_handler_raised_run_again(kind: str) -> None:
    sdk = make_sdk()
    runs: list[int] = []

    def outcome() -> dict[str, Any]:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("first run fails")
        return {"run": len(runs)}

    if kind == "async":

        @sdk.webhook("issue.created")
        async def flaky(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
            return outcome()

    else:

        @sdk.webhook("issue.created")
        def flaky_sync(event: dict[str, Any], ctx: SyncHandlerContext) -> dict[str, Any]:
            return outcome()

    body = issue_body()
    headers = sign(body)
    with serve_app(sdk) as url:
        failed = post(url, body, headers)
        retried = post(url, body, headers)
        settled = post(url, body, headers)
    assert failed.status_code == 500, failed.text
    assert retried.status_code == 200, retried.text
    assert not is_duplicate(retried)
    assert retried.json() == {"run": 2}
    assert settled.status_code == 200
    assert is_duplicate(settled)
    assert settled.content == retried.content
    assert len(runs) == 2


def test_identical_bytes_after_an_async_handler_timed_out_run_again() -> None:
    sdk = make_sdk(handler_timeout=0.5)
    runs: list[int] = []

    @sdk.webhook("issue.created")
    async def slow_once(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
        runs.append(1)
        if len(runs) == 1:
            await asyncio.sleep(HANDLER_GATE)  # cancelled at handler_timeout
        return {"run": len(runs)}

    body = issue_body()
    headers = sign(body)
    with serve_app(sdk) as url:
        timed_out = post(url, body, headers)
        retried = post(url, body, headers)
    assert timed_out.status_code == 503, timed_out.text
    retry_after(timed_out)
    assert retried.status_code == 200, retried.text
    assert not is_duplicate(retried)
    assert retried.json() == {"run": 2}
    assert len(runs) == 2


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_concurrent_identical_deliveries_run_the_handler_once(kind: str) -> None:
    sdk = make_sdk()
    runs: list[int] = []
    release = threading.Event()
    if kind == "async":

        @sdk.webhook("issue.created")
        async def slow(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
            runs.append(1)
            await gate(release)
            return {"run": len(runs)}

    else:

        @sdk.webhook("issue.created")
        def slow_sync(event: dict[str, Any], ctx: SyncHandlerContext) -> dict[str, Any]:
            runs.append(1)
            release.wait(HANDLER_GATE)
            return {"run": len(runs)}

    body = issue_body()
    headers = sign(body)
    with serve_app(sdk) as url, ThreadPoolExecutor(10) as pool:
        try:
            futures = [pool.submit(post, url, body, headers) for _ in range(10)]
            wait_until(lambda: bool(runs), what="the first handler run")
            time.sleep(0.3)  # let the other nine arrive while it runs (not a timing assertion)
        finally:
            release.set()
        responses = [future.result() for future in futures]
    statuses = [r.status_code for r in responses]
    assert 401 not in statuses, [r.text for r in responses]
    assert statuses == [200] * 10, [r.text for r in responses]
    assert {r.content for r in responses} == {b'{"run":1}'}
    assert sum(is_duplicate(r) for r in responses) == 9
    assert len(runs) == 1


def test_concurrent_redeliveries_with_fresh_signatures_run_the_handler_once() -> None:
    """The platform redelivering one event (same id, a new signature each time) while the first
    delivery still runs: one run, every delivery gets its answer."""
    sdk = make_sdk()
    runs: list[int] = []
    release = threading.Event()

    @sdk.webhook("issue.created")
    async def slow(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
        runs.append(1)
        await gate(release)
        return {"run": len(runs)}

    body = issue_body()
    stamp = int(time.time())
    with serve_app(sdk) as url, ThreadPoolExecutor(8) as pool:
        try:
            futures = [
                pool.submit(post, url, body, sign(body, timestamp=stamp - n)) for n in range(8)
            ]
            wait_until(lambda: bool(runs), what="the first handler run")
            time.sleep(0.3)  # let the others arrive while it runs (not a timing assertion)
        finally:
            release.set()
        responses = [future.result() for future in futures]
    assert [r.status_code for r in responses] == [200] * 8, [r.text for r in responses]
    assert {r.content for r in responses} == {b'{"run":1}'}
    assert sum(is_duplicate(r) for r in responses) == 7
    assert len(runs) == 1


def test_same_bytes_signed_again_in_the_same_second_are_the_same_delivery() -> None:
    sdk, runs = counting_sdk()
    body = issue_body()
    stamp = int(time.time())
    with serve_app(sdk) as url:
        first = post(url, body, sign(body, timestamp=stamp))
        resigned = sign(body, timestamp=stamp)  # HMAC is deterministic: the same signature
        assert resigned == sign(body, timestamp=stamp)
        again = post(url, body, resigned)
    assert first.status_code == 200, first.text
    assert again.status_code == 200, again.text
    assert is_duplicate(again)
    assert again.content == first.content
    assert len(runs) == 1


def test_fresh_signature_with_a_handled_id_gets_the_stored_answer() -> None:
    sdk, runs = counting_sdk()
    body = issue_body()
    stamp = int(time.time())
    with serve_app(sdk) as url:
        first = post(url, body, sign(body, timestamp=stamp))
        redelivered = post(url, body, sign(body, timestamp=stamp - 1))
    assert first.status_code == 200, first.text
    assert redelivered.status_code == 200, redelivered.text
    assert is_duplicate(redelivered)
    assert redelivered.content == first.content
    assert len(runs) == 1


def _two_routes(sdk: KiketSDK, other_event: str, other_version: str) -> list[str]:
    other_runs: list[str] = []

    async def other(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
        other_runs.append(f"{ctx.event}@{ctx.event_version}")
        return {"other": True}

    sdk.register(other_event, other, version=other_version)
    return other_runs


def test_same_bytes_on_another_event_are_refused() -> None:
    sdk, runs = counting_sdk()
    other_runs = _two_routes(sdk, "issue.updated", "v1")
    body = issue_body()
    headers = sign(body)
    with serve_app(sdk) as url:
        first = post(url, body, headers)
        moved = post(url, body, headers, event="issue.updated")
        again = post(url, body, headers)
    assert first.status_code == 200, first.text
    assert moved.status_code == 401, moved.text
    assert other_runs == []
    assert again.status_code == 200
    assert is_duplicate(again)  # the refusal did not disturb the original delivery
    assert len(runs) == 1


def test_a_signed_body_naming_its_event_cannot_be_moved_to_another_route_first() -> None:
    """The signature covers the body's ``event``: posted to another route first, the bytes are
    refused without binding, so the genuine delivery that follows is not locked out."""
    sdk, runs = counting_sdk()
    other_runs = _two_routes(sdk, "issue.updated", "v1")
    body = issue_body()
    assert json.loads(body)["event"] == "issue.created"
    headers = sign(body)
    with serve_app(sdk) as url:
        moved_first = post(url, body, headers, event="issue.updated")
        genuine = post(url, body, headers)
    assert moved_first.status_code == 401, moved_first.text
    assert "another route" in moved_first.json()["error"]
    assert genuine.status_code == 200, genuine.text
    assert len(runs) == 1
    assert other_runs == []


@pytest.mark.parametrize(
    ("fields", "moved_to"),
    [
        ({"event_version": "v1"}, {"version": "v2"}),
        ({"event_version": "1"}, {"version": "v2"}),
        ({"event": "issue.created", "event_type": "issue.updated"}, {"event": "issue.updated"}),
    ],
    ids=["body version", "body version as a number", "event and event_type disagree"],
)
def test_a_signed_body_naming_its_route_cannot_be_moved_first(
    fields: dict[str, str], moved_to: dict[str, str]
) -> None:
    sdk, runs = counting_sdk()
    moved_runs = _two_routes(
        sdk, moved_to.get("event", "issue.created"), moved_to.get("version", "v1")
    )
    body = issue_body(**fields)
    headers = sign(body)
    with serve_app(sdk) as url:
        moved_first = post(url, body, headers, **moved_to)
    assert moved_first.status_code == 401, moved_first.text
    assert moved_runs == []
    assert runs == []


def test_same_bytes_on_another_event_are_refused_before_the_first_was_seen() -> None:
    """A body that does not name its event: whichever route the proof meets first, it owns."""
    sdk, runs = counting_sdk()
    other_runs = _two_routes(sdk, "issue.updated", "v1")
    body = issue_body(event=None, event_type=None)
    headers = sign(body)
    with serve_app(sdk) as url:
        first = post(url, body, headers, event="issue.updated")
        moved = post(url, body, headers)
    assert first.status_code == 200, first.text
    assert moved.status_code == 401, moved.text
    assert runs == []
    assert other_runs == ["issue.updated@v1"]


def test_same_bytes_on_another_version_are_refused() -> None:
    sdk, runs = counting_sdk()
    other_runs = _two_routes(sdk, "issue.created", "v2")
    body = issue_body()
    headers = sign(body)
    with serve_app(sdk) as url:
        first = post(url, body, headers)
        moved = post(url, body, headers, version="v2")
        respelled = post(url, body, headers, version="1")  # `1` is `v1`: the same route
    assert first.status_code == 200, first.text
    assert moved.status_code == 401, moved.text
    assert other_runs == []
    assert respelled.status_code == 200, respelled.text
    assert is_duplicate(respelled)
    assert len(runs) == 1


def test_the_route_is_the_event_and_version_however_they_are_spelled() -> None:
    """The version may come from the path, the X-Kiket-Event-Version header or ``?version=``:
    the same bytes on the same event@version are the same delivery whichever spelling carried
    them, and on another version they are refused."""
    sdk, runs = counting_sdk()
    other_runs = _two_routes(sdk, "issue.created", "v2")
    body = issue_body()
    headers = sign(body)
    with serve_app(sdk) as url:
        first = post(url, body, headers)
        plain = url + "/webhooks/issue.created"
        by_header = httpx.post(
            plain, content=body, headers={**headers, "X-Kiket-Event-Version": "V1"}, timeout=30
        )
        by_query = httpx.post(
            plain, params={"version": "01"}, content=body, headers=headers, timeout=30
        )
        moved_by_query = httpx.post(
            plain, params={"version": "2"}, content=body, headers=headers, timeout=30
        )
    assert first.status_code == 200, first.text
    for response in (by_header, by_query):
        assert response.status_code == 200, response.text
        assert is_duplicate(response)
        assert response.content == first.content
    assert moved_by_query.status_code == 401, moved_by_query.text
    assert other_runs == []
    assert len(runs) == 1


def test_same_id_on_another_event_or_version_is_another_event() -> None:
    sdk, runs = counting_sdk()
    updated_runs = _two_routes(sdk, "issue.updated", "v1")
    v2_runs = _two_routes(sdk, "issue.created", "v2")
    body = issue_body(event=None, event_type=None)  # a body naming its event has one route
    stamp = int(time.time())
    with serve_app(sdk) as url:
        created = post(url, body, sign(body, timestamp=stamp))
        updated = post(url, body, sign(body, timestamp=stamp - 1), event="issue.updated")
        created_v2 = post(url, body, sign(body, timestamp=stamp - 2), version="v2")
    for response in (created, updated, created_v2):
        assert response.status_code == 200, response.text
        assert not is_duplicate(response)
    assert len(runs) == 1
    assert updated_runs == ["issue.updated@v1"]
    assert v2_runs == ["issue.created@v2"]


def test_delivery_without_an_id_is_its_signed_bytes() -> None:
    sdk, runs = counting_sdk()
    body = issue_body(id=None)
    assert not {"id", "event_id", "delivery_id"} & set(json.loads(body))
    stamp = int(time.time())
    headers = sign(body, timestamp=stamp)
    respelled = dict(
        headers, **{"X-Kiket-Signature": "SHA256=" + headers["X-Kiket-Signature"].upper()}
    )
    with serve_app(sdk) as url:
        first = post(url, body, headers)
        again = post(url, body, headers)
        again_respelled = post(url, body, respelled)
        fresh = post(url, body, sign(body, timestamp=stamp - 1))
    assert first.status_code == 200, first.text
    assert again.status_code == 200, again.text
    assert is_duplicate(again)
    assert again.content == first.content
    assert again_respelled.status_code == 200, again_respelled.text
    assert is_duplicate(again_respelled)
    assert fresh.status_code == 200, fresh.text
    assert not is_duplicate(fresh)  # no id: a fresh signature is a new delivery
    assert fresh.json() == {"run": 2}
    assert len(runs) == 2


# -- 2. a plain `def` handler past handler_timeout ------------------------------------------------


def test_sync_handler_past_its_timeout_runs_exactly_once() -> None:
    sdk = make_sdk(handler_timeout=0.3, duplicate_wait=0.2)
    runs: list[int] = []
    release = threading.Event()

    @sdk.webhook("issue.created")
    def blocking(event: dict[str, Any], ctx: SyncHandlerContext) -> dict[str, Any]:
        runs.append(1)
        release.wait(HANDLER_GATE)
        return {"thread": "done", "run": len(runs)}

    body = issue_body()
    headers = sign(body)
    with serve_app(sdk) as url:
        try:
            timed_out = post(url, body, headers)
            while_running = post(url, body, headers)
            still_running = post(url, body, sign(body, timestamp=int(time.time()) - 1))
        finally:
            release.set()
        answers: list[httpx.Response] = []

        def settled() -> bool:
            answers.append(post(url, body, headers))
            return answers[-1].status_code != 409

        wait_until(settled, what="the thread's answer to be recorded")
    assert timed_out.status_code == 503, timed_out.text
    retry_after(timed_out)
    assert while_running.status_code == 409, while_running.text
    retry_after(while_running)
    assert still_running.status_code == 409, still_running.text  # a redelivery waits too
    final = answers[-1]
    assert final.status_code == 200, final.text
    assert is_duplicate(final)
    assert final.json() == {"thread": "done", "run": 1}
    assert len(runs) == 1


def test_a_thread_past_its_timeout_keeps_renewing_its_claim() -> None:
    """The claim of a ``def`` handler past ``handler_timeout`` outlives several leases."""
    lease = 0.6
    sdk = make_sdk(handler_timeout=0.2, duplicate_wait=0, claim_lease=lease)
    runs: list[int] = []
    release = threading.Event()

    @sdk.webhook("issue.created")
    def blocking(event: dict[str, Any], ctx: SyncHandlerContext) -> dict[str, Any]:
        runs.append(1)
        release.wait(HANDLER_GATE)
        return {"run": len(runs)}

    body = issue_body()
    headers = sign(body)
    with serve_app(sdk) as url, ThreadPoolExecutor(1) as pool:
        try:
            timed_out = post(url, body, headers)
            time.sleep(3 * lease)  # three leases: an unrenewed claim would have expired
            retry = pool.submit(post, url, body, headers).result(timeout=HANDLER_GATE)
        finally:
            release.set()
        answers: list[httpx.Response] = []

        def settled() -> bool:
            answers.append(post(url, body, headers))
            return answers[-1].status_code != 409

        wait_until(settled, what="the thread's answer to be recorded")
    assert timed_out.status_code == 503, timed_out.text
    assert retry.status_code == 409, retry.text
    assert answers[-1].status_code == 200, answers[-1].text
    assert is_duplicate(answers[-1])
    assert len(runs) == 1


# -- 3. leases ------------------------------------------------------------------------------------


def test_a_dead_process_claim_expires_after_its_lease() -> None:
    """A replica that claimed an event and died (never renewed, never completed) blocks the event
    for one lease; then the next delivery runs the handler. The dead replica is simulated by
    taking the event's run record in the shared store exactly as `Ledger.begin` would."""
    lease = 1.0
    store = MemoryDeliveryStore()  # shared by every replica
    sdk, runs = counting_sdk(delivery_store=store, claim_lease=lease, duplicate_wait=0)
    payload = issue_payload()
    body = encode(payload)
    headers = sign(body)
    run_key = _key("event", EXT_ID, "issue.created", "v1", "s:" + payload["id"])
    claim = asyncio.run(store.claim(run_key, lease=lease))
    assert claim.state is ClaimState.CLAIMED
    claimed_at = time.monotonic()
    with serve_app(sdk) as url:
        blocked = post(url, body, headers)
        time.sleep(max(0.0, claimed_at + lease + 0.5 - time.monotonic()))
        after_lease = post(url, body, headers)
        settled = post(url, body, headers)
    assert blocked.status_code == 409, blocked.text
    retry_after(blocked)
    assert after_lease.status_code == 200, after_lease.text
    assert not is_duplicate(after_lease)
    assert is_duplicate(settled)
    assert len(runs) == 1


def test_a_running_handler_renews_its_lease() -> None:
    lease = 0.6
    sdk = make_sdk(claim_lease=lease, duplicate_wait=0)
    runs: list[int] = []
    release = threading.Event()

    @sdk.webhook("issue.created")
    async def long_running(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
        runs.append(1)
        await gate(release)
        return {"run": len(runs)}

    body = issue_body()
    headers = sign(body)
    with serve_app(sdk) as url, ThreadPoolExecutor(2) as pool:
        try:
            first_future = pool.submit(post, url, body, headers)
            wait_until(lambda: bool(runs), what="the handler to start")
            time.sleep(2 * lease)  # two leases: an unrenewed claim would have expired
            duplicate = pool.submit(post, url, body, headers).result(timeout=HANDLER_GATE)
        finally:
            release.set()
        first = first_future.result()
        after = post(url, body, headers)
    assert duplicate.status_code == 409, duplicate.text
    retry_after(duplicate)
    assert first.status_code == 200, first.text
    assert after.status_code == 200
    assert is_duplicate(after)
    assert len(runs) == 1


# -- 4. deduplicate=False -------------------------------------------------------------------------


def test_deduplicate_off_runs_fresh_signatures_but_keeps_the_proof_rules() -> None:
    sdk, runs = counting_sdk(deduplicate=False)
    other_runs = _two_routes(sdk, "issue.updated", "v1")
    body = issue_body()
    stamp = int(time.time())
    headers = sign(body, timestamp=stamp)
    with serve_app(sdk) as url:
        first = post(url, body, headers)
        identical = post(url, body, headers)
        fresh = post(url, body, sign(body, timestamp=stamp - 1))
        moved = post(url, body, headers, event="issue.updated")
    assert first.status_code == 200, first.text
    assert identical.status_code == 200, identical.text
    assert is_duplicate(identical)
    assert identical.content == first.content
    assert fresh.status_code == 200, fresh.text
    assert not is_duplicate(fresh)
    assert fresh.json() == {"run": 2}
    assert moved.status_code == 401, moved.text
    assert other_runs == []
    assert len(runs) == 2


# -- 5. token mode --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kiket_key() -> tuple[Any, dict[str, str]]:
    return generate_signing_key(kid="delivery-model-1")


def test_token_mode_binds_the_token_to_one_body_and_routes_credentials_home(
    kiket_key: tuple[Any, dict[str, str]],
) -> None:
    key, jwk = kiket_key
    token = sign_runtime_token(
        private_key=key, kid=jwk["kid"], org_id=7, ext_id=EXT_ID, scopes=["issues.read"]
    )
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    seen: list[Any] = []
    with fake_api({"keys": [jwk]}) as (kiket_url, kiket), fake_api() as (other_url, other):
        sdk = make_sdk(webhook_secret=None, base_url=kiket_url, workspace_token="wk_token")

        @sdk.webhook("issue.created")
        async def on_issue(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
            seen.append((ctx.auth, repr(ctx.auth), repr(ctx)))
            budget = await ctx.endpoints.rate_limit()
            return {"remaining": budget.remaining}

        authentication = {"runtime_token": token, "token_type": "Bearer"}
        payload = issue_payload(authentication=authentication, api={"base_url": other_url})
        body = encode(payload)
        other_body = encode(dict(payload, id=payload["id"] + "-other", note="another body"))
        with serve_app(sdk) as url:
            first = post(url, body, UNSIGNED)
            replayed = post(url, other_body, UNSIGNED)
            retried = post(url, body, UNSIGNED)
        api_calls = list(kiket.calls)
    assert first.status_code == 200, first.text
    assert first.json() == {"remaining": 99}
    assert replayed.status_code == 401, replayed.text
    assert retried.status_code == 200, retried.text
    assert is_duplicate(retried)
    assert retried.content == first.content
    assert len(seen) == 1
    # credentials went to the configured base URL, never to the body's api.base_url
    assert other.calls == []
    assert [c.path for c in api_calls] == ["/api/v1/ext/rate_limit"]
    assert api_calls[0].headers["authorization"] == "Bearer wk_token"
    assert api_calls[0].headers["x-kiket-runtime-token"] == token
    auth, auth_repr, ctx_repr = seen[0]
    assert auth.proof == "runtime_token"
    assert auth.verified is True
    assert auth.org_id == 7
    assert auth.scopes == ("issues.read",)
    assert auth.expires_at == datetime.fromtimestamp(exp, UTC).isoformat()
    assert token not in auth_repr
    assert token not in ctx_repr


# -- 7. one JSON rule for every handler kind ------------------------------------------------------


def _valid() -> bytes:
    return issue_body()


BODIES: dict[str, tuple[Callable[[], bytes], int]] = {
    "utf-8 BOM": (lambda: b"\xef\xbb\xbf" + _valid(), 200),
    "null secret": (lambda: issue_body(secrets={"K": None}), 200),
    "empty authentication": (lambda: issue_body(authentication={}), 200),
    "secrets not an object": (lambda: issue_body(secrets="x"), 422),
    "deep nesting": (lambda: splice(_valid(), b"[" * 1000 + b"]" * 1000), 400),
    "5000-digit integer": (lambda: splice(_valid(), b"1" + b"0" * 4999), 400),
    "1e400": (lambda: splice(_valid(), b"1e400"), 400),
    "400 digits before a point": (lambda: splice(_valid(), b"1" + b"0" * 400 + b".5"), 400),
    "-1e309": (lambda: splice(_valid(), b"-1e309"), 400),
    "id true": (lambda: issue_body(id=True), 200),
    "id 1.5": (lambda: issue_body(id=1.5), 200),
    "id a list": (lambda: issue_body(id=[1, "a"]), 200),
    "NaN literal": (lambda: splice(_valid(), b"NaN"), 400),
    "lone surrogate escape": (lambda: splice(_valid(), b'"\\ud800"'), 400),
    "not UTF-8": (lambda: splice(_valid(), b'"\xff\xfe"'), 400),
    "top-level array": (lambda: b"[" + _valid() + b"]", 400),
    "secret not a string": (lambda: issue_body(secrets={"K": 5}), 422),
    "api without base_url": (lambda: issue_body(api={}), 422),
    "id an object": (lambda: issue_body(id={"a": 1}), 200),  # any JSON value is an id
    "token not a string": (lambda: issue_body(authentication={"runtime_token": 7}), 422),
    "null authentication": (lambda: issue_body(authentication=None), 200),
    "duplicate keys": (lambda: splice(_valid(), b'"evt_last_wins"', key=b"id"), 200),
    "truncated": (lambda: _valid()[:-1], 400),
    "empty body": (lambda: b"", 400),
    "two documents": (lambda: _valid() + b" {}", 400),
}
PARSE_FAILURES = [name for name, (_, status) in BODIES.items() if status == 400]


def _register(sdk: KiketSDK, kind: str, runs: list[str]) -> None:
    if kind == "dict":

        @sdk.webhook("issue.created")
        async def as_dict(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
            runs.append("dict")
            return {"kind": "dict"}

    else:

        @sdk.webhook("issue.created")
        async def as_model(event: IssueCreated, ctx: HandlerContext) -> dict[str, Any]:
            runs.append(event.issue.title)
            return {"kind": "model"}


@pytest.fixture(scope="module")
def parity_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, tuple[str, list[str]]]]:
    """One running SDK per handler kind (each body has its own event id)."""
    servers: dict[str, tuple[str, list[str]]] = {}
    with pytest.MonkeyPatch.context() as monkeypatch, ExitStack() as stack:
        isolate(monkeypatch, tmp_path_factory.mktemp("parity"))
        for kind in ("dict", "model"):
            runs: list[str] = []
            sdk = make_sdk()
            _register(sdk, kind, runs)
            servers[kind] = (stack.enter_context(serve_app(sdk)), runs)
        yield servers


@pytest.mark.parametrize("kind", ["dict", "model"])
@pytest.mark.parametrize("name", list(BODIES))
def test_every_handler_kind_answers_the_same_status(
    parity_servers: dict[str, tuple[str, list[str]]], kind: str, name: str
) -> None:
    make_body, expected = BODIES[name]
    url, runs = parity_servers[kind]
    before = len(runs)
    body = make_body()
    response = post(url, body, sign(body))
    assert response.status_code == expected, response.text
    assert response.headers["content-type"].startswith("application/json")
    strict_json(response.content)
    assert len(runs) - before == (1 if expected == 200 else 0)


@pytest.mark.parametrize("name", PARSE_FAILURES)
def test_token_mode_parse_failures_are_400(
    kiket_key: tuple[Any, dict[str, str]], name: str
) -> None:
    _, jwk = kiket_key
    make_body, _ = BODIES[name]
    runs: list[str] = []
    with fake_api({"keys": [jwk]}) as (kiket_url, _kiket):
        sdk = make_sdk(webhook_secret=None, base_url=kiket_url)
        _register(sdk, "model", runs)
        with serve_app(sdk) as url:
            response = post(url, make_body(), UNSIGNED)
    assert response.status_code == 400, response.text
    strict_json(response.content)
    assert runs == []


# -- 8. strict JSON answers -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_answers_are_strict_json_and_duplicates_are_byte_identical(kind: str) -> None:
    sdk = make_sdk()
    runs: list[int] = []
    if kind == "async":

        @sdk.webhook("issue.created")
        async def non_finite(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
            runs.append(1)
            return {"ratio": math.nan, "big": math.inf, "small": -math.inf, "n": 1}

    else:

        @sdk.webhook("issue.created")
        def non_finite_sync(event: dict[str, Any], ctx: SyncHandlerContext) -> dict[str, Any]:
            runs.append(1)
            return {"ratio": math.nan, "big": math.inf, "small": -math.inf, "n": 1}

    body = issue_body()
    headers = sign(body)
    with serve_app(sdk) as url:
        first = post(url, body, headers)
        again = post(url, body, headers)
    assert first.status_code == 200, first.text
    assert strict_json(first.content) == {"ratio": None, "big": None, "small": None, "n": 1}
    assert again.status_code == 200
    assert is_duplicate(again)
    assert again.content == first.content
    assert len(runs) == 1


# -- 9. hygiene at the edge -----------------------------------------------------------------------


def _raw_post(path: bytes, body: bytes, headers: dict[str, str], extra: bytes = b"") -> bytes:
    lines = [b"POST " + path + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    lines += [f"{name}: {value}".encode() for name, value in headers.items()]
    lines += [b"Content-Length: " + str(len(body)).encode()] if not extra else [extra]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@pytest.mark.parametrize("length", [10_000, 100_000])
def test_a_long_event_name_gets_a_short_answer(length: int) -> None:
    """The SDK cuts what it echoes; a request line past the HTTP server's own limit (uvicorn's
    h11 or httptools, depending on what is installed) is refused by the server first."""
    sdk, runs = counting_sdk()
    body = issue_body()
    event = b"e" * length
    with serve_app(sdk) as url:
        exchange = raw_exchange(url, _raw_post(b"/v/v1/webhooks/" + event, body, sign(body)))
    assert exchange.status in (404, 400, 414), exchange.data[:300]
    assert len(exchange.data) < 2048
    if exchange.status == 404:
        strict_json(exchange.body)
    else:
        assert length > 16_000  # only past the server's limit
    assert runs == []


def test_a_5000_digit_version_gets_a_short_404() -> None:
    sdk, runs = counting_sdk()
    body = issue_body()
    version = "7" * 5000
    with serve_app(sdk) as url:
        in_path = post(url, body, sign(body), version=version)
        in_header = httpx.post(
            url + "/webhooks/issue.created",
            content=body,
            headers={**sign(body), "X-Kiket-Event-Version": version},
            timeout=30,
        )
        in_query = httpx.post(
            url + "/webhooks/issue.created",
            params={"version": version},
            content=body,
            headers=sign(body),
            timeout=30,
        )
    for response in (in_path, in_header, in_query):
        assert response.status_code == 404, response.text[:300]
        assert len(response.content) < 2048
        strict_json(response.content)
    assert runs == []


def test_an_absurd_content_length_is_400() -> None:
    sdk, runs = counting_sdk()
    body = issue_body()
    headers = dict(sign(body))
    with serve_app(sdk) as url:
        huge = raw_exchange(
            url, _raw_post(route().encode(), body, headers, b"Content-Length: " + b"9" * 5000)
        )
        # 19 digits still parse as an HTTP header, and the SDK refuses them itself
        long = raw_exchange(
            url, _raw_post(route().encode(), body, headers, b"Content-Length: " + b"1" * 19)
        )
    assert huge.status == 400, huge.data[:300]
    assert long.status == 400, long.data[:300]
    assert strict_json(long.body) == {"error": "invalid Content-Length header"}
    assert runs == []


def test_a_body_that_never_arrives_gets_408_and_the_connection_is_closed() -> None:
    sdk, runs = counting_sdk(body_timeout=0.5)
    first_ten = b'{"id":"ab"'
    assert len(first_ten) == 10
    request = (
        b"POST " + route().encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n" + first_ten
    )
    with serve_app(sdk) as url:
        exchange = raw_exchange(url, request, read_timeout=KEEP_ALIVE_BOUND)
    assert exchange.status == 408, exchange.data[:300]
    assert exchange.closed, (
        f"the server kept the connection open {KEEP_ALIVE_BOUND:g} s after its 408: "
        + repr(exchange.data[:300])
    )
    strict_json(exchange.body)
    assert runs == []


def test_signing_keys_unavailable_is_a_503_that_reveals_nothing(
    kiket_key: tuple[Any, dict[str, str]],
) -> None:
    key, jwk = kiket_key
    token = sign_runtime_token(private_key=key, kid=jwk["kid"], org_id=7)
    runs: list[str] = []
    with fake_api({"keys": [jwk]}) as (kiket_url, kiket):
        kiket.jwks_status = 500
        sdk = make_sdk(webhook_secret=None, base_url=kiket_url)
        _register(sdk, "dict", runs)
        body = issue_body(authentication={"runtime_token": token})
        with serve_app(sdk) as url:
            response = post(url, body, UNSIGNED)
        fetched = kiket.jwks_requests
    assert fetched >= 1  # the keys really were asked for
    assert response.status_code == 503, response.text
    retry_after(response)
    text = response.text
    strict_json(response.content)
    for leak in ("127.0.0.1", "localhost", str(port_of(kiket_url)), "http", "jwks", ".json"):
        assert leak not in text.lower(), (leak, text)
    for leak in ("Traceback", "exploded", "Error", "Exception", "httpx", "status code"):
        assert leak not in text, (leak, text)
    assert runs == []


# -- 10. the ledger fails closed ------------------------------------------------------------------


class FlakyStore:
    """A `DeliveryStore` over memory whose calls raise ``ConnectionError`` while ``down``."""

    def __init__(self, *, down: bool = True, failing_completes: int = 0) -> None:
        self.inner = MemoryDeliveryStore()
        self.down = down
        self.failures = 0
        self.failing_completes = failing_completes
        """``complete`` fails this many times more, even while the store is up."""

    def _check(self) -> None:
        if self.down:
            self.failures += 1
            raise ConnectionError("store unreachable at 10.0.0.7:6379")

    async def claim(self, key: str, *, lease: float, binding: ProofBinding | None = None) -> Claim:
        self._check()
        return await self.inner.claim(key, lease=lease, binding=binding)

    async def renew(self, key: str, token: str, *, lease: float) -> bool:
        self._check()
        return await self.inner.renew(key, token, lease=lease)

    async def complete(self, key: str, token: str, response: StoredResponse, *, ttl: float) -> bool:
        self._check()
        if self.failing_completes > 0:
            self.failing_completes -= 1
            self.failures += 1
            raise ConnectionError("store unreachable at 10.0.0.7:6379")
        return await self.inner.complete(key, token, response, ttl=ttl)

    async def release(self, key: str, token: str) -> None:
        self._check()
        await self.inner.release(key, token)

    async def wait(
        self, key: str, *, timeout: float, poll: float = 0.05, lease: float = DEFAULT_LEASE
    ) -> Claim:
        self._check()
        return await self.inner.wait(key, timeout=timeout, poll=poll, lease=lease)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_store_down_is_503_and_no_handler_runs_until_it_recovers() -> None:
    store = FlakyStore()
    assert isinstance(store, DeliveryStore)
    sdk, runs = counting_sdk(delivery_store=store)
    body = issue_body()
    headers = sign(body)
    with serve_app(sdk) as url:
        down = post(url, body, headers)
        store.down = False
        recovered = post(url, body, headers)
        again = post(url, body, headers)
    assert store.failures >= 1
    assert down.status_code == 503, down.text
    retry_after(down)
    assert "error" in strict_json(down.content)
    assert "10.0.0.7" not in down.text
    assert recovered.status_code == 200, recovered.text
    assert not is_duplicate(recovered)
    assert again.status_code == 200
    assert is_duplicate(again)
    assert len(runs) == 1


def test_an_answer_that_could_not_be_recorded_at_first_is_retried() -> None:
    store = FlakyStore(down=False, failing_completes=2)
    sdk, runs = counting_sdk(delivery_store=store)
    body = issue_body()
    stamp = int(time.time())
    with serve_app(sdk) as url:
        first = post(url, body, sign(body, timestamp=stamp))
        redelivered = post(url, body, sign(body, timestamp=stamp - 1))
    assert first.status_code == 200, first.text
    assert store.failures == 2
    assert redelivered.status_code == 200, redelivered.text
    assert is_duplicate(redelivered)
    assert redelivered.content == first.content
    assert len(runs) == 1
