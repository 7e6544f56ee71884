"""HMAC proof of origin through real HTTP (TestClient and a loopback uvicorn)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from kiket_sdk import HandlerContext, KiketSDK
from kiket_sdk.testing import serve_app

from ._helpers import SECRET, encode, issue_payload, post, signed_headers


def _sdk(**options: Any) -> KiketSDK:
    options.setdefault("webhook_secret", SECRET)
    options.setdefault("telemetry_enabled", False)
    sdk = KiketSDK(**options)

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: dict[str, Any], ctx: HandlerContext) -> dict[str, Any]:
        return {"seen": event["issue"]["id"]}

    return sdk


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(_sdk()) as c:
        yield c


def test_valid_signature_is_accepted(client: TestClient) -> None:
    response = post(client)
    assert response.status_code == 200, response.text
    assert response.json() == {"seen": 42}


def test_wrong_signature_is_refused(client: TestClient) -> None:
    response = post(client, secret="not-the-secret")
    assert response.status_code == 401
    assert response.json() == {"error": "signature mismatch"}


@pytest.mark.parametrize("skew", [-301, 301, -3600, 86400])
def test_stale_and_future_timestamps_are_refused(client: TestClient, skew: int) -> None:
    response = post(client, timestamp=int(time.time()) - skew)
    assert response.status_code == 401
    assert "timestamp outside tolerance" in response.json()["error"]


def test_sha256_prefix_is_accepted(client: TestClient) -> None:
    body = encode(issue_payload())
    headers = signed_headers(body, prefix="sha256=")
    response = client.post("/v/v1/webhooks/issue.created", content=body, headers=headers)
    assert response.status_code == 200, response.text


def test_rotated_secret_old_signature_still_accepted() -> None:
    with TestClient(_sdk(webhook_secret=None, webhook_secrets=["new-secret", "old-secret"])) as c:
        assert post(c, secret="old-secret").status_code == 200
        assert post(c, secret="new-secret").status_code == 200
        assert post(c, secret="other").status_code == 401


def test_missing_headers_are_refused(client: TestClient) -> None:
    response = post(client, secret=None)
    assert response.status_code == 401
    assert "missing" in response.json()["error"]


def test_duplicate_signature_header_is_refused(client: TestClient) -> None:
    body = encode(issue_payload())
    headers = signed_headers(body)
    raw_headers = [(k.encode(), v.encode()) for k, v in headers.items()]
    raw_headers.append((b"X-Kiket-Signature", headers["X-Kiket-Signature"].encode()))
    response = client.post(
        "/v/v1/webhooks/issue.created", content=body, headers=httpx.Headers(raw_headers)
    )
    assert response.status_code == 401
    assert "duplicate" in response.json()["error"]


@pytest.mark.parametrize(
    "value",
    [
        "é" * 64,
        "zz" * 32,
        "ab",
        "sha256=" + "g" * 64,
        "\u00ff" * 10,
    ],
)
def test_malformed_signature_header_is_401_not_500(client: TestClient, value: str) -> None:
    body = encode(issue_payload())
    headers: dict[str, Any] = signed_headers(body)
    headers["X-Kiket-Signature"] = value.encode("latin-1")
    response = client.post("/v/v1/webhooks/issue.created", content=body, headers=headers)
    assert response.status_code == 401
    assert "error" in response.json()


def test_utf8_signature_bytes_are_401(client: TestClient) -> None:
    body = encode(issue_payload())
    headers: dict[str, Any] = signed_headers(body)
    headers["X-Kiket-Signature"] = ("ü" * 32).encode("utf-8")
    headers["X-Kiket-Timestamp"] = "\uff11\uff12\uff13".encode()
    response = client.post("/v/v1/webhooks/issue.created", content=body, headers=headers)
    assert response.status_code == 401


def test_no_proof_and_no_secret_mentions_the_env_var() -> None:
    with TestClient(_sdk(webhook_secret=None)) as c:
        response = post(c, secret=None)
    assert response.status_code == 401
    assert "KIKET_WEBHOOK_SECRET" in response.json()["error"]


def test_env_secret_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIKET_WEBHOOK_SECRET", "env-secret")
    with TestClient(_sdk(webhook_secret=None)) as c:
        assert post(c, secret="env-secret").status_code == 200
        assert post(c, secret=SECRET).status_code == 401


def test_verify_false_accepts_unsigned_deliveries() -> None:
    with TestClient(_sdk(webhook_secret=None, verify=False)) as c:
        response = c.post("/v/v1/webhooks/issue.created", content=encode(issue_payload()))
    assert response.status_code == 200
    assert response.json() == {"seen": 42}


def test_real_uvicorn_signed_and_unsigned() -> None:
    sdk = _sdk()
    with serve_app(sdk) as base_url, httpx.Client(base_url=base_url) as http:
        assert post(http).status_code == 200
        assert post(http, secret="wrong").status_code == 401
        assert post(http, secret=None).status_code == 401
        health = http.get("/health")
        assert health.status_code == 200
        assert health.json()["registered_events"] == ["issue.created@v1"]


def test_real_uvicorn_streamed_body_over_limit() -> None:
    sdk = _sdk(max_body_size=1000)

    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 500

    with serve_app(sdk) as base_url, httpx.Client(base_url=base_url) as http:
        response = http.post(
            "/v/v1/webhooks/issue.created",
            content=chunks(),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 413
        assert post(http).status_code == 200
