"""The ``kiket-sdk`` entry point: argparse wiring and one-line error reporting.

Every sub-command is declared here, next to the others, so ``kiket-sdk --help`` and the
options of each command can be read in one place; each one's ``func`` default points at the
``cmd_*`` function (in its own module) that implements it. ``main`` parses, dispatches and
turns the expected failures (``CLIError``, sdk errors, I/O, bad values, HTTP transport errors)
into ``kiket-sdk: error: <first line>`` on stderr with exit code 1; Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from kiket_sdk._cli._common import CLIError
from kiket_sdk._cli._dev import DEV_WEBHOOK_SECRET, cmd_dev, cmd_run
from kiket_sdk._cli._manifest_check import cmd_manifest_check
from kiket_sdk._cli._scaffold import cmd_new
from kiket_sdk._cli._send import DEFAULT_URL, cmd_events, cmd_send, cmd_sign
from kiket_sdk._exceptions import KiketSDKError

__all__ = ["build_parser", "main"]


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
    run.set_defaults(func=cmd_run)

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
    dev.set_defaults(func=cmd_dev)

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
    send.set_defaults(func=cmd_send)

    sign = sub.add_parser("sign", help="print the signature headers for a body")
    sign.add_argument("--secret", help="webhook secret (default $KIKET_WEBHOOK_SECRET)")
    sign.add_argument("--file", required=True, help="the JSON body to sign")
    sign.add_argument("--timestamp", type=int, default=None, help="unix seconds (default now)")
    sign.set_defaults(func=cmd_sign)

    events = sub.add_parser("events", help="list catalogued events and their payload fields")
    events.set_defaults(func=cmd_events)

    new = sub.add_parser("new", help="scaffold a new extension project")
    new.add_argument("name", help="project (folder) name")
    new.add_argument("--dir", default=".", help="parent folder (default .)")
    new.set_defaults(func=cmd_new)

    manifest = sub.add_parser("manifest", help="manifest tools")
    manifest_sub = manifest.add_subparsers(dest="manifest_command", metavar="ACTION")
    manifest_sub.required = True
    check = manifest_sub.add_parser("check", help="load a manifest like the runtime and report")
    check.add_argument("path", nargs="?", help="manifest file or folder (default: search cwd)")
    check.set_defaults(func=cmd_manifest_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kiket-sdk`` console script; returns the exit code."""
    import httpx

    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `kiket-sdk events | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (CLIError, KiketSDKError, OSError, ValueError, httpx.HTTPError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"kiket-sdk: error: {message}", file=sys.stderr, flush=True)
        return 1
    return code
