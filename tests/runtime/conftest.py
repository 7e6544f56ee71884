"""Isolate every runtime test from the developer's environment and working directory."""

from __future__ import annotations

from pathlib import Path

import pytest

_ENV = (
    "KIKET_WEBHOOK_SECRET",
    "KIKET_BASE_URL",
    "KIKET_WORKSPACE_TOKEN",
    "KIKET_SDK_TELEMETRY_URL",
    "KIKET_SDK_TELEMETRY_OPTOUT",
    "KIKET_REDIS_URL",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray extension.yaml is picked up
