"""``kiket-sdk`` exit codes and one-line errors: network failures name the URL or address,
configuration errors say what to write, ``manifest check`` fails on problems.

Exit codes: 0 done, 1 the command ran and failed, 2 usage or configuration error.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiket_sdk._cli import _network, main

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "manifests"
SECRET = "cli-secret-do-not-print"
CLI = [sys.executable, "-m", "kiket_sdk"]


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err.strip()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "PORT", "KIKET_WEBHOOK_SECRET", "KIKET_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound (so nobody else takes it), not listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port something already listens on (and never answers)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


# --- network errors name the URL -----------------------------------------------------------------


def test_send_to_a_closed_port_names_the_url(closed_port: int, capsys) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    assert main(["send", "issue.created", "--url", url, "--secret", SECRET]) == 1
    line = _error_line(capsys)
    assert line == (
        f"kiket-sdk: error: cannot connect to {url}/v/v1/webhooks/issue.created: connection refused"
    )
    assert SECRET not in line


def test_send_in_a_subprocess_is_one_line_without_traceback(closed_port: int) -> None:
    env = {**os.environ, "KIKET_WEBHOOK_SECRET": SECRET}
    url = f"http://127.0.0.1:{closed_port}"
    result = subprocess.run(
        [sys.executable, "-m", "kiket_sdk", "send", "issue.created", "--url", url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"kiket-sdk: error: cannot connect to {url}/v/v1/webhooks/issue.created: connection refused"
    ]
    assert SECRET not in result.stderr + result.stdout


def test_send_hides_credentials_in_the_url(closed_port: int, capsys) -> None:
    url = f"http://bot:pa55word@127.0.0.1:{closed_port}"
    assert main(["send", "issue.created", "--url", url, "--secret", SECRET]) == 1
    line = _error_line(capsys)
    assert f"cannot connect to http://***@127.0.0.1:{closed_port}/v/v1/" in line
    assert "pa55word" not in line


def test_send_timeout_names_the_url(busy_port: int, capsys) -> None:
    url = f"http://127.0.0.1:{busy_port}"
    argv = ["send", "issue.created", "--url", url, "--secret", SECRET, "--timeout", "0.3"]
    assert main(argv) == 1
    assert _error_line(capsys) == (
        f"kiket-sdk: error: no answer from {url}/v/v1/webhooks/issue.created within 0.3s"
    )


@pytest.mark.parametrize("option", ["--url", "--api-url"])
def test_send_with_a_url_without_scheme_is_a_usage_error(option: str, capsys) -> None:
    argv = ["send", "issue.created", "--secret", SECRET, option, "localhost:8000"]
    assert main(argv) == 2
    assert _error_line(capsys).startswith(
        f"kiket-sdk: error: argument {option}: must be an http:// or https:// URL with a host"
    )


def test_network_module_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", _network.__doc__ or "", flags=re.DOTALL)
    assert blocks
    for block in blocks:
        exec(compile(block, "<_network docstring>", "exec"), {})


def test_reason_comes_from_the_innermost_os_error() -> None:
    import httpx

    wrapped = httpx.ConnectError("wrapped")
    wrapped.__cause__ = ConnectionRefusedError(111, "Connection refused")
    assert _network.os_reason(wrapped) == "connection refused"
    assert _network.os_reason(httpx.ConnectError("[Errno -2] Name or service not known")) == (
        "name or service not known"
    )


# --- run / dev: addresses and configuration ------------------------------------------------------


def test_run_on_a_busy_port_names_the_address(busy_port: int, capsys) -> None:
    assert main(["run", "examples.quickstart:sdk", "--port", str(busy_port)]) == 1
    assert _error_line(capsys) == (
        f"kiket-sdk: error: cannot listen on 127.0.0.1:{busy_port}: address already in use"
    )


def test_dev_on_a_busy_port_names_the_address(busy_port: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIKET_")}
    result = subprocess.run(
        [*CLI, "dev", "examples.quickstart:sdk", "--port", str(busy_port)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        f"kiket-sdk: error: cannot listen on 127.0.0.1:{busy_port}: address already in use"
    ]


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"PORT": "abc"}, "PORT must be a port number (1-65535), got 'abc'"),
        ({"PORT": "99999"}, "PORT must be a port number (1-65535), got '99999'"),
        ({"HOST": "http://0.0.0.0"}, "HOST must be an interface address or host name such as"),
    ],
)
def test_run_with_bad_env_is_one_line_exit_2(env: dict[str, str], line: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kiket_sdk", "run", "examples.quickstart:sdk"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"kiket-sdk: error: {line}")


@pytest.mark.parametrize("command", ["run", "dev"])
def test_bad_port_argument_is_a_usage_error(command: str, capsys) -> None:
    assert main([command, "examples.quickstart:sdk", "--port", "abc"]) == 2
    assert _error_line(capsys).startswith(
        "kiket-sdk: error: argument --port: the port must be a port number"
    )


def test_run_binds_host_env_else_loopback(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import uvicorn

    bound: list[tuple[str, int]] = []

    def fake_run(self: uvicorn.Server, sockets: list[socket.socket]) -> None:
        bound.append(sockets[0].getsockname()[:2])

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PORT", str(port))
    assert main(["run", "examples.quickstart:sdk"]) == 0
    assert bound[-1] == ("127.0.0.1", port)
    monkeypatch.setenv("HOST", "0.0.0.0")
    assert main(["run", "examples.quickstart:sdk"]) == 0
    assert bound[-1] == ("0.0.0.0", port)
    assert main(["run", "examples.quickstart:sdk", "--host", "127.0.0.1"]) == 0
    assert bound[-1] == ("127.0.0.1", port)


def test_configuration_error_at_import_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    (tmp_path / "badconfig_app.py").write_text(
        "from kiket_sdk import KiketSDK\nsdk = KiketSDK(base_url='localhost:9999')\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["run", "badconfig_app:sdk"]) == 2
    assert _error_line(capsys) == (
        "kiket-sdk: error: base_url must be an http:// or https:// URL with a host, like "
        "https://kiket.dev or http://127.0.0.1:8080; got 'localhost:9999'."
    )


@pytest.mark.parametrize("command", [[], ["run"], ["dev"], ["send"], ["manifest", "check"]])
def test_help_documents_exit_codes(command: list[str], capsys) -> None:
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    out = capsys.readouterr().out
    assert "exit codes:" in out
    assert "  2    usage or configuration error" in out
    if command in (["run"], ["dev"]):
        assert "HOST=0.0.0.0" in " ".join(out.split())


# --- manifest check -----------------------------------------------------------------------------


def test_manifest_check_reports_misspelled_keys_and_exits_1(tmp_path: Path, capsys) -> None:
    path = tmp_path / "extension.yaml"
    path.write_text("id: com.example.a\nversoin: '1.0'\nsetings:\n  - {key: A}\n")
    assert main(["manifest", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "  - Unknown key `setings` (did you mean 'settings'?); it was ignored." in out
    assert "  - Unknown key `versoin` (did you mean 'version'?); it was ignored." in out


def test_manifest_check_clean_is_0(tmp_path: Path, capsys) -> None:
    path = tmp_path / "extension.yaml"
    path.write_text("id: com.example.a\nversion: '1.0'\nsettings:\n  - {key: A, default: x}\n")
    assert main(["manifest", "check", str(path)]) == 0
    assert "problems  none" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("mailjet-inbound.kiket-manifest.yaml", 0),
        ("twilio.kiket-manifest.yaml", 0),
        # delivery_secret: KIKET_WEBHOOK_SECRET (a bare name) is worth a warning
        ("mailjet-inbound.flat-manifest.yaml", 1),
    ],
)
def test_manifest_check_real_manifests(
    name: str, code: int, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIKET_WEBHOOK_SECRET", "set")
    folder = tmp_path / ".kiket" if "kiket-manifest" in name else tmp_path
    folder.mkdir(exist_ok=True)
    target = folder / ("manifest.yaml" if "kiket-manifest" in name else "extension.yaml")
    shutil.copy(FIXTURES / name, target)
    assert main(["manifest", "check", str(tmp_path)]) == code
    out = capsys.readouterr().out
    assert "Unknown key" not in out


def test_manifest_check_usage_errors_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["manifest", "check", str(tmp_path / "missing.yaml")]) == 2
    assert _error_line(capsys).endswith("does not exist; pass the path of a YAML file.")
    assert main(["manifest", "check", str(tmp_path)]) == 2
    assert "no manifest found" in _error_line(capsys)
