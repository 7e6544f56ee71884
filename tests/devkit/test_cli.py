"""``kiket-sdk``: every command in process via ``main([...])``; ``dev`` in a subprocess."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kiket_sdk import KiketSDK, allow, deny
from kiket_sdk._cli import DEV_WEBHOOK_SECRET, main
from kiket_sdk.events import IssueCreated
from kiket_sdk.testing import generate_signature, serve_app

ROOT = Path(__file__).resolve().parents[2]
SECRET = "cli-secret"


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err.strip()


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["run"],
        ["dev"],
        ["send"],
        ["sign"],
        ["events"],
        ["new"],
        ["manifest"],
        ["manifest", "check"],
    ],
)
def test_help_everywhere(argv: list[str], capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    assert "usage: kiket-sdk" in capsys.readouterr().out


def test_run_with_a_bad_target_is_one_line(capsys: pytest.CaptureFixture[str]):
    assert main(["run", "nowhere_module_xyz:sdk"]) == 2
    assert _error_line(capsys).startswith("kiket-sdk: error: cannot import 'nowhere_module_xyz'")
    assert main(["run", "no-colon"]) == 2
    assert "MODULE:ATTRIBUTE" in _error_line(capsys)
    assert main(["run", "examples.quickstart:missing"]) == 2
    assert "has no attribute 'missing'" in _error_line(capsys)
    assert main(["run", "examples.quickstart:logger"]) == 2
    assert "not a KiketSDK" in _error_line(capsys)


# --- send -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server_url():
    sdk = KiketSDK(webhook_secret=SECRET, extension_id="com.example.cli")

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: IssueCreated, ctx):
        if event.issue.title == "no":
            return deny("not this one")
        return allow(message=event.issue.title, data={"extra": event.issue.model_extra})

    with serve_app(sdk) as url:
        yield url


def test_send_example_payload(server_url: str, capsys: pytest.CaptureFixture[str]):
    assert main(["send", "issue.created", "--url", server_url, "--secret", SECRET]) == 0
    out = capsys.readouterr().out
    status, _, body = out.partition("\n")
    assert status == "200 OK"
    assert json.loads(body)["message"] == "Printer on fire"


def test_send_with_set_values(server_url: str, capsys: pytest.CaptureFixture[str]):
    argv = ["send", "issue.created", "--url", server_url, "--secret", SECRET]
    argv += ["--set", "issue.title=Hello world", "--set", 'issue.tags=["a", 1]']
    assert main(argv) == 0
    answer = json.loads(capsys.readouterr().out.partition("\n")[2])
    assert answer["message"] == "Hello world"
    assert answer["metadata"]["extra"]["tags"] == ["a", 1]  # JSON-parsed


def test_send_from_file_and_env_secret(
    server_url: str, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
):
    from kiket_sdk.testing import event_payload

    path = tmp_path / "payload.json"
    path.write_text(json.dumps(event_payload("issue.created", issue__title="From file")))
    monkeypatch.setenv("KIKET_WEBHOOK_SECRET", SECRET)
    assert main(["send", "issue.created", "--file", str(path), "--url", server_url]) == 0
    assert "From file" in capsys.readouterr().out


def test_send_non_2xx_exits_1(server_url: str, capsys: pytest.CaptureFixture[str]):
    assert main(["send", "issue.created", "--url", server_url, "--secret", "wrong"]) == 1
    assert capsys.readouterr().out.startswith("401")
    assert main(["send", "issue.updated", "--url", server_url, "--secret", SECRET]) == 1
    assert capsys.readouterr().out.startswith("404")


def test_send_errors_are_one_line(capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("KIKET_WEBHOOK_SECRET", raising=False)
    assert main(["send", "issue.created"]) == 2
    assert "no webhook secret" in _error_line(capsys)
    assert main(["send", "issue.created", "--secret", "s", "--set", "novalue"]) == 2
    assert "PATH=VALUE" in _error_line(capsys)
    assert main(["send", "issue.created", "--secret", "s", "--file", str(tmp_path / "x")]) == 2
    assert _error_line(capsys).endswith(": no such file or directory")
    argv = ["send", "issue.created", "--secret", "s", "--url", "http://127.0.0.1:1"]
    assert main(argv) == 1
    assert "cannot connect to http://127.0.0.1:1/v/v1/webhooks/issue.created" in _error_line(capsys)


# --- sign / events ----------------------------------------------------------------------------


def test_sign(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    body = tmp_path / "body.json"
    body.write_bytes(b'{"event":"issue.created"}')
    argv = ["sign", "--secret", "s3cret", "--file", str(body), "--timestamp", "1767225600"]
    assert main(argv) == 0
    expected = generate_signature("s3cret", b'{"event":"issue.created"}', 1767225600)
    assert capsys.readouterr().out.splitlines() == [
        f"X-Kiket-Signature: {expected['signature']}",
        "X-Kiket-Timestamp: 1767225600",
    ]
    body.write_text("not json")
    assert main(["sign", "--secret", "s", "--file", str(body)]) == 2
    assert "not valid JSON" in _error_line(capsys)


def test_events(capsys: pytest.CaptureFixture[str]):
    assert main(["events"]) == 0
    out = capsys.readouterr().out
    assert "issue.created v1 (IssueCreated)" in out
    assert "issue.created v2 (IssueCreatedV2)" in out
    assert "custom_fields" in out
    assert "external.webhook.inbound_email v1" in out


# --- manifest check ---------------------------------------------------------------------------


def test_manifest_check(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("KIKET_WEBHOOK_SECRET", raising=False)
    path = tmp_path / "extension.yaml"
    path.write_text(
        "id: com.example.m\nversion: '2.0.0'\ndelivery_secret: env.KIKET_WEBHOOK_SECRET\n"
        "settings:\n  - {key: API_KEY, secret: true}\n  - {key: RETRIES, default: '3'}\n"
    )
    assert main(["manifest", "check", str(path)]) == 1  # problems reported: the secret is unset
    out = capsys.readouterr().out
    assert "id        com.example.m" in out
    assert "version   2.0.0" in out
    assert "  API_KEY secret" in out
    assert "  RETRIES default='3'" in out
    assert "secret keys  API_KEY" in out
    assert "KIKET_WEBHOOK_SECRET, which is not set" in out
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KIKET_WEBHOOK_SECRET", "set-now")
    assert main(["manifest", "check"]) == 0
    assert "problems  none" in capsys.readouterr().out


def test_manifest_check_failures(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch):
    assert main(["manifest", "check", str(tmp_path / "missing.yaml")]) == 2
    assert "does not exist" in _error_line(capsys)
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n")
    assert main(["manifest", "check", str(bad)]) == 2
    assert "not valid YAML" in _error_line(capsys)
    monkeypatch.chdir(tmp_path / "..")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["manifest", "check", str(empty)]) == 2
    assert "no manifest found" in _error_line(capsys)


# --- new ---------------------------------------------------------------------------------------


def test_new_scaffold_passes_its_own_tests(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch):
    assert main(["new", "my-ext", "--dir", str(tmp_path)]) == 0
    root = tmp_path / "my-ext"
    assert "created" in capsys.readouterr().out
    for name in ("extension.yaml", "app.py", "tests/test_app.py", "Dockerfile", "README.md"):
        assert (root / name).is_file(), name
    docker = (root / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in docker
    assert "ENV PORT=8080" in docker
    assert 'os.environ.get(\\"PORT\\",\\"8080\\")' in docker
    assert "CMD kiket-sdk run app:sdk --host 0.0.0.0" in docker
    assert "kiket_deliver" in (root / "tests/test_app.py").read_text()

    env = {k: v for k, v in os.environ.items() if not k.startswith("KIKET_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout

    monkeypatch.setenv("KIKET_WEBHOOK_SECRET", "set")  # the manifest refers to it
    assert main(["manifest", "check", str(root / "extension.yaml")]) == 0
    assert "com.example.my_ext" in capsys.readouterr().out
    assert main(["new", "my-ext", "--dir", str(tmp_path)]) == 2
    assert "not empty" in _error_line(capsys)
    assert main(["new", "bad name", "--dir", str(tmp_path)]) == 2
    _error_line(capsys)


# --- dev (subprocess) ---------------------------------------------------------------------------


def _reader(stream, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


def _next(lines: queue.Queue[str], needle: str, seen: list[str]) -> str:
    while True:
        try:
            line = lines.get(timeout=30)
        except queue.Empty:
            pytest.fail(f"no line with {needle!r}; got {seen}")
        seen.append(line)
        if needle in line:
            return line


@pytest.mark.slow
def test_dev_serves_against_the_fake_and_logs(capsys: pytest.CaptureFixture[str]):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIKET_")}
    env["PYTHONUNBUFFERED"] = "1"
    cli = [sys.executable, "-m", "kiket_sdk"]  # the README runs the CLI this way
    process = subprocess.Popen(
        [*cli, "dev", "examples.quickstart:sdk", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(process.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        assert DEV_WEBHOOK_SECRET in _next(lines, "secret", seen)
        command = _next(lines, "kiket-sdk send issue.created", seen).split()
        assert command[:3] == ["kiket-sdk", "send", "issue.created"]
        assert main(command[1:]) == 0
        assert capsys.readouterr().out.startswith("200")
        assert "/api/v1/extensions/com.example.marketing/events 200" in _next(
            lines, "fake kiket POST", seen
        )
        assert _next(lines, "<- POST /v/v1/webhooks/issue.created", seen).endswith(" 200")
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()  # the reader thread ends with it
