"""A small thread pool that refuses work beyond a bounded queue.

Password hashing (Argon2, 64 MiB a try) runs here rather than on the default
executor that every tracker read and save uses: a stream of sign-ins can then
slow sign-ins, never customers' chats. Work past `workers + queue` is refused at
once instead of waiting in an unbounded queue.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Callable, TypeVar

Result = TypeVar("Result")


class PoolBusy(Exception):
    """Every worker is busy and the queue is full."""


class BoundedPool:
    """`workers` threads, at most `queue` more calls waiting for one."""

    def __init__(self, workers: int, queue: int, name: str) -> None:
        if workers < 1 or queue < 0:
            raise ValueError("a pool needs at least one worker and a queue of 0 or more")
        self.capacity = workers + queue
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._admitted = 0

    @property
    def admitted(self) -> int:
        """Calls running or waiting now."""
        return self._admitted

    async def run(self, work: Callable[..., Result], *args: Any) -> Result:
        """Run `work(*args)` on a worker thread; `PoolBusy` when the pool is full."""
        if self._admitted >= self.capacity:
            raise PoolBusy()
        self._admitted += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._executor, partial(work, *args)
            )
        finally:
            self._admitted -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
