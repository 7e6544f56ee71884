"""``kiket-sdk`` never prints a secret value, and every bad option value is a usage error.

Secrets: ``manifest check`` and the ``dev`` banner name where a secret comes from (``set (from
KIKET_WEBHOOK_SECRET)``), never its value. Usage: each option's argparse ``type=`` refuses a bad
value with exit code 2 and one line naming the option; ``send`` appends the event path before
``--url``'s query and shows query values as ``***``.
"""

from __future__ import annotations

import argparse
import os
import queue
import shlex
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.devkit.test_cli import _next, _reader

from kiket_sdk import KiketSDK, allow
from kiket_sdk._cli import _arguments as arg
from kiket_sdk._cli import build_parser, main
from kiket_sdk._cli._dev import DEV_WEBHOOK_SECRET
from kiket_sdk._cli._send import webhook_url
from kiket_sdk.events import IssueCreated
from kiket_sdk.testing import serve_app

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sh_live_SUPERSECRET"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "PORT", "KIKET_WEBHOOK_SECRET", "KIKET_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _one_error_line(capsys: pytest.CaptureFixture[str], *secrets: str) -> str:
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1, captured.err
    assert "Traceback" not in captured.err
    for secret in secrets:
        assert secret not in captured.out + captured.err
    return captured.err.strip()


