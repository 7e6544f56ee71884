"""Telemetry goes to the API when the SDK is authenticated; secrets given both ways combine."""

from __future__ import annotations

import time

import pytest
from starlette.testclient import TestClient

from kiket_sdk import KiketSDK
from kiket_sdk.testing import FakeKiket

from ._helpers import SECRET, post


def test_authenticated_sdk_reports_telemetry_to_the_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIKET_SDK_TELEMETRY_OPTOUT", raising=False)
    monkeypatch.delenv("KIKET_SDK_TELEMETRY_URL", raising=False)
    fake = FakeKiket(workspace_token="wk_test", strict_responses=True)
    with fake.serve() as url:
        sdk = KiketSDK(
            webhook_secret=SECRET, workspace_token="wk_test", base_url=url, extension_id="com.x"
        )
        sdk.register("issue.created", lambda event, ctx: None)
        with TestClient(sdk) as client:
            assert post(client).status_code == 200
            deadline = time.monotonic() + 5
            while not fake.telemetry and time.monotonic() < deadline:
                time.sleep(0.02)
    (report,) = fake.telemetry
    assert report["event"] == "issue.created"
    assert report["status"] == "ok"
    assert report["extension_id"] == "com.x"
    (call,) = [c for c in fake.calls if c.path == "/api/v1/ext/telemetry"]
    assert call.headers["authorization"] == "Bearer wk_test"


def test_no_telemetry_without_url_or_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIKET_SDK_TELEMETRY_URL", raising=False)
    monkeypatch.delenv("KIKET_WORKSPACE_TOKEN", raising=False)
    sdk = KiketSDK(webhook_secret=SECRET)
    assert not sdk.telemetry.active


def test_webhook_secret_and_webhook_secrets_are_all_accepted() -> None:
    sdk = KiketSDK(webhook_secret="current", webhook_secrets=["previous"])
    assert sdk.verifier.secrets == ("current", "previous")
    sdk.register("issue.created", lambda event: {"ok": 1})
    with TestClient(sdk) as client:
        assert post(client, secret="previous").status_code == 200
        assert post(client, secret="current").status_code == 200
        assert post(client, secret="other").status_code == 401
