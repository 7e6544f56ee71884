"""``kiket-sdk dev`` serves the inspector and seeds the fake from ``--seed FILE`` (subprocess)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
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
def dev_process(tmp_path: Path) -> Iterator[tuple[str, queue.Queue[str], subprocess.Popen[str]]]:
    """``kiket-sdk dev --seed``: the inspector URL it printed, its later output, the process."""
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
        yield url, lines, process
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


DevProcess = tuple[str, queue.Queue[str], "subprocess.Popen[str]"]


@pytest.mark.slow
def test_dev_prints_the_inspector_and_serves_its_api(dev_process: DevProcess):
    url, lines, _ = dev_process
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


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("deep.yaml", b"x: " + b"[" * 5000 + b"]" * 5000, "nested deeper than"),
        ("deep.json", b'{"x": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested too deeply"),
        ("latin.yaml", "secrets: {a: {K: caf\u00e9}}".encode("latin-1"), "is not UTF-8"),
        ("nan.yaml", b"sla_events: [{issue_id: 7, state: s, x: .nan}]", "not a finite number"),
    ],
    ids=["deep-yaml", "deep-json", "latin-1", "nan"],
)
def test_dev_with_a_seed_file_it_cannot_load_is_one_line_and_exit_code_2(
    tmp_path: Path, name: str, content: bytes, expected: str
):
    seed = tmp_path / name
    seed.write_bytes(content)
    finished = subprocess.run(
        _dev_command("--port", "0", "--seed", str(seed)),
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 2, finished.stderr
    assert "Traceback" not in finished.stderr
    [line] = [line for line in finished.stderr.splitlines() if "argument --seed" in line]
    assert name in line
    assert expected in line


@pytest.mark.slow
def test_ctrl_c_ends_dev_promptly_while_a_page_listens_to_the_stream(dev_process: DevProcess):
    url, lines, process = dev_process
    connected = threading.Event()
    ended: list[str] = []

    def listen() -> None:
        with httpx.stream("GET", url + "api/stream", timeout=30.0) as stream:
            for line in stream.iter_lines():
                if line == ": connected":
                    connected.set()
        ended.append("stream closed by the server")

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert connected.wait(10)
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    process.wait(timeout=10)
    assert time.monotonic() - started < 5  # not the 2 s grace limit plus cancellation
    listener.join(10)
    assert ended == ["stream closed by the server"]
    rest: list[str] = []
    while True:  # the reader thread gets the last lines shortly after the exit
        try:
            rest.append(lines.get(timeout=1))
        except queue.Empty:
            break
    assert not [line for line in rest if "Traceback" in line or "CancelledError" in line]


@pytest.mark.slow
def test_dev_warns_when_it_listens_beyond_loopback():
    process = subprocess.Popen(
        _dev_command("--port", "0", "--host", "0.0.0.0"),
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
        warning = _line_with(lines, "warning")
        assert "0.0.0.0 is reachable from other machines" in warning
        assert "--host 127.0.0.1" in warning
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


def test_the_default_dev_server_does_not_warn(dev_process: DevProcess):
    _, lines, _ = dev_process
    assert not _line_with(lines, "try:").startswith("warning")