def _check(path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path.write_text(text)
    code = main(["manifest", "check", str(path)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


# --- manifest check prints no secret -------------------------------------------------------------


def test_manifest_check_hides_a_literal_delivery_secret(tmp_path: Path, capsys) -> None:
    text = f"id: a\nversion: '1'\ndelivery_secret: {SECRET}\n"
    code, output = _check(tmp_path / "extension.yaml", text, capsys)
    assert code == 1  # a literal secret in the file is a problem
    assert SECRET not in output
    assert "delivery secret  delivery_secret: literal in the manifest (value hidden)" in output


def test_manifest_check_hides_a_literal_under_extension_callback(tmp_path: Path, capsys) -> None:
    text = f"extension:\n  id: a\n  version: '1'\n  callback:\n    secret: {SECRET}\n"
    code, output = _check(tmp_path / "extension.yaml", text, capsys)
    assert code == 1
    assert SECRET not in output
    assert "extension.callback.secret: literal in the manifest (value hidden)" in output


def test_manifest_check_names_the_variable_not_its_value(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIKET_WEBHOOK_SECRET", SECRET)
    text = "id: a\nversion: '1'\ndelivery:\n  callback:\n    secret: env.KIKET_WEBHOOK_SECRET\n"
    code, output = _check(tmp_path / "extension.yaml", text, capsys)
    assert code == 0, output
    assert SECRET not in output
    assert "delivery.callback.secret: set (from KIKET_WEBHOOK_SECRET)" in output
    monkeypatch.delenv("KIKET_WEBHOOK_SECRET")
    code, output = _check(tmp_path / "extension.yaml", text, capsys)
    assert code == 1
    assert "delivery.callback.secret: not set (KIKET_WEBHOOK_SECRET is unset)" in output


def test_manifest_check_hides_secret_setting_defaults(tmp_path: Path, capsys) -> None:
    text = (
        "id: a\nversion: '1'\nsettings:\n"
        "  - {key: API_KEY, secret: true, default: defaultSECRETvalue}\n"
        "  - {key: TOKEN, default: secretsListSECRET}\n"  # secret through `secrets:` below
        "  - {key: FROM_ENV, secret: true, default: env.API_TOKEN}\n"
        "  - {key: RETRIES, default: '3'}\n"
        "secrets: [TOKEN]\n"
    )
    code, output = _check(tmp_path / "extension.yaml", text, capsys)
    assert code == 1
    assert "defaultSECRETvalue" not in output
    assert "secretsListSECRET" not in output
    assert "  API_KEY secret default=(hidden)" in output
    assert "  TOKEN secret default=(hidden)" in output
    assert "  FROM_ENV secret default='env.API_TOKEN'" in output  # a name, not a value
    assert "  RETRIES default='3'" in output


def test_manifest_check_does_not_echo_a_secret_pasted_as_the_flag(tmp_path: Path, capsys) -> None:
    text = f"id: a\nversion: '1'\nsettings:\n  - {{key: API_KEY, secret: {SECRET}}}\n"
    code, output = _check(tmp_path / "extension.yaml", text, capsys)
    assert code == 1
    assert SECRET not in output
    assert "`settings[0].secret` should be true or false, not a string" in output


# --- the dev banner prints only the dev secret ---------------------------------------------------


def test_dev_secret_source_hides_a_secret_set_in_code() -> None:
    from kiket_sdk._cli._dev import _secret_source

    sdk = KiketSDK(webhook_secret=SECRET, extension_id="com.example.a")
    shown, argument = _secret_source(sdk, {})
    assert SECRET not in shown + argument
    assert shown == "set (in the code or the manifest; not shown)"
    assert _secret_source(sdk, {"KIKET_WEBHOOK_SECRET": SECRET}) == (
        "set (from KIKET_WEBHOOK_SECRET)",
        '"$KIKET_WEBHOOK_SECRET"',
    )
    dev = KiketSDK(webhook_secret=DEV_WEBHOOK_SECRET, extension_id="com.example.a")
    assert _secret_source(dev, {})[1] == DEV_WEBHOOK_SECRET


@pytest.mark.slow
def test_dev_banner_names_the_env_secret_and_its_send_line_works(
    capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIKET_")}
    env |= {"PYTHONUNBUFFERED": "1", "KIKET_WEBHOOK_SECRET": SECRET}
    process = subprocess.Popen(
        [sys.executable, "-m", "kiket_sdk", "dev", "examples.quickstart:sdk", "--port", "0"],
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
        assert _next(lines, "secret", seen).split() == [
            "secret",
            "set",
            "(from",
            "KIKET_WEBHOOK_SECRET)",
        ]
        send_line = _next(lines, "kiket-sdk send issue.created", seen)
        assert '--secret "$KIKET_WEBHOOK_SECRET"' in send_line
        assert all(SECRET not in line for line in seen)
        monkeypatch.setenv("KIKET_WEBHOOK_SECRET", SECRET)
        assert main(shlex.split(os.path.expandvars(send_line))[1:]) == 0  # as a shell would run it
        assert capsys.readouterr().out.startswith("200")
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()  # the reader thread ends with it


# --- send: the path goes before the query; query values are hidden -------------------------------


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_webhook_url_keeps_the_query_after_the_path() -> None:
    assert webhook_url("http://h:1/kiket/?token=X&a=b", "v1", "issue.created") == (
        "http://h:1/kiket/v/v1/webhooks/issue.created?token=X&a=b"
    )
    assert webhook_url("http://h:1", "v2", "issue.created") == (
        "http://h:1/v/v2/webhooks/issue.created"
    )


def test_send_with_a_query_reaches_the_handler(capsys) -> None:
    sdk = KiketSDK(webhook_secret=SECRET, extension_id="com.example.cli")

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: IssueCreated, ctx: object) -> object:
        return allow(message="reached")

    with serve_app(sdk) as url:
        argv = ["send", "issue.created", "--url", f"{url}/?token=QUERYSECRET", "--secret", SECRET]
        assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("200 OK")
    assert "reached" in captured.out


def test_send_network_error_hides_query_values(closed_port: int, capsys) -> None:
    url = f"http://127.0.0.1:{closed_port}/kiket?token=QUERYSECRET"
    assert main(["send", "issue.created", "--url", url, "--secret", SECRET]) == 1
    assert _one_error_line(capsys, "QUERYSECRET", SECRET) == (
        f"kiket-sdk: error: cannot connect to http://127.0.0.1:{closed_port}"
        "/kiket/v/v1/webhooks/issue.created?token=***: connection refused"
    )


def test_send_bad_url_hides_query_values(capsys) -> None:
    argv = ["send", "issue.created", "--url", "localhost:1/?key=QUERYSECRET"]
    assert main(argv) == 2
    line = _one_error_line(capsys, "QUERYSECRET")
    assert line.startswith("kiket-sdk: error: argument --url: must be an http:// or https://")
    assert line.endswith("got 'localhost:1/?key=***'")


# --- every bad option value: exit 2, one line naming the option ----------------------------------

# A value each `type=` function must refuse (keyed by function, so a new option type without an
# entry fails `test_every_typed_option_refuses_a_bad_value`).
BAD_VALUES = {
    arg.port: ["abc", "0", "70000"],
    arg.any_port: ["-1", "x"],
    arg.listen_address: ["http://0.0.0.0", "a b"],
    arg.positive_seconds: ["-1", "0", "nan", "inf", "soon"],
    arg.unix_seconds: ["-3", "1.5"],
    arg.http_url: ["localhost:8000", "ftp://h", "http://h:99999"],
    arg.event_name: ["issue/created", "a?b", ""],
    arg.payload_assignment: ["novalue", "=1", "a..b=1", ".a=1", "a.=1"],
    arg.parent_folder: [__file__],
}
# The smallest valid arguments of each command (a bad option value is added to them).
BASE_ARGV = {
    "run": ["run", "examples.quickstart:sdk"],
    "dev": ["dev", "examples.quickstart:sdk"],
    "send": ["send", "issue.created"],
    "sign": ["sign", "--file", "body.json"],
    "events": ["events"],
    "new": ["new", "x"],
    "manifest check": ["manifest", "check"],
}


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> Iterator[tuple[str, object]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, f"{prefix}{name} ")
    if prefix and not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions):
        yield prefix.strip(), parser


def _typed_options() -> list[tuple[str, str, object, str]]:
    found = []
    for command, parser in _commands(build_parser()):
        assert command in BASE_ARGV, f"no BASE_ARGV for {command!r}"
        for action in parser._actions:  # type: ignore[attr-defined]
            if action.type is None:
                continue
            assert action.type in BAD_VALUES, f"no BAD_VALUES for {action.type}"
            for bad in BAD_VALUES[action.type]:
                found.append(
                    (
                        command,
                        action.option_strings[0] if action.option_strings else action.dest,
                        action,
                        bad,
                    )
                )
    return found


@pytest.mark.parametrize(
    ("command", "option", "action", "bad"),
    _typed_options(),
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_every_typed_option_refuses_a_bad_value(
    command: str, option: str, action: argparse.Action, bad: str, capsys
) -> None:
    argv = list(BASE_ARGV[command])
    if action.option_strings:
        argv += [f"{option}={bad}"]
    else:  # a positional: replace the one in BASE_ARGV
        position = len(command.split())
        argv[position] = bad
    assert main(argv) == 2
    assert _one_error_line(capsys).startswith(f"kiket-sdk: error: argument {option}: ")


def test_set_path_the_payload_cannot_take_is_a_usage_error(capsys) -> None:
    argv = ["send", "issue.created", "--secret", SECRET, "--set", "issue.title.x=1"]
    assert main(argv) == 2
    assert _one_error_line(capsys, SECRET) == (
        "kiket-sdk: error: argument --set: cannot set 'issue.title.x': issue.title is a str, "
        "not an object"
    )


def test_missing_file_names_the_option(tmp_path: Path, capsys) -> None:
    for command in (["send", "issue.created"], ["sign"]):
        argv = [*command, "--secret", SECRET, "--file", str(tmp_path / "none.json")]
        assert main(argv) == 2
        line = _one_error_line(capsys, SECRET)
        assert line.startswith("kiket-sdk: error: argument --file: cannot read ")


def test_missing_argument_is_one_line(capsys) -> None:
    assert main(["send"]) == 2
    assert _one_error_line(capsys) == (
        "kiket-sdk: error: the following arguments are required: event"
    )


def test_readme_manifest_example_checks_clean(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    section = (ROOT / "README.md").read_text().partition("### Manifest")[2]
    example = re.search(r"```yaml\n(.*?)```", section, flags=re.DOTALL)
    assert example is not None
    monkeypatch.setenv("KIKET_WEBHOOK_SECRET", SECRET)
    code, output = _check(tmp_path / "extension.yaml", example.group(1), capsys)
    assert code == 0, output
    assert "delivery secret  delivery_secret: set (from KIKET_WEBHOOK_SECRET)" in output
    assert SECRET not in output
