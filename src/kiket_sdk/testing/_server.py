"""Serve any ASGI app with a real uvicorn server on loopback, in a background thread.

Used by ``FakeKiket.serve()`` and handy for end-to-end tests of an extension::

    import httpx
    from kiket_sdk.testing import serve_app

    with serve_app(sdk) as base_url:               # e.g. "http://127.0.0.1:54321"
        httpx.get(base_url + "/health").json()

The socket is bound before uvicorn starts (``port=0``: the OS picks a free port), so the URL is
known up front and nothing can take the port in between. Startup is awaited; on exit the server
is asked to stop, then forced if a client keeps a connection open, and its thread is joined.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Generator
from contextlib import contextmanager
from typing import Any, Literal

__all__ = ["serve_app"]


@contextmanager
def serve_app(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    lifespan: Literal["auto", "on", "off"] = "auto",
    startup_timeout: float = 10.0,
    shutdown_timeout: float = 10.0,
) -> Generator[str, None, None]:
    """Run ``app`` until the ``with`` block ends; yields ``http://host:port``.

    Raises ``RuntimeError`` when the server does not start within ``startup_timeout`` seconds
    (for example when the app's lifespan startup fails) or does not stop in time.
    """
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound: int = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan=lifespan, log_level="warning", access_log=False, timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # SystemExit included: uvicorn exits on startup errors
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"uvicorn-{bound}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if failure or not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on {host}:{bound} did not start: {failure!r}")
            time.sleep(0.005)
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(shutdown_timeout)
        if thread.is_alive():  # a client kept a connection open: stop waiting for it
            server.force_exit = True
            thread.join(shutdown_timeout)
        sock.close()
    if thread.is_alive():
        raise RuntimeError(f"server on {host}:{bound} did not shut down")
