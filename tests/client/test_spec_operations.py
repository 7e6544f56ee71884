"""Every operation of the spec, called through every generated way in, against FakeKiket.

The operations come from ``openapi/kiket-extension-api.yaml`` (no inventory is kept here): each
is called on ``KiketClient`` and ``AsyncKiketClient``, on their ``with_raw_response``, and, when
it carries ``x-kiket-scope``, on ``ctx.endpoints.<helper>(...)`` of ``Endpoints`` and
``AsyncEndpoints``. The fake has its stateful routes removed, so it answers every operation with
the spec's example, and checks each request and answer against the spec (``strict_responses``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kiket_sdk._client import AsyncKiketClient, KiketClient
from kiket_sdk._endpoints import AsyncEndpoints, Endpoints
from kiket_sdk._generated import models
from kiket_sdk.testing import FakeKiket

from ._spec_calls import SpecCall, spec_calls
from .test_clients import run

SPEC = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "openapi" / "kiket-extension-api.yaml").read_text()
)
CALLS = {call.operation_id: call for call in spec_calls(SPEC)}
SCOPED = sorted(op for op, call in CALLS.items() if call.helper)


@pytest.fixture(params=["sync", "async"])
async def client(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Any, FakeKiket]]:
    fake = FakeKiket(strict_responses=True)
    fake.routes.clear()
    if request.param == "sync":
        made: Any = KiketClient(
            base_url="http://kiket.test", http_client=httpx.Client(transport=fake.transport())
        )
    else:
        made = AsyncKiketClient(
            base_url="http://kiket.test",
            http_client=httpx.AsyncClient(transport=fake.transport()),
        )
    yield made, fake
    await run(made.close())


def _check(call: SpecCall, fake: FakeKiket, result: Any) -> None:
    assert fake.calls[-1].operation_id == call.operation_id
    assert 200 <= fake.calls[-1].status < 300
    if call.response_model is None:
        assert result is None
    else:
        assert isinstance(result, getattr(models, call.response_model))


def test_the_spec_has_operations_and_scoped_ones() -> None:
    assert CALLS
    assert SCOPED


@pytest.mark.parametrize("operation_id", sorted(CALLS))
async def test_every_spec_operation_on_the_client(
    client: tuple[Any, FakeKiket], operation_id: str
) -> None:
    made, fake = client
    call = CALLS[operation_id]
    result = await run(call.call(getattr(made, call.resource)))
    _check(call, fake, result)
    raw = await run(call.call(getattr(made.with_raw_response, call.resource)))
    assert isinstance(raw, httpx.Response)
    assert raw.is_success
    assert fake.calls[-1].operation_id == operation_id


@pytest.mark.parametrize("operation_id", SCOPED)
async def test_every_scoped_operation_on_ctx_endpoints(
    client: tuple[Any, FakeKiket], operation_id: str
) -> None:
    made, fake = client
    call = CALLS[operation_id]
    cls = Endpoints if isinstance(made, KiketClient) else AsyncEndpoints
    endpoints = cls(made, extension_id="com.example", event_version="v1")
    helper = getattr(endpoints, str(call.helper))
    scope = helper(call.bound_value) if call.bound else helper
    result = await run(call.call_scoped(scope))
    _check(call, fake, result)
    if call.bound:
        sent = fake.calls[-1]
        assert str(call.bound_value) in {
            *sent.query.values(),
            *map(str, (sent.json or {}).values()),
        }
