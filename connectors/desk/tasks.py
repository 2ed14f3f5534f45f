"""The desk's background tasks: kept to be cancelled at shutdown, forgotten once done."""

from __future__ import annotations

import asyncio
from typing import Any, Coroutine, List


class BackgroundTasks:
    """Work the desk runs beside its requests (the monitor, grace periods, socket closes)."""

    def __init__(self) -> None:
        self._tasks: List[asyncio.Task[Any]] = []

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run `work` in the background until it ends or the server stops."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.append(task)
        task.add_done_callback(self._forget)
        return task

    def cancel_all(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()

    def _forget(self, task: asyncio.Task[Any]) -> None:
        if task in self._tasks:
            self._tasks.remove(task)
