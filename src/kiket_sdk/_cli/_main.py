"""The ``kiket-sdk`` entry point: argparse wiring and one-line error reporting.

Every sub-command is declared here, next to the others, so ``kiket-sdk --help`` and the
options of each command can be read in one place; each one's ``func`` default points at the
``cmd_*`` function (in its own module) that implements it. ``main`` parses, dispatches and
turns the expected failures into ``kiket-sdk: error: <first line>`` on stderr, never a
traceback: ``CLIError`` with its own exit code, ``ConfigurationError`` with 2, network and other
sdk or I/O errors with 1 (see ``_common`` for the exit codes); Ctrl-C exits with 130. Every
option value is checked by its argparse ``type=`` (``_arguments``), so a bad one is a usage
error before anything runs: ``kiket-sdk: error: argument --timeout: ...``, exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from kiket_sdk._cli import _arguments as arg
from kiket_sdk._cli._common import (
    EXIT_CODES_HELP,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CLIError,
)
from kiket_sdk._cli._dev import DEV_WEBHOOK_SECRET, cmd_dev, cmd_run
from kiket_sdk._cli._manifest_check import cmd_manifest_check
from kiket_sdk._cli._network import network_failure, os_reason
from kiket_sdk._cli._scaffold import cmd_new
from kiket_sdk._cli._send import DEFAULT_URL, cmd_events, cmd_send, cmd_sign
from kiket_sdk._exceptions import ConfigurationError, KiketSDKError

__all__ = ["build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse's parser, except that a usage error is a ``CLIError`` (exit code 2).

    ``main`` prints it as one line like every other error (``kiket-sdk: error: argument
    --timeout: must be ...``; argparse would print the whole usage first and exit the
    process), and returns 2. ``--help`` still shows the usage. Sub-parsers are of this class.
    """

    def error(self, message: str) -> NoReturn:
        raise CLIError(" ".join(message.split()), EXIT_USAGE)


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, except that the exit-code table keeps its lines."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text == EXIT_CODES_HELP:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


_HOST_HELP = (
    "interface to bind (default $HOST, else 127.0.0.1: this machine only; "
    "in a container, set HOST=0.0.0.0)"
)


