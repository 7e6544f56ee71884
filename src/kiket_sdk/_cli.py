"""``kiket-sdk``: run, develop, test and scaffold Kiket extensions from the command line.

```
kiket-sdk run app:sdk [--host 127.0.0.1] [--port 8000] [--reload]
kiket-sdk dev app:sdk [--port 8000] [--fake-port 0]
kiket-sdk send issue.created [--set issue.title=X] [--url http://127.0.0.1:8000] [--secret S]
kiket-sdk sign --secret S --file body.json
kiket-sdk events
kiket-sdk new my-extension [--dir .]
kiket-sdk manifest check [extension.yaml]
```

Errors are printed as one line on stderr with exit code 1 (no tracebacks).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiket_sdk._exceptions import KiketSDKError

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from kiket_sdk._app import KiketSDK
    from kiket_sdk.testing import RecordedCall

__all__ = ["DEV_WEBHOOK_SECRET", "build_parser", "main"]

DEV_WEBHOOK_SECRET = "kiket-dev-secret"  # noqa: S105 - a documented, local-only default
"""The webhook secret ``kiket-sdk dev`` configures when neither the sdk, its manifest nor
``KIKET_WEBHOOK_SECRET`` provide one (local development only; never deploy it)."""

DEFAULT_URL = "http://127.0.0.1:8000"


class CLIError(Exception):
    """A user-facing error: printed as one line, exit code 1."""


def _out(text: str = "") -> None:
    print(text, flush=True)


# --- helpers ----------------------------------------------------------------------------------


def _import_sdk(target: str) -> KiketSDK:
    from kiket_sdk._app import KiketSDK

    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise CLIError(f"expected MODULE:ATTRIBUTE (e.g. app:sdk), got {target!r}")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise CLIError(f"cannot import {module_name!r}: {exc}") from None
    value: Any = module
    for part in attr.split("."):
        if not hasattr(value, part):
            raise CLIError(f"module {module_name!r} has no attribute {attr!r}")
        value = getattr(value, part)
    if not isinstance(value, KiketSDK):
        raise CLIError(f"{target} is a {type(value).__name__}, not a KiketSDK")
    return value


def _default_port() -> int:
    text = os.environ.get("PORT") or "8000"
    try:
        return int(text)
    except ValueError:
        raise CLIError(f"PORT must be a number, got {text!r}") from None


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _read_json(path: str) -> tuple[bytes, Any]:
    raw = Path(path).read_bytes()
    try:
        return raw, json.loads(raw)
    except ValueError as exc:
        raise CLIError(f"{path} is not valid JSON: {exc}") from None


def _secret(value: str | None) -> str:
    secret = value or os.environ.get("KIKET_WEBHOOK_SECRET")
    if not secret:
        raise CLIError("no webhook secret: pass --secret or set KIKET_WEBHOOK_SECRET")
    return secret


# --- run / dev ------------------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace) -> int:
    import uvicorn

    port = args.port if args.port is not None else _default_port()
    if args.reload:
        cwd = os.getcwd()
        _import_sdk(args.target)  # fail early with a readable error
        uvicorn.run(args.target, host=args.host, port=port, reload=True, reload_dirs=[cwd])
    else:
        uvicorn.run(_import_sdk(args.target), host=args.host, port=port)
    return 0


class _DeliveryLog:
    """ASGI middleware printing one line per request: method, path, status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [0]

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            _out(f"<- {scope['method']} {scope['path']} {status[0] or 'failed'}")


def _log_call(call: RecordedCall) -> None:
    operation = f" ({call.operation_id})" if call.operation_id else ""
    _out(f"   -> fake kiket {call.method} {call.path} {call.status}{operation}")


