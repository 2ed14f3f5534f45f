"""One conversation's work, one piece after the other, in arrival order."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Dict

from bot.limits.memory import MemoryConcurrencyLimit


class SessionOrder:
    """One FIFO lock per conversation: its messages are handled in arrival order.

    python-socketio runs each event in its own task, so two quick messages from
    one customer would otherwise race for Rasa's conversation lock (which polls
    once a second) and could be relayed out of order. Locks of idle
    conversations are dropped. At most `max_waiting` pieces of work wait behind
    the one in progress: each waiting one holds a task and its message.
    """

    def __init__(self, max_waiting: int) -> None:
        self._locks: Dict[str, asyncio.Lock] = {}
        self._users: Dict[str, int] = {}
        self._places = MemoryConcurrencyLimit(max_waiting + 1)

    async def run(
        self, session_id: str, work: Callable[[], Awaitable[Any]], bounded: bool = True
    ) -> bool:
        """Run `work` after the conversation's earlier work; False (not run) when its queue is full.

        Args:
            session_id: The conversation.
            work: What to run in its turn.
            bounded: False for work that must never be refused (a socket's closing).
        """
        if bounded and not await self._places.enter(session_id):
            return False
        lock = self._locks.setdefault(session_id, asyncio.Lock())
        self._users[session_id] = self._users.get(session_id, 0) + 1
        try:
            async with lock:
                await work()
        finally:
            self._users[session_id] -= 1
            if not self._users[session_id]:
                del self._users[session_id]
                del self._locks[session_id]
            if bounded:
                await self._places.leave(session_id)
        return True
