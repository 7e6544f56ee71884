"""Automatic pipelining for `RedisDeliveryStore`: the scripts that concurrent deliveries call in
one turn of the event loop travel to Redis as one pipeline.

Each delivery still makes its own calls and gets its own answer; only the round trips are
shared. With one delivery at a time nothing changes (a lone call is sent as it is); under load
the per-call cost of the client (a pooled connection, a packed command, a read with its
timeout) is paid once per batch instead of once per call. The batch is not a transaction: each
script stays atomic on its own, as it is when sent alone.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ["AutoPipeline"]

MAX_BATCH = 256
"""Calls sent in one pipeline at most; more wait for the next batch."""


@dataclass(slots=True)
class _Call:
    script: AsyncScript
    keys: list[bytes]
    args: list[Any]
    answer: asyncio.Future[Any]


class AutoPipeline:
    """Batches `AutoPipeline.call`s made in the same event-loop turn (see the module docs)."""

    def __init__(self, client: Redis) -> None:
        self._client = client
        self._queue: list[_Call] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sending: set[asyncio.Task[None]] = set()

    async def call(self, script: AsyncScript, keys: list[bytes], args: list[Any]) -> Any:
        """Run ``script`` with ``keys`` and ``args``; returns its answer or raises its error."""
        loop = asyncio.get_running_loop()
        if self._queue and self._loop is not loop:  # another event loop: no sharing across
            return await script(keys=keys, args=args)
        answer: asyncio.Future[Any] = loop.create_future()
        self._queue.append(_Call(script, keys, args, answer))
        if len(self._queue) == 1:
            self._loop = loop
            loop.call_soon(self._flush)
        return await answer

    def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            assert self._loop is not None
            task = self._loop.create_task(self._send(batch))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[_Call]) -> None:
        if len(batch) == 1:
            await _settle_alone(batch[0])
            return
        pipe = self._client.pipeline(transaction=False)
        for call in batch:
            pipe.evalsha(call.script.sha, len(call.keys), *call.keys, *call.args)
        try:
            results = await pipe.execute(raise_on_error=False)
        except BaseException as exc:  # the batch never got its answers: each call fails
            for call in batch:
                if not call.answer.done():
                    call.answer.set_exception(exc if isinstance(exc, Exception) else _gone(exc))
            if not isinstance(exc, Exception):
                raise
            return
        from redis.exceptions import NoScriptError

        for call, result in zip(batch, results, strict=True):
            if isinstance(result, NoScriptError):  # the server forgot the script: load it
                await _settle_alone(call)
            elif call.answer.done():
                continue
            elif isinstance(result, Exception):
                call.answer.set_exception(result)
            else:
                call.answer.set_result(result)


async def _settle_alone(call: _Call) -> None:
    try:
        result = await call.script(keys=call.keys, args=call.args)
    except Exception as exc:
        if not call.answer.done():
            call.answer.set_exception(exc)
        return
    if not call.answer.done():
        call.answer.set_result(result)


def _gone(exc: BaseException) -> Exception:
    return ConnectionError(f"the pipeline was interrupted ({type(exc).__name__})")
