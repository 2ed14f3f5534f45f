"""The live socket at /desk/api/live: queue changes, messages, typing, offers and call signals.

A console opens it after signing in; the first message names its connection id
(for call requests), then it hears everything the bus publishes for its agent.
It pings every 25 s, the moment to notice a session that ended elsewhere. When an
agent's last console closes, after a grace period the agent is set away and their
conversations go back to the queue.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Dict, Set

from sanic.request import Request

from bot.calls import protocol as calls_protocol
from bot.desk import events
from bot.desk.relay import AgentConnections
from bot.desk.service import DeskError
from bot.desk.sessions import token_hash
from bot.tickets.states import AGENT_AWAY, AGENT_ONLINE
from connectors.desk.agents_api import requeue_agent
from connectors.desk.auth import SessionCheck, same_origin, session_token
from connectors.desk.context import DeskParts, utc_now
from connectors.desk.delivery import DeliveryExecutor
from connectors.desk.errors import http_status
from connectors.desk.tasks import BackgroundTasks

logger = logging.getLogger("connectors.desk")

# The status a socket closed for its session says (as the API would answer).
SESSION_ENDED_STATUS = 401


class LiveSockets:
    """Serves consoles' live sockets and remembers them by session, to close at sign-out.

    Args:
        parts: the desk's use cases (the directory, the calls).
        check: the session check.
        connections: the consoles connected to this replica.
        executor: the executor (a console's calls end when it closes).
        tasks: where grace periods and closes run.
        grace_seconds: how long an agent whose last console closed keeps their chats.
    """

    def __init__(
        self,
        parts: DeskParts,
        check: SessionCheck,
        connections: AgentConnections,
        executor: DeliveryExecutor,
        tasks: BackgroundTasks,
        grace_seconds: float,
    ) -> None:
        self.parts = parts
        self.check = check
        self.connections = connections
        self.executor = executor
        self.tasks = tasks
        self.grace_seconds = grace_seconds
        # The open live sockets of each console session (by token hash): closed at sign-out.
        self._sockets: Dict[str, Set[Any]] = {}

    def close_session(self, token: str, message: str) -> None:
        """Close every live socket of the session of `token`, telling it why."""
        for ws in self._sockets.pop(token_hash(token), set()):
            self.tasks.spawn(close_socket(ws, message))

    async def serve(self, request: Request, ws: Any) -> None:
        origin = request.headers.get("origin")
        if origin is not None and not same_origin(origin, request.headers.get("host")):
            # Another site's page (a sibling subdomain shares the cookie's site) may not listen in.
            logger.warning("desk.live.refused reason=origin")
            await ws.send(json.dumps(events.console_error(403, "This page may not open the desk.")))
            await ws.close()
            return
        try:
            session = await self.check(request)
        except DeskError as error:
            await ws.send(json.dumps(events.console_error(http_status(error), error.message)))
            await ws.close()
            return
        token = session_token(request) or ""
        live_key = token_hash(token)
        self._sockets.setdefault(live_key, set()).add(ws)
        connection = self.connections.add(session.agent, ws.send)
        # First message: the connection id this console names in call requests.
        connection.offer(json.dumps(calls_protocol.hello(connection.id)))
        logger.info("desk.live.connected agent=%s", session.agent.id)
        try:
            while True:
                text = await ws.recv()
                if text is None:
                    break
                try:
                    data = json.loads(text)
                except ValueError:
                    continue
                if isinstance(data, dict) and data.get("type") == events.CONSOLE_PING:
                    # The console pings every 25 s: the moment to notice a session that ended.
                    if not await self.check.still_valid(token):
                        await close_socket(ws, "Your session has expired; sign in again.")
                        break
                    connection.offer(json.dumps(events.pong()))
        except asyncio.CancelledError:
            raise
        except Exception:  # the socket closed: the same as a clean close
            logger.info("desk.live.dropped agent=%s", session.agent.id)
        finally:
            sockets = self._sockets.get(live_key)
            if sockets is not None:
                sockets.discard(ws)
                if not sockets:
                    del self._sockets[live_key]
            # A task, not awaited here: this handler may be cancelled while it closes,
            # and the grace-period logic below must run all the same.
            calls = self.parts.calls
            agent_id = session.agent.id
            self.tasks.spawn(
                self.executor.run_calls(
                    lambda now: calls.console_closed(agent_id, connection.id, now)
                )
            )
            if self.connections.remove(connection):
                self.tasks.spawn(self._agent_gone(agent_id))

    async def _agent_gone(self, agent_id: int) -> None:
        """The agent's last console closed: after the grace period, away and requeued."""
        directory = self.parts.directory
        # Scheduling, not a test sleep: a console that reconnects in time keeps its chats.
        await asyncio.sleep(self.grace_seconds)
        if self.connections.is_connected(agent_id):
            return
        agent = await asyncio.to_thread(directory.agent, agent_id)
        if agent is not None and agent.status == AGENT_ONLINE:
            await asyncio.to_thread(directory.set_status, agent_id, AGENT_AWAY, utc_now())
        await requeue_agent(self.parts, self.executor, agent_id, "agent disconnected")


async def close_socket(ws: Any, message: str) -> None:
    """Tell a live socket why it closes (its session ended), then close it."""
    try:
        await ws.send(json.dumps(events.console_error(SESSION_ENDED_STATUS, message)))
        await ws.close()
    except Exception:  # already closed: nothing left to tell
        logger.debug("desk.live.close_failed")