def _cmd_dev(args: argparse.Namespace) -> int:
    import socket

    import uvicorn

    from kiket_sdk.testing import FakeKiket

    fake = FakeKiket(on_call=_log_call)
    with fake.serve(port=args.fake_port) as fake_url:
        os.environ["KIKET_BASE_URL"] = fake_url
        os.environ.setdefault("KIKET_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET)
        sdk = _import_sdk(args.target)
        if sdk._async_client is not None or sdk._sync_client is not None:
            raise CLIError(
                f"{args.target} created its API client at import; cannot point it at the fake"
            )
        sdk.base_url = fake_url
        if not sdk.verifier.secrets:
            sdk.verifier.secrets = (DEV_WEBHOOK_SECRET,)
        secret = sdk.verifier.secrets[0]
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((args.host, args.port))
            sock.listen(128)  # connections wait in the backlog until uvicorn accepts them
        except OSError as exc:
            sock.close()
            raise CLIError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
        url = f"http://{args.host}:{sock.getsockname()[1]}"
        _out(f"extension   {url}  ({', '.join(sdk.registered_events) or 'no handlers'})")
        _out(f"fake kiket   {fake_url}  (outbound API calls go here)")
        _out(f"secret       {secret}")
        _out("try:")
        _out(f"  kiket-sdk send issue.created --url {url} --secret {secret} --api-url {fake_url}")
        config = uvicorn.Config(_DeliveryLog(sdk), log_level="warning", access_log=False)
        try:
            uvicorn.Server(config).run(sockets=[sock])
        finally:
            sock.close()
    return 0


# --- send / sign / events -------------------------------------------------------------------


def _cmd_send(args: argparse.Namespace) -> int:
    import httpx

    from kiket_sdk.testing import event_payload, set_path, signed_headers

    payload: Any
    if args.file:
        _, payload = _read_json(args.file)
    else:
        payload = event_payload(args.event, args.version)
    for item in args.set or ():
        path, sep, value = item.partition("=")
        if not sep or not path:
            raise CLIError(f"--set expects PATH=VALUE, got {item!r}")
        if not isinstance(payload, dict):
            raise CLIError("--set needs a JSON object payload")
        set_path(payload, path, _parse_value(value))
    if args.api_url:
        if not isinstance(payload, dict):
            raise CLIError("--api-url needs a JSON object payload")
        set_path(payload, "api.base_url", args.api_url)
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    headers = signed_headers(_secret(args.secret), body, version=args.version)
    target = f"{args.url.rstrip('/')}/v/{args.version}/webhooks/{args.event}"
    answer = httpx.post(target, content=body, headers=headers, timeout=args.timeout)
    _out(f"{answer.status_code} {answer.reason_phrase}")
    try:
        _out(json.dumps(answer.json(), indent=2, sort_keys=True))
    except ValueError:
        if answer.text:
            _out(answer.text)
    return 0 if answer.is_success else 1


def _cmd_sign(args: argparse.Namespace) -> int:
    from kiket_sdk._signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, generate_signature

    raw, _ = _read_json(args.file)
    signed = generate_signature(_secret(args.secret), raw, args.timestamp)
    _out(f"{SIGNATURE_HEADER}: {signed['signature']}")
    _out(f"{TIMESTAMP_HEADER}: {signed['timestamp']}")
    return 0


def _cmd_events(args: argparse.Namespace) -> int:
    from kiket_sdk._generated.catalogue import EVENT_PAYLOADS, KNOWN_EVENTS

    for event, versions in sorted(KNOWN_EVENTS.items()):
        for version in versions:
            model = EVENT_PAYLOADS[(event, version)]
            fields = [info.alias or name for name, info in model.model_fields.items()]
            _out(f"{event} {version} ({model.__name__})")
            _out(f"    fields: {', '.join(fields)}")
    return 0


# --- new --------------------------------------------------------------------------------------

_MANIFEST = """\
# Kiket extension manifest (flat layout).
id: {ext_id}
version: "0.1.0"
name: {name}
# Kiket signs each delivery with this secret; the sdk reads it from the environment.
delivery_secret: env.KIKET_WEBHOOK_SECRET
settings:
  - key: GREETING
    default: "Thanks for the report"
  - key: API_KEY
    secret: true
"""

_APP = '''\
"""{name}: a Kiket extension."""

from __future__ import annotations

from pathlib import Path

from kiket_sdk import Allow, HandlerContext, KiketSDK, allow
from kiket_sdk.events import IssueCreated

# Configuration comes from extension.yaml and the environment (KIKET_WEBHOOK_SECRET, ...).
sdk = KiketSDK(manifest_path=Path(__file__).with_name("extension.yaml"))


@sdk.webhook("issue.created", version="v1")
async def on_issue_created(event: IssueCreated, ctx: HandlerContext) -> Allow:
    greeting = ctx.settings.get("GREETING", "Thanks")
    message = f"{{greeting}}: {{event.issue.title}}"
    return allow(message=message, data={{"issue_id": event.issue.id}})
'''

_CONFTEST = """\
import os

# A webhook secret for the tests, set before `app` is imported (the sdk reads it at import).
os.environ.setdefault("KIKET_WEBHOOK_SECRET", "test-secret")
"""

_TEST_APP = """\
from kiket_sdk.testing import deliver_sync, event_payload

from app import sdk


def test_issue_created_is_allowed(kiket_deliver):
    answer = kiket_deliver(sdk, "issue.created", issue__title="Printer on fire")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "allow"
    assert "Printer on fire" in answer.json()["message"]


def test_wrong_signature_is_refused():
    answer = deliver_sync(sdk, "issue.created", event_payload("issue.created"), secret="wrong")
    assert answer.status_code == 401
"""

_PYPROJECT = """\
[project]
name = "{name}"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["kiket-sdk"]

[tool.pytest.ini_options]
pythonpath = ["."]
testpaths = ["tests"]
"""

_DOCKERFILE = """\
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV PORT=8080
EXPOSE 8080
HEALTHCHECK CMD python -c "import urllib.request,os;urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\\"PORT\\",\\"8080\\")}/health')"
CMD kiket-sdk run app:sdk --host 0.0.0.0
"""

_README = """\
# {name}

A Kiket extension built with kiket-sdk.

```bash
pip install -r requirements.txt pytest
pytest                          # run the tests
kiket-sdk dev app:sdk           # local server + fake Kiket API; prints a ready `send` line
kiket-sdk send issue.created --set issue.title="Printer on fire" --secret <secret>
kiket-sdk manifest check        # what the runtime reads from extension.yaml
docker build -t {name} . && docker run -e KIKET_WEBHOOK_SECRET=... -p 8080:8080 {name}
```
"""


def _cmd_new(args: argparse.Namespace) -> int:
    import re

    name = args.name.strip()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", name):
        raise CLIError(f"project name must be letters, digits, - or _ (got {name!r})")
    root = Path(args.dir) / name
    if root.exists() and any(root.iterdir()):
        raise CLIError(f"{root} already exists and is not empty")
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    files = {
        "extension.yaml": _MANIFEST.format(ext_id=f"com.example.{slug}", name=name),
        "app.py": _APP.format(name=name),
        "requirements.txt": "kiket-sdk\n",
        "pyproject.toml": _PYPROJECT.format(name=name),
        "Dockerfile": _DOCKERFILE,
        "README.md": _README.format(name=name),
        "tests/__init__.py": "",
        "tests/conftest.py": _CONFTEST,
        "tests/test_app.py": _TEST_APP,
    }
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    _out(f"created {root}")
    for relative in files:
        _out(f"  {relative}")
    _out(f"next: cd {root} && pytest && kiket-sdk dev app:sdk")
    return 0


# --- manifest ---------------------------------------------------------------------------------


def _cmd_manifest_check(args: argparse.Namespace) -> int:
    from kiket_sdk._manifest import load_manifest

    path = Path(args.path) if args.path else None
    if path is not None and path.is_dir():
        manifest = load_manifest(search_dir=path)
    else:
        manifest = load_manifest(path)
    if manifest is None:
        where = args.path or os.getcwd()
        raise CLIError(f"no manifest found in {where} (extension.yaml, manifest.yaml, ...)")
    _out(f"manifest  {manifest.path}")
    _out(f"id        {manifest.id or '(missing)'}")
    _out(f"version   {manifest.version or '(missing)'}")
    if manifest.delivery_secret_ref:
        state = "set" if manifest.delivery_secret else "not set"
        _out(f"delivery secret  {manifest.delivery_secret_ref} ({state})")
    _out(f"settings  ({len(manifest.settings)})")
    for spec in manifest.settings:
        flag = " secret" if spec.secret else ""
        default = "" if spec.default is None else f" default={spec.default!r}"
        _out(f"  {spec.key}{flag}{default}")
    _out(f"secret keys  {', '.join(manifest.secret_keys) or '(none)'}")
    if manifest.problems:
        _out(f"problems  ({len(manifest.problems)})")
        for problem in manifest.problems:
            _out(f"  - {problem}")
    else:
        _out("problems  none")
    return 0


# --- parser -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The ``kiket-sdk`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="kiket-sdk", description="Run, develop, test and scaffold Kiket extensions."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="serve an extension with uvicorn")
    run.add_argument("target", help="MODULE:ATTRIBUTE of the KiketSDK, e.g. app:sdk")
    run.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=None, help="port (default $PORT, else 8000)")
    run.add_argument("--reload", action="store_true", help="restart on code changes")
    run.set_defaults(func=_cmd_run)

    dev = sub.add_parser(
        "dev",
        help="serve an extension against an embedded fake Kiket API",
        description=(
            "Serve the extension with outbound API calls going to an embedded FakeKiket. "
            "Without a configured webhook secret, the dev secret "
            f"{DEV_WEBHOOK_SECRET!r} is used. Each delivery and each call to the fake is logged."
        ),
    )
    dev.add_argument("target", help="MODULE:ATTRIBUTE of the KiketSDK, e.g. app:sdk")
    dev.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    dev.add_argument("--port", type=int, default=8000, help="extension port (default 8000)")
    dev.add_argument("--fake-port", type=int, default=0, help="fake API port (default: any)")
    dev.set_defaults(func=_cmd_dev)

    send = sub.add_parser("send", help="sign and post an event to a running extension")
    send.add_argument("event", help="event name, e.g. issue.created")
    send.add_argument("--version", default="v1", help="event version (default v1)")
    source = send.add_mutually_exclusive_group()
    source.add_argument("--file", help="JSON payload to send (default: the spec's example)")
    send.add_argument(
        "--set",
        action="append",
        metavar="PATH=VALUE",
        help="set a dotted path in the payload (VALUE is JSON when valid, else a string)",
    )
    send.add_argument("--url", default=DEFAULT_URL, help=f"extension URL (default {DEFAULT_URL})")
    send.add_argument("--secret", help="webhook secret (default $KIKET_WEBHOOK_SECRET)")
    send.add_argument("--api-url", help="set the payload's api.base_url (e.g. a fake Kiket)")
    send.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    send.set_defaults(func=_cmd_send)

    sign = sub.add_parser("sign", help="print the signature headers for a body")
    sign.add_argument("--secret", help="webhook secret (default $KIKET_WEBHOOK_SECRET)")
    sign.add_argument("--file", required=True, help="the JSON body to sign")
    sign.add_argument("--timestamp", type=int, default=None, help="unix seconds (default now)")
    sign.set_defaults(func=_cmd_sign)

    events = sub.add_parser("events", help="list catalogued events and their payload fields")
    events.set_defaults(func=_cmd_events)

    new = sub.add_parser("new", help="scaffold a new extension project")
    new.add_argument("name", help="project (folder) name")
    new.add_argument("--dir", default=".", help="parent folder (default .)")
    new.set_defaults(func=_cmd_new)

    manifest = sub.add_parser("manifest", help="manifest tools")
    manifest_sub = manifest.add_subparsers(dest="manifest_command", metavar="ACTION")
    manifest_sub.required = True
    check = manifest_sub.add_parser("check", help="load a manifest like the runtime and report")
    check.add_argument("path", nargs="?", help="manifest file or folder (default: search cwd)")
    check.set_defaults(func=_cmd_manifest_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kiket-sdk`` console script; returns the exit code."""
    import httpx

    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except (CLIError, KiketSDKError, OSError, ValueError, httpx.HTTPError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"kiket-sdk: error: {message}", file=sys.stderr, flush=True)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
