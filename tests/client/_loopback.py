"""Serve an ASGI app with a real uvicorn server on 127.0.0.1, in a background thread.

```python
with loopback_server(app) as base_url:  # e.g. "http://127.0.0.1:54321"
    httpx.get(base_url + "/ping")
```

The socket is bound (port 0: the kernel picks a free port) before uvicorn starts, so the URL is
known up front and no other process can take the port in between. Startup is awaited, and on exit
the server is asked to stop and its thread joined.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

__all__ = ["loopback_server"]

_STARTUP_TIMEOUT = 10.0
_SHUTDOWN_TIMEOUT = 10.0


@contextmanager
def loopback_server(app: ASGIApp) -> Iterator[str]:
    """Run ``app`` until the ``with`` block ends; yields its base URL (no trailing slash)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported to the test thread below
            failure.append(exc)

    thread = threading.Thread(target=serve, name=f"uvicorn-loopback-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while not server.started:
            if failure or not thread.is_alive():
                raise RuntimeError(f"loopback server did not start: {failure!r}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"loopback server not up after {_STARTUP_TIMEOUT} s")
            time.sleep(0.005)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(_SHUTDOWN_TIMEOUT)
        sock.close()
        if thread.is_alive():
            raise RuntimeError("loopback server did not stop in time")