def build_parser() -> argparse.ArgumentParser:
    """The ``kiket-sdk`` argument parser."""
    parser = _Parser(
        prog="kiket-sdk",
        description="Run, develop, test and scaffold Kiket extensions.",
        epilog=EXIT_CODES_HELP,
        formatter_class=_HelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser(
        "run",
        help="serve an extension with uvicorn",
        description=(
            "Serve the extension with uvicorn, on --host (default $HOST, else 127.0.0.1: this "
            "machine only) and --port (default $PORT, else 8000), like KiketSDK.run(). In a "
            "container, set HOST=0.0.0.0 (or pass --host 0.0.0.0)."
        ),
        epilog=EXIT_CODES_HELP,
        formatter_class=_HelpFormatter,
    )
    run.add_argument("target", help="MODULE:ATTRIBUTE of the KiketSDK, e.g. app:sdk")
    run.add_argument("--host", type=arg.listen_address, default=None, help=_HOST_HELP)
    run.add_argument(
        "--port", type=arg.port, default=None, help="port, 1-65535 (default $PORT, else 8000)"
    )
    run.add_argument("--reload", action="store_true", help="restart on code changes")
    run.set_defaults(func=cmd_run)

    dev = sub.add_parser(
        "dev",
        help="serve an extension against an embedded fake Kiket API",
        description=(
            "Serve the extension with outbound API calls going to an embedded FakeKiket. "
            "Without a configured webhook secret, the dev secret "
            f"{DEV_WEBHOOK_SECRET!r} is used. Each delivery and each call to the fake is logged; "
            "the delivery inspector is served under /_kiket/inspector/."
        ),
        epilog=EXIT_CODES_HELP,
        formatter_class=_HelpFormatter,
    )
    dev.add_argument("target", help="MODULE:ATTRIBUTE of the KiketSDK, e.g. app:sdk")
    dev.add_argument("--host", type=arg.listen_address, default=None, help=_HOST_HELP)
    dev.add_argument(
        "--port", type=arg.any_port, default=8000, help="extension port (default 8000; 0: any)"
    )
    dev.add_argument(
        "--fake-port", type=arg.any_port, default=0, help="fake API port (default: any)"
    )
    dev.add_argument(
        "--seed",
        metavar="FILE",
        default=None,
        help="YAML or JSON file seeding the fake's records, SLA events and secrets",
    )
    dev.set_defaults(func=cmd_dev)

    send = sub.add_parser(
        "send",
        help="sign and post an event to a running extension",
        description=(
            "Sign and post one event. Exit code 0 when the extension answers 2xx; 1 for another "
            "answer or a network error (the line names the URL); 2 for bad arguments."
        ),
        epilog=EXIT_CODES_HELP,
        formatter_class=_HelpFormatter,
    )
    send.add_argument("event", type=arg.event_name, help="event name, e.g. issue.created")
    send.add_argument(
        "--version", type=arg.event_name, default="v1", help="event version (default v1)"
    )
    source = send.add_mutually_exclusive_group()
    source.add_argument("--file", help="JSON payload to send (default: the spec's example)")
    send.add_argument(
        "--set",
        type=arg.payload_assignment,
        action="append",
        metavar="PATH=VALUE",
        help="set a dotted path in the payload (VALUE is JSON when valid, else a string)",
    )
    send.add_argument(
        "--url",
        type=arg.http_url,
        default=DEFAULT_URL,
        help=f"extension URL; the event path goes before any query (default {DEFAULT_URL})",
    )
    send.add_argument("--secret", help="webhook secret (default $KIKET_WEBHOOK_SECRET)")
    send.add_argument(
        "--api-url", type=arg.http_url, help="set the payload's api.base_url (e.g. a fake Kiket)"
    )
    send.add_argument(
        "--timeout", type=arg.positive_seconds, default=30.0, help="seconds, > 0 (default 30)"
    )
    send.set_defaults(func=cmd_send)

    sign = sub.add_parser("sign", help="print the signature headers for a body")
    sign.add_argument("--secret", help="webhook secret (default $KIKET_WEBHOOK_SECRET)")
    sign.add_argument("--file", required=True, help="the JSON body to sign")
    sign.add_argument(
        "--timestamp", type=arg.unix_seconds, default=None, help="unix seconds (default now)"
    )
    sign.set_defaults(func=cmd_sign)

    events = sub.add_parser("events", help="list catalogued events and their payload fields")
    events.set_defaults(func=cmd_events)

    new = sub.add_parser("new", help="scaffold a new extension project")
    new.add_argument("name", help="project (folder) name")
    new.add_argument("--dir", type=arg.parent_folder, default=".", help="parent folder (default .)")
    new.set_defaults(func=cmd_new)

    manifest = sub.add_parser("manifest", help="manifest tools")
    manifest_sub = manifest.add_subparsers(dest="manifest_command", metavar="ACTION")
    manifest_sub.required = True
    check = manifest_sub.add_parser(
        "check",
        help="load a manifest like the runtime and report",
        description=(
            "Load the manifest like the runtime does and report what it reads, with every "
            "problem (unknown keys, unset env references, odd values). Exit code 0 when there "
            "are no problems, 1 when problems are reported, 2 when the manifest is missing, "
            "unreadable or not valid YAML."
        ),
        epilog=EXIT_CODES_HELP,
        formatter_class=_HelpFormatter,
    )
    check.add_argument("path", nargs="?", help="manifest file or folder (default: search cwd)")
    check.set_defaults(func=cmd_manifest_check)
    return parser


def _report(message: str, exit_code: int) -> int:
    """Print ``kiket-sdk: error: <first line of message>`` on stderr; return ``exit_code``."""
    first = message.splitlines()[0] if message.strip() else "unknown error"
    print(f"kiket-sdk: error: {first}", file=sys.stderr, flush=True)
    return exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kiket-sdk`` console script; returns the exit code.

    0 done, 1 failed (problems, non-2xx answer, network error), 2 usage or configuration
    error (a bad option value included), 130 interrupted. Errors are one line on stderr.
    ``--help`` prints the help and raises ``SystemExit(0)``, as argparse does.
    """
    import httpx

    try:
        args = build_parser().parse_args(argv)
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `kiket-sdk events | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except CLIError as exc:
        return _report(str(exc), exc.exit_code)
    except ConfigurationError as exc:
        return _report(str(exc), EXIT_USAGE)
    except httpx.TransportError as exc:  # a call a command did not wrap: name its URL if known
        try:
            url = str(exc.request.url)
        except RuntimeError:
            return _report(f"network error: {os_reason(exc)}", EXIT_FAILED)
        return _report(str(network_failure(url, exc, None)), EXIT_FAILED)
    except (KiketSDKError, OSError, ValueError, httpx.HTTPError) as exc:
        return _report(str(exc) or type(exc).__name__, EXIT_FAILED)
    return code
