"""``kiket-sdk run`` and ``kiket-sdk dev``: serve an extension locally.

``run`` is production-shaped: it imports ``MODULE:ATTRIBUTE`` and hands the ``KiketSDK`` (an
ASGI app) to uvicorn. ``dev`` is the inner development loop: it starts an embedded
``FakeKiket``, points the sdk's outbound API client at it, falls back to
``DEV_WEBHOOK_SECRET`` when no secret is configured, and logs every delivery and every call
to the fake, then prints a ready-to-paste ``kiket-sdk send`` line. It also serves the delivery
inspector (``kiket_sdk._inspector``) under ``/_kiket/inspector/`` and, with ``--seed FILE``,
seeds the fake from a YAML file first. The banner prints the
webhook secret only when it is ``DEV_WEBHOOK_SECRET``; a secret from the user's environment or
manifest is named by its variable (``set (from KIKET_WEBHOOK_SECRET)``), never shown.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import ipaddress
import os
import socket
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kiket_sdk._cli._common import CLIError, out
from kiket_sdk._cli._network import listen_failure

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from kiket_sdk._app import KiketSDK
    from kiket_sdk.testing import FakeKiket, RecordedCall

__all__ = [
    "DEV_WEBHOOK_SECRET",
    "cmd_dev",
    "cmd_run",
    "import_sdk",
    "listen_socket",
    "reachable_from_elsewhere",
]

DEV_WEBHOOK_SECRET = "kiket-dev-secret"  # noqa: S105 - a documented, local-only default
"""The webhook secret ``kiket-sdk dev`` configures when neither the sdk, its manifest nor
``KIKET_WEBHOOK_SECRET`` provide one (local development only; never deploy it)."""


_SHUTDOWN_GRACE_SECONDS = 2
"""How long ``dev`` lets open requests (an inspector page's event stream) finish on Ctrl-C."""


def import_sdk(target: str) -> KiketSDK:
    """Import ``MODULE:ATTRIBUTE`` (dotted attributes allowed) and check it is a ``KiketSDK``.

    The current directory is put on ``sys.path`` first, so ``kiket-sdk run app:sdk`` finds
    ``app.py`` in the project folder just like ``python -c "import app"`` would.
    """
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


def listen_socket(host: str, port: int, what: str = "") -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening (port 0: any free port).

    Bound here rather than by uvicorn so that an address in use is one line naming it
    (``cannot listen on 127.0.0.1:8000: address already in use``, exit code 1) and so the real
    port is known before the server starts; early connections wait in the backlog.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise listen_failure(host, port, exc, what) from None
    return sock


def cmd_run(args: argparse.Namespace) -> int:
    """Serve the extension with uvicorn; ``--reload`` restarts it when the code changes.

    Host: ``--host``, else ``$HOST``, else 127.0.0.1; port: ``--port``, else ``$PORT``, else
    8000 (the rules of ``KiketSDK.run``). A bad value is a ``ConfigurationError`` (exit code 2).
    """
    import uvicorn

    from kiket_sdk._serving import listen_host, listen_port

    host, port = listen_host(args.host), listen_port(args.port)
    if args.reload:
        # uvicorn's reloader re-imports the target by name in a child process, so it gets
        # the string; importing it here first turns a typo into a readable error, and the
        # trial bind an address in use.
        cwd = os.getcwd()
        import_sdk(args.target)
        listen_socket(host, port).close()
        uvicorn.run(args.target, host=host, port=port, reload=True, reload_dirs=[cwd])
        return 0
    sdk = import_sdk(args.target)
    sock = listen_socket(host, port)
    try:
        uvicorn.Server(uvicorn.Config(sdk, host=host, port=port)).run(sockets=[sock])
    finally:
        sock.close()
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
            out(f"<- {scope['method']} {scope['path']} {status[0] or 'failed'}")


def _log_call(call: RecordedCall) -> None:
    """Log one outbound API call the extension made to the fake Kiket."""
    operation = f" ({call.operation_id})" if call.operation_id else ""
    out(f"   -> fake kiket {call.method} {call.path} {call.status}{operation}")


def _secret_source(sdk: KiketSDK, user_environ: Mapping[str, str]) -> tuple[str, str]:
    """How the banner shows the webhook secret, and the ``--secret`` of its ``send`` line.

    Only the public dev secret is printed. A secret from the user's environment or manifest is
    shown as ``set (from NAME)`` and the ``send`` line reads the variable (``"$NAME"``); one set
    in code or written in the manifest is not shown at all.
    """
    from kiket_sdk._manifest import WEBHOOK_SECRET_ENV
    from kiket_sdk._manifest.delivery_secret import delivery_secret_env_names

    secret = sdk.verifier.secrets[0]
    if secret == DEV_WEBHOOK_SECRET:
        return f"{DEV_WEBHOOK_SECRET}  (the local dev default)", DEV_WEBHOOK_SECRET
    names = [WEBHOOK_SECRET_ENV]
    if sdk.manifest is not None and sdk.manifest.delivery_secret_ref:
        names = [*delivery_secret_env_names(sdk.manifest.delivery_secret_ref), *names]
    for name in names:
        if user_environ.get(name) == secret:
            return f"set (from {name})", f'"${name}"'
    return "set (in the code or the manifest; not shown)", '"<webhook secret>"'


def reachable_from_elsewhere(host: str) -> bool:
    """Whether listening on ``host`` lets other machines connect (anything but a loopback
    address or ``localhost``).

    >>> [reachable_from_elsewhere(h) for h in ("127.0.0.1", "::1", "localhost", "0.0.0.0")]
    [False, False, False, True]
    """
    if host.lower() == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return True


def _seed_fake(fake: FakeKiket, path: str) -> None:
    """Seed the fake from ``--seed FILE``; a file that cannot be read or is no seed is a usage
    error naming ``--seed`` (exit code 2)."""
    from kiket_sdk._cli._network import os_reason
    from kiket_sdk._inspector.seeding import load_seed_file

    try:
        counts = load_seed_file(fake, path)
    except OSError as exc:
        raise CLIError(f"argument --seed: cannot read {path}: {os_reason(exc)}") from None
    except ValueError as exc:
        raise CLIError(f"argument --seed: {exc}") from None
    added = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in counts.items())
    out(f"seeded       {added}  (from {path})")


