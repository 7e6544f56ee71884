"""What goes over the wire for "not given", ``None`` and datetimes, on a real loopback server.

The fake platform and the sync/async harness come from ``test_clients.py``. Which body fields
admit ``null`` is read from the spec (``TelemetryReport``), not listed here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from kiket_sdk._client import KiketClient
from kiket_sdk._client_options import NOT_GIVEN
from kiket_sdk._endpoints import AsyncEndpoints, Endpoints
from kiket_sdk._exceptions import ConfigurationError
from kiket_sdk._request_codec import encode_body, encode_params
from kiket_sdk.testing import serve_app
from kiket_sdk.types import InboundEmail

from .test_clients import APP, PLATFORM, Harness, run

SPEC: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "openapi" / "kiket-extension-api.yaml").read_text()
)
TELEMETRY = SPEC["components"]["schemas"]["TelemetryReport"]
OPTIONAL = [key for key in TELEMETRY["properties"] if key not in TELEMETRY["required"]]
NULLABLE = [key for key in OPTIONAL if "null" in TELEMETRY["properties"][key].get("type", [])]
NOT_NULLABLE = [key for key in OPTIONAL if key not in NULLABLE]
REQUIRED = {
    "event": "issue.created",
    "version": "v1",
    "status": "ok",
    "duration_ms": 12.5,
    "timestamp": "2026-03-01T00:00:00Z",
}


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    with serve_app(APP) as url:
        yield url


@pytest.fixture(params=["sync", "async"])
async def client(request: pytest.FixtureRequest, server_url: str) -> AsyncIterator[Any]:
    PLATFORM.clear()
    harness = Harness(request.param, server_url)
    yield harness.make()
    await harness.close()


def test_the_spec_has_both_kinds_of_optional_field() -> None:
    assert NULLABLE
    assert NOT_NULLABLE


async def test_optional_fields_not_given_are_left_out(client: Any) -> None:
    await run(client.telemetry.send(**REQUIRED))
    assert PLATFORM.only().json == REQUIRED


async def test_none_is_sent_as_null_where_the_spec_admits_null(client: Any) -> None:
    await run(client.telemetry.send(**REQUIRED, **dict.fromkeys(NULLABLE)))
    assert PLATFORM.only().json == {**REQUIRED, **dict.fromkeys(NULLABLE)}


async def test_none_is_left_out_where_the_spec_forbids_null(client: Any) -> None:
    await run(client.telemetry.send(**REQUIRED, **dict.fromkeys(NOT_NULLABLE)))
    assert PLATFORM.only().json == REQUIRED


async def test_a_model_sends_the_fields_that_were_set_none_as_null(client: Any) -> None:
    email = InboundEmail(from_email="a@example.com", to_email="in@kiket.dev", subject=None)
    await run(client.inbound_emails.create(inbound_email=email))
    assert PLATFORM.only().json == {
        "inbound_email": {
            "from_email": "a@example.com",
            "to_email": "in@kiket.dev",
            "subject": None,
        }
    }


async def test_generic_calls_encode_models_the_same_way(client: Any) -> None:
    email = InboundEmail(from_email="a@example.com", to_email="in@kiket.dev", text_body=None)
    await run(client.post("/api/v1/ext/telemetry", json=email))
    assert PLATFORM.only().json == {
        "from_email": "a@example.com",
        "to_email": "in@kiket.dev",
        "text_body": None,
    }


async def test_query_values_not_given_or_none_are_left_out(client: Any) -> None:
    await run(
        client.intake_forms.list_submissions(
            "bug", project_id=42, status=NOT_GIVEN, limit=None, since=NOT_GIVEN
        )
    )
    assert PLATFORM.only().query == [("project_id", "42")]


async def test_an_aware_datetime_is_sent_with_its_offset(client: Any) -> None:
    berlin = timezone(timedelta(hours=1))
    since = datetime(2026, 1, 15, 10, 30, tzinfo=berlin)
    await run(client.intake_forms.list_submissions("bug", project_id=42, since=since))
    assert ("since", "2026-01-15T10:30:00+01:00") in PLATFORM.only().query


async def test_a_naive_datetime_in_the_query_is_refused_before_sending(client: Any) -> None:
    with pytest.raises(
        ConfigurationError, match=r"since is a naive datetime.*datetime\.now\(UTC\)"
    ):
        await run(client.intake_forms.list_submissions("bug", project_id=42, since=datetime.now()))
    assert PLATFORM.requests == []


async def test_a_naive_datetime_in_a_body_is_refused_before_sending(client: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"metadata\.at\[0\] is a naive datetime"):
        await run(client.telemetry.send(**REQUIRED, metadata={"at": [datetime(2026, 1, 15)]}))
    with pytest.raises(ConfigurationError, match=r"body\.at is a naive datetime"):
        await run(client.post("/api/v1/ext/telemetry", json={"at": datetime(2026, 1, 15)}))
    assert PLATFORM.requests == []


def test_encoding_without_a_client() -> None:
    assert encode_params({"a": NOT_GIVEN, "b": None, "c": datetime(2026, 1, 1, tzinfo=UTC)}) == [
        ("c", "2026-01-01T00:00:00+00:00")
    ]
    assert encode_body({"at": datetime(2026, 1, 1, tzinfo=UTC), "gone": None}) == (
        b'{"at":"2026-01-01T00:00:00+00:00","gone":null}'
    )


async def test_endpoint_helpers_refuse_a_naive_since_too(client: Any) -> None:
    endpoints = (
        Endpoints(client, extension_id=None, event_version=None)
        if isinstance(client, KiketClient)
        else AsyncEndpoints(client, extension_id=None, event_version=None)
    )
    forms = endpoints.intake_forms(42)
    with pytest.raises(ConfigurationError, match="since is a naive datetime"):
        await run(forms.list_submissions("bug", since=datetime.now()))
    await run(forms.list_submissions("bug", since=datetime(2026, 1, 15, tzinfo=UTC)))
    assert ("since", "2026-01-15T00:00:00+00:00") in PLATFORM.only().query
