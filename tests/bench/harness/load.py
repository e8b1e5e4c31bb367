"""Load generation: bounded concurrency, open-loop pacing and the client's own loop lag."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from tests.bench.harness.stats import summarize_ms

T = TypeVar("T")


async def bounded(limit: int, jobs: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the jobs with at most ``limit`` at a time; results in order; first error raises."""
    semaphore = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


async def sleep_until(moment: float) -> None:
    """Open-loop pacing: wait for a due time on the ``time.monotonic()`` clock."""
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


class Addresses:
    """Distinct client addresses 10.x.y.z, one per visitor of the run."""

    def __init__(self) -> None:
        self.next = 1

    def take(self) -> str:
        n, self.next = self.next, self.next + 1
        return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


class LoopLag:
    """How late this (client) event loop wakes up: a saturated load generator shows here."""

    def __init__(self, every: float = 0.02) -> None:
        self.every = every
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.samples.clear()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.every)
            self.samples.append(time.monotonic() - before - self.every)

    async def stop(self) -> dict[str, float | int | None]:
        await cancel(self._task)
        return summarize_ms(self.samples)


async def cancel(task: asyncio.Task[None] | None) -> None:
    """Cancel a background task and wait until it has stopped."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def paced(
    begin: float,
    period: float,
    end: float,
    lag: list[float],
    send: Callable[[int, float], Awaitable[None]],
) -> None:
    """Open loop: call ``send(k, due)`` every ``period`` s from a random phase after
    ``begin`` until ``end``, however long each send takes; how late each one went out
    (actual minus due time) is appended to ``lag``."""
    first = begin + random.uniform(0, period)
    k = 0
    while (due := first + k * period) < end:
        await sleep_until(due)
        lag.append(time.monotonic() - due)
        await send(k, due)
        k += 1