def cmd_dev(args: argparse.Namespace) -> int:
    """Serve the extension against an embedded fake Kiket API, logging all traffic.

    The environment is prepared *before* the target is imported, because the sdk reads
    ``KIKET_BASE_URL`` and ``KIKET_WEBHOOK_SECRET`` when it is constructed. The listening
    socket is bound first (:func:`listen_socket`), so the banner can show the real port (with
    ``--port 0``). Host: ``--host``, else ``$HOST``, else 127.0.0.1.
    """
    import uvicorn

    from kiket_sdk._inspector.api import PREFIX, inspector_app
    from kiket_sdk._inspector.journal import DeliveryJournal
    from kiket_sdk._inspector.routing import InspectorRouting
    from kiket_sdk._serving import listen_host
    from kiket_sdk.testing import FakeKiket

    host = listen_host(args.host)
    fake = FakeKiket(on_call=_log_call)
    with contextlib.ExitStack() as stack:
        try:
            fake_url = stack.enter_context(fake.serve(port=args.fake_port))
        except OSError as exc:
            raise listen_failure("127.0.0.1", args.fake_port, exc, "fake Kiket API") from None
        os.environ["KIKET_BASE_URL"] = fake_url
        user_environ = dict(os.environ)
        os.environ.setdefault("KIKET_WEBHOOK_SECRET", DEV_WEBHOOK_SECRET)
        sdk = import_sdk(args.target)
        # The dev server's own check on the SDK object: was a client made before base_url moved?
        if sdk._async_client is not None or sdk._sync_client is not None:  # pyright: ignore[reportPrivateUsage]
            raise CLIError(
                f"{args.target} created its API client at import; cannot point it at the fake"
            )
        sdk.base_url = fake_url
        if not sdk.verifier.secrets:
            sdk.verifier.secrets = (DEV_WEBHOOK_SECRET,)
        shown_secret, secret_argument = _secret_source(sdk, user_environ)
        if args.seed:
            _seed_fake(fake, args.seed)
        sock = listen_socket(host, args.port)
        shown_host = f"[{host}]" if ":" in host else host
        url = f"http://{shown_host}:{sock.getsockname()[1]}"
        journal = DeliveryJournal()
        sdk.observe(journal)
        handled = [name.rpartition("@") for name in sdk.registered_events]  # "event@version"
        inspector = inspector_app(
            journal,
            fake,
            url,
            sdk.verifier.secrets[0],
            stopping=lambda: server.should_exit,
            registered=[(event, version) for event, _, version in handled],
        )
        out(f"extension   {url}  ({', '.join(sdk.registered_events) or 'no handlers'})")
        out(f"fake kiket   {fake_url}  (outbound API calls go here)")
        out(f"inspector    {url}{PREFIX}/  (deliveries, send, the fake's state)")
        out(f"secret       {shown_secret}")
        if reachable_from_elsewhere(host):
            out(
                f"warning      {host} is reachable from other machines: anyone there can send "
                "signed deliveries and read the fake's secrets (use --host 127.0.0.1)"
            )
        out("try:")
        out(
            f"  kiket-sdk send issue.created --url {url} --secret {secret_argument} "
            f"--api-url {fake_url}"
        )
        app = InspectorRouting(inspector, _DeliveryLog(sdk), journal)
        # The inspector's event stream never ends by itself: without a grace limit an open
        # inspector page would keep Ctrl-C waiting for it forever.
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=_SHUTDOWN_GRACE_SECONDS,
        )
        server = uvicorn.Server(config)
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()
    return 0
