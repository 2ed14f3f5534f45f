"""Live delivery between the desk and its consoles, through a bus replicas can share.

Everything the desk pushes (a customer's message to the agents, a queue change, an
offer) is published on a topic of an `EventBus`; each replica subscribes and hands
the events to the consoles connected to it (`AgentConnections`). With one replica
the bus is in-process (`InProcessBus`); several replicas share one over Redis
pub/sub with the same two calls, and nothing else changes. The state itself (who
has which conversation) lives in the database, so a restart loses no handoff.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Protocol, Set

from bot.desk.records import AgentRecord

logger = logging.getLogger(__name__)

# {"event": {...}, "team": "billing" | None, "agent_id": 3 | None}: to the consoles
# of agents who may see `team` (all when None), or of one agent.
TOPIC_CONSOLES = "desk.consoles"
# Per connection: events waiting to be written before the console counts as stuck.
MAX_PENDING_EVENTS = 1000

Handler = Callable[[Dict[str, Any]], Awaitable[None]]


class EventBus(Protocol):
    async def publish(self, topic: str, payload: Dict[str, Any]) -> None: ...

    def subscribe(self, topic: str, handler: Handler) -> None: ...


class InProcessBus:
    """The bus of a single replica: handlers run in publish order, awaited in turn."""

    def __init__(self) -> None:
        self._handlers: Dict[str, List[Handler]] = defaultdict(list)

    async def publish(self, topic: str, payload: Dict[str, Any]) -> None:
        for handler in self._handlers.get(topic, ()):
            try:
                await handler(payload)
            except Exception:  # one broken subscriber must not starve the others
                logger.exception("desk.bus.handler_failed topic=%s", topic)

    def subscribe(self, topic: str, handler: Handler) -> None:
        self._handlers[topic].append(handler)


@dataclass(eq=False)
class ConsoleConnection:
    """One open console (a WebSocket): its own queue and writer, so a slow one delays no other."""

    agent: AgentRecord
    send: Callable[[str], Awaitable[Any]]
    # The connection id a console names in call requests (docs/calls.md 3.3.3, `hello`).
    id: str = field(default_factory=lambda: secrets.token_hex(16))
    queue: asyncio.Queue[Any] = field(default_factory=lambda: asyncio.Queue(MAX_PENDING_EVENTS))
    writer: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        while True:
            text = await self.queue.get()
            try:
                await self.send(text)
            except Exception:  # the socket closed under us; the reader notices and removes it
                logger.info("desk.console.send_failed agent=%s", self.agent.id)
                return

    def offer(self, text: str) -> bool:
        try:
            self.queue.put_nowait(text)
            return True
        except asyncio.QueueFull:
            logger.warning("desk.console.stuck agent=%s", self.agent.id)
            return False

    def close(self) -> None:
        if self.writer is not None:
            self.writer.cancel()


class AgentConnections:
    """The consoles connected to this replica, and who may see what."""

    def __init__(self) -> None:
        self._by_agent: Dict[int, Set[ConsoleConnection]] = defaultdict(set)

    def add(self, agent: AgentRecord, send: Callable[[str], Awaitable[Any]]) -> ConsoleConnection:
        connection = ConsoleConnection(agent, send)
        connection.start()
        self._by_agent[agent.id].add(connection)
        return connection

    def remove(self, connection: ConsoleConnection) -> bool:
        """Forget a closed console; True when it was the agent's last one here."""
        connection.close()
        connections = self._by_agent.get(connection.agent.id)
        if connections is None:
            return True
        connections.discard(connection)
        if not connections:
            del self._by_agent[connection.agent.id]
            return True
        return False

    def is_connected(self, agent_id: int) -> bool:
        return bool(self._by_agent.get(agent_id))

    def update_agent(self, agent: AgentRecord) -> None:
        """A changed agent (status, teams): what their open consoles may see follows."""
        for connection in self._by_agent.get(agent.id, ()):
            connection.agent = agent

    async def deliver(self, payload: Dict[str, Any]) -> None:
        """A bus payload to every console that should have it (see `TOPIC_CONSOLES`)."""
        text = json.dumps(payload["event"], separators=(",", ":"))
        team = payload.get("team")
        agent_id = payload.get("agent_id")
        if agent_id is not None:
            targets = self._by_agent.get(agent_id, set())
        else:
            targets = {
                connection
                for connections in self._by_agent.values()
                for connection in connections
                if team is None or connection.agent.can_see_team(team)
            }
        for connection in list(targets):
            connection.offer(text)

    def close_all(self) -> None:
        for connections in self._by_agent.values():
            for connection in connections:
                connection.close()
        self._by_agent.clear()
