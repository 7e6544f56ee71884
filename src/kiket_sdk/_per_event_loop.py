"""One resource per event loop (a connection pool, a Redis client), closed with its loop.

An async connection pool belongs to the event loop that opened its connections: reused from
another loop it fails with ``RuntimeError: Event loop is closed`` (or hangs). Yet an SDK object
lives longer than any loop in many real programs: ``TestClient(app)`` without ``with`` runs each
request in a fresh loop, ``asyncio.run(...)`` may be called again and again with one client, and
pytest-asyncio gives every test its own loop. `PerEventLoop` gives each running loop its own
resource, shared by everything that runs in that loop, and:

- closes a loop's resource when that loop shuts down through ``asyncio.run`` /
  ``asyncio.Runner`` / ``anyio.run`` (they finalise the loop's async generators first, and each
  resource is tied to its loop by one such generator), so no socket outlives its loop;
- forgets resources of loops closed without that step (their sockets go with the garbage
  collector);
- after `PerEventLoop.aclose`, refuses every use with `ClientClosedError`.

A resource handed in by the user (``given=``, e.g. ``http_client=``) is used from every loop as
it is, never closed here: the caller owns it.

Example::

    import asyncio, httpx
    from kiket_sdk._per_event_loop import PerEventLoop

    pools = PerEventLoop(lambda: httpx.AsyncClient(timeout=5.0), close=lambda p: p.aclose())

    async def main() -> None:
        assert pools.current() is pools.current()  # one pool per loop

    asyncio.run(main())
    asyncio.run(main())  # a new loop gets a new pool; the first was closed with its loop
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from kiket_sdk._exceptions import ClientClosedError

__all__ = ["PerEventLoop"]

T = TypeVar("T")


@dataclass(slots=True, eq=False)
class _LoopEntry(Generic[T]):
    resource: T
    close: Callable[[T], Awaitable[object]]
    loop: asyncio.AbstractEventLoop | None
    # Kept alive here: the loop tracks its async generators only weakly.
    closer: AsyncGenerator[None, None] | None = None
    abandoned: bool = field(default=False)


async def _close_at_loop_shutdown(entry: _LoopEntry[T]) -> AsyncGenerator[None, None]:
    """Suspended for the life of the loop; the loop's ``shutdown_asyncgens()`` resumes it."""
    try:
        yield
    finally:
        if not entry.abandoned:
            await entry.close(entry.resource)


def _finish_without_loop(entry: _LoopEntry[T]) -> None:
    """End ``entry``'s generator without awaiting anything (its loop is gone)."""
    entry.abandoned = True
    closer, entry.closer = entry.closer, None
    if closer is None:
        return
    step = closer.aclose()
    try:
        step.send(None)
    except StopIteration:
        pass
    except RuntimeError:  # the generator was already running or finished
        step.close()


class PerEventLoop(Generic[T]):
    """One ``T`` per running event loop, made by ``factory`` and closed by ``close`` (see the
    module docs). ``given``: one resource to use from every loop instead (never closed here);
    ``is_closed``: tells whether a given resource was closed by its owner; ``name``: the owner's
    name, for the `ClientClosedError` message."""

    def __init__(
        self,
        factory: Callable[[], T],
        *,
        close: Callable[[T], Awaitable[object]],
        given: T | None = None,
        is_closed: Callable[[T], bool] = lambda _: False,
        name: str = "client",
    ) -> None:
        self._factory = factory
        self._close = close
        self._given = given
        self._given_is_closed = is_closed
        self._name = name
        self._by_loop: dict[asyncio.AbstractEventLoop | None, _LoopEntry[T]] = {}
        self._lock = threading.Lock()
        self.closed = False

    @property
    def owned(self) -> bool:
        """Whether the resources are made (and closed) here rather than handed in."""
        return self._given is None

    def current(self) -> T:
        """The resource of the running event loop (made on first use in that loop).

        Raises `ClientClosedError` after `aclose` (or when a given resource was closed).
        """
        if self.closed or (self._given is not None and self._given_is_closed(self._given)):
            raise ClientClosedError(
                f"this {self._name} was closed (aclose() or the end of 'async with'); "
                "create a new client"
            )
        if self._given is not None:
            return self._given
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # building a request outside a loop: no connection is opened
            loop = None
        entry = self._by_loop.get(loop)
        if entry is not None:
            return entry.resource
        return self._open(loop)

    def _open(self, loop: asyncio.AbstractEventLoop | None) -> T:
        with self._lock:
            for other, stale in list(self._by_loop.items()):
                if other is not None and other.is_closed():
                    del self._by_loop[other]
                    _finish_without_loop(stale)
            entry = self._by_loop.get(loop)
            if entry is None:
                entry = _LoopEntry(self._factory(), self._close, loop)
                if loop is not None:
                    entry.closer = _close_at_loop_shutdown(entry)
                    step = entry.closer.asend(None)  # registers it with the running loop
                    with contextlib.suppress(StopIteration):
                        step.send(None)
                self._by_loop[loop] = entry
            return entry.resource

    async def aclose(self) -> None:
        """Close every resource made here and refuse further use.

        The running loop's resource is closed before returning; one of another, still running
        loop is closed in that loop (not waited for); those of closed loops are forgotten.
        """
        self.closed = True
        with self._lock:
            entries, self._by_loop = list(self._by_loop.values()), {}
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for entry in entries:
            closer = entry.closer
            if entry.loop is running and closer is not None:
                entry.closer = None
                await closer.aclose()
            elif entry.loop is not None and closer is not None and entry.loop.is_running():
                entry.closer = None
                asyncio.run_coroutine_threadsafe(_aclose_generator(closer), entry.loop)
            elif entry.loop is None:
                await entry.close(
                    entry.resource
                )  # never connected: closing needs no loop of its own
            else:
                _finish_without_loop(entry)


async def _aclose_generator(closer: AsyncGenerator[None, None]) -> None:
    await closer.aclose()
