"""A real Redis for the delivery-store tests.

``redis_url`` (session scope) is, in order:

1. ``KIKET_TEST_REDIS_URL`` when set (``.ci/run`` starts redis-server on loopback and sets it);
2. a redis-server this fixture starts on a free loopback port in a temporary directory (no
   persistence) and stops at the end of the session;
3. otherwise the Redis tests are skipped -- except under CI (``CI`` set), where they fail.

``store`` is parametrised over both stores; each Redis test gets its own key prefix
(``redis_prefix``) whose keys are deleted afterwards.

``redis_server`` starts redis-servers of a test's own (`RedisServer`: own port and directory,
optionally with AOF persistence) that the test may ``kill`` (SIGKILL) and ``start`` again on
the same port and directory; they are stopped after the test. Without ``redis-server`` on PATH
such tests are skipped (under CI: fail).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio

from kiket_sdk._stores import DeliveryStore, MemoryDeliveryStore, RedisDeliveryStore

TEST_REDIS_URL_ENV = "KIKET_TEST_REDIS_URL"
UNAVAILABLE = (
    "redis-server not available: install it (apt-get install redis-server) "
    f"or set {TEST_REDIS_URL_ENV}"
)
STARTUP_SECONDS = 10.0


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"{reason} (CI is set: the Redis tests must run)", pytrace=False)
    pytest.skip(reason)


def _ping_until_ready(url: str, proc: subprocess.Popen[bytes] | None = None) -> str | None:
    """Wait for PING; return None when it answers, else why not."""
    deadline = time.monotonic() + STARTUP_SECONDS
    error: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return f"redis-server exited with status {proc.returncode}"
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            if client.ping():
                return None
        except redis.RedisError as exc:
            error = exc
        finally:
            client.close()
        time.sleep(0.05)
    return f"no PING answer from {url} within {STARTUP_SECONDS:g} s: {error}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_options(port: int, workdir: Path, *, persistent: bool = False) -> list[str]:
    persistence = (
        ("--appendonly", "yes", "--appendfsync", "always")  # every write is on disk first
        if persistent
        else ("--appendonly", "no")
    )
    return [
        *("--port", str(port), "--bind", "127.0.0.1"),
        *("--save", "", *persistence),  # never an RDB snapshot
        *("--dir", str(workdir), "--daemonize", "no"),
    ]


def _start_server(
    binary: str, port: int, workdir: Path, *, persistent: bool = False
) -> tuple[subprocess.Popen[bytes] | None, str]:
    """Start redis-server on ``port``; ``(process, "")`` once it answers, else ``(None, why)``."""
    log = workdir / f"redis-{port}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [binary, *_server_options(port, workdir, persistent=persistent)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    problem = _ping_until_ready(f"redis://127.0.0.1:{port}/0", proc)
    if problem is None:
        return proc, ""
    _stop(proc)
    return None, f"{problem}; log: {log.read_text(errors='replace')[-500:]}"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a running Redis (see the module docs)."""
    url = os.environ.get(TEST_REDIS_URL_ENV, "").strip()
    if url:
        problem = _ping_until_ready(url)
        if problem is not None:
            pytest.fail(f"{TEST_REDIS_URL_ENV}={url}: {problem}", pytrace=False)
        yield url
        return

    binary = shutil.which("redis-server")
    if binary is None:
        _unavailable(UNAVAILABLE)
        return  # unreachable: skip/fail raise
    workdir: Path = tmp_path_factory.mktemp("redis")
    problem = "not started"
    for _attempt in range(3):  # another process may take the "free" port before redis binds it
        port = _free_port()
        proc, problem = _start_server(binary, port, workdir)
        if proc is not None:
            try:
                yield f"redis://127.0.0.1:{port}/0"
            finally:
                _stop(proc)
            return
    _unavailable(f"could not start redis-server: {problem}")


class RedisServer:
    """A redis-server of one test's own: a fixed port and directory across restarts."""

    def __init__(self, binary: str, workdir: Path, *, persistent: bool) -> None:
        self.binary = binary
        self.workdir = workdir
        self.persistent = persistent
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server: on a free port the first time, then on the same port again."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("redis-server is already running")
        problem = "not started"
        for _attempt in range(1 if self.port else 3):
            port = self.port or _free_port()
            proc, problem = _start_server(
                self.binary, port, self.workdir, persistent=self.persistent
            )
            if proc is not None:
                self.port, self.proc = port, proc
                return
        raise RuntimeError(f"could not start redis-server: {problem}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final save (what a crash or an OOM kill does)."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=5)

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Callable[..., RedisServer]]:
    """``redis_server(persistent=False)``: start a `RedisServer` (stopped after the test)."""
    binary = shutil.which("redis-server")
    if binary is None:
        _unavailable(UNAVAILABLE)
        return
    started: list[RedisServer] = []

    def start(*, persistent: bool = False) -> RedisServer:
        workdir = tmp_path / f"redis-{len(started)}"
        workdir.mkdir()
        server = RedisServer(binary, workdir, persistent=persistent)
        started.append(server)
        server.start()
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


async def delete_prefix(url: str, prefix: str) -> None:
    """Delete every key under ``prefix``."""
    client = redis.asyncio.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    prefix = f"kiket-test:{uuid.uuid4().hex}:"
    yield prefix
    await delete_prefix(redis_url, prefix)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[DeliveryStore]:
    """Each store the SDK ships (Redis: a fresh prefix, deleted afterwards)."""
    if request.param == "memory":
        memory = MemoryDeliveryStore()
        yield memory
        await memory.aclose()
        return
    url: str = request.getfixturevalue("redis_url")
    prefix = f"kiket-test:{uuid.uuid4().hex}:"
    shared = RedisDeliveryStore.from_url(url, prefix=prefix)
    try:
        yield shared
    finally:
        await shared.aclose()
        await delete_prefix(url, prefix)
