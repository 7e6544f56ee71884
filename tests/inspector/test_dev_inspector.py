"""``kiket-sdk dev`` serves the inspector and seeds the fake from ``--seed FILE`` (subprocess)."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from kiket_sdk._inspector.api import PREFIX

ROOT = Path(__file__).resolve().parents[2]
SEED = """
records:
  - {module: crm, table: contacts, project_id: 7, rows: [{email: ada@example.com}]}
secrets:
  com.example.marketing: {API_KEY: k}
"""


def _dev_command(*extra: str) -> list[str]:
    return [sys.executable, "-m", "kiket_sdk", "dev", "examples.quickstart:sdk", *extra]


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIKET_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _read(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


def _line_with(lines: queue.Queue[str], needle: str) -> str:
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=30)
        except queue.Empty:
            pytest.fail(f"no line with {needle!r}; got {seen}")
        seen.append(line)
        if needle in line:
            return line


@pytest.fixture
def dev_inspector(tmp_path: Path) -> Iterator[tuple[str, queue.Queue[str]]]:
    """The inspector URL printed by ``kiket-sdk dev --seed``, and the rest of its output."""
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED)
    process = subprocess.Popen(
        _dev_command("--port", "0", "--seed", str(seed)),
        cwd=ROOT,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_read, args=(process.stdout, lines), daemon=True).start()
    try:
        assert "1 records, 0 sla events, 1 secrets" in _line_with(lines, "seeded")
        url = _line_with(lines, "inspector").split()[1]
        yield url, lines
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


@pytest.mark.slow
def test_dev_prints_the_inspector_and_serves_its_api(dev_inspector: tuple[str, queue.Queue[str]]):
    url, lines = dev_inspector
    assert url.endswith(PREFIX + "/")
    with httpx.Client(base_url=url + "api", timeout=10.0) as client:
        state = client.get("/fake").json()
        assert state["records"][0]["rows"][0]["email"] == "ada@example.com"
        assert state["secrets"] == {"com.example.marketing": {"API_KEY": "k"}}
        sent = client.post("/send", json={"event": "issue.created", "version": "v1"}).json()
        assert sent["status"] == 200, sent
        entry = client.get(f"/deliveries/{sent['serial']}").json()
    assert entry["proof"]["kind"] == "hmac"
    paths = [item["path"] for item in entry["timeline"] if item["kind"] == "outbound"]
    assert "/api/v1/extensions/com.example.marketing/events" in paths
    assert _line_with(lines, "<- POST /v/v1/webhooks/issue.created").endswith(" 200")


@pytest.mark.slow
def test_dev_with_a_bad_seed_file_is_a_usage_error(tmp_path: Path):
    seed = tmp_path / "seed.yaml"
    seed.write_text("tables: []\n")
    finished = subprocess.run(
        _dev_command("--port", "0", "--seed", str(seed)),
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 2
    assert "argument --seed" in finished.stderr
    assert "unknown seed keys ['tables']" in finished.stderr
