"""Real loopback HTTP servers for tests.

``run_asgi_server(app)`` serves any ASGI app (Starlette, FastAPI, ...) with uvicorn on
``127.0.0.1`` in a background thread and yields its base URL:

```python
with run_asgi_server(app) as base_url:
    httpx.get(f"{base_url}/health")
```

The listening socket is bound before uvicorn starts (port 0, chosen by the OS), so there is no
race for a "free" port and the URL is known up front.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import uvicorn

__all__ = ["run_asgi_server"]


class _ThreadedServer(uvicorn.Server):
    """A uvicorn server that records a startup crash instead of printing it from the thread."""

    error: BaseException | None = None

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            super().run(sockets=sockets)
        except BaseException as exc:  # SystemExit included: uvicorn exits on startup errors
            self.error = exc


@contextmanager
def run_asgi_server(
    app: Callable[..., Awaitable[None]],
    *,
    startup_timeout: float = 10.0,
    shutdown_timeout: float = 10.0,
) -> Iterator[str]:
    """Serve ``app`` on a free loopback port for the duration of the ``with`` block.

    Yields ``"http://127.0.0.1:<port>"``. Raises ``RuntimeError`` if the server does not start
    within ``startup_timeout`` seconds (for example when the app's lifespan startup fails) or
    does not stop within ``shutdown_timeout`` seconds.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="auto", access_log=False)
    server = _ThreadedServer(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                reason = repr(server.error) if server.error else "see the log above"
                raise RuntimeError(f"test server on port {port} did not start ({reason})")
            time.sleep(0.005)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(shutdown_timeout)
        if thread.is_alive():  # a client kept a connection open: stop waiting for it
            server.force_exit = True
            thread.join(shutdown_timeout)
        sock.close()
    if thread.is_alive():
        raise RuntimeError(f"test server on port {port} did not shut down")
