"""`desk`: the agent side, as a channel in the Rasa server (docs/desk.md): the wiring.

It lives in the Rasa Sanic app so it reaches what a handoff needs: the tracker
store (the one transcript: agent messages are written there as bot utterances
whose metadata names the agent), the lock store (an agent's message and a
customer's message to one conversation never interleave their writes), and the
customer's socket (through the `webchat` channel, which it observes).

- HTTP API under /desk/api (JSON, cookie session + CSRF header), the OpenAPI
  description at /desk/api/openapi.json, the console at /desk/;
- a WebSocket at /desk/api/live for queue changes, messages, typing and offers;
- a background loop that offers waiting conversations to agents (the router) and
  notices queue changes made elsewhere (the clock, another replica);
- an agent whose last console closes is set away after a grace period, and their
  conversations go back to the queue with their history;
- video calls and screen shares (docs/calls.md): REST under
  /desk/api/conversations/{id}/calls, signals to consoles as `call_signal`, to
  widgets as `baton_call`; the use cases are `bot.calls.service.CallService`,
  this channel only carries out the deliveries it returns.

This module builds the parts (each in its own module of this package) when the
server starts, and routes each request to its handler. The state (who has which
conversation) is in the database; this process keeps only connections, so a
restart loses nothing but the open sockets.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any, Awaitable, Callable, Dict, Tuple

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.calls.config import CallSettings
from bot.constants import DESK_CHANNEL, WEBCHAT_CHANNEL
from bot.desk import events
from bot.desk.relay import TOPIC_CONSOLES, AgentConnections, EventBus, InProcessBus
from bot.limits.interface import Clock
from bot.limits.settings import LimitSettings
from bot.proxies import TrustedProxies
from bot.settings import Settings
from connectors import http_guard
from connectors.desk.agents_api import AgentsApi
from connectors.desk.assets import add_asset_routes
from connectors.desk.auth import SessionCheck
from connectors.desk.blocks_api import BlocksApi, BlockWatch
from connectors.desk.calls_api import CallsApi
from connectors.desk.context import DeskParts
from connectors.desk.conversations_api import ConversationsApi
from connectors.desk.delivery import DeliveryExecutor, Outlets
from connectors.desk.errors import json_errors
from connectors.desk.live import LiveSockets
from connectors.desk.observer import CustomerObserver
from connectors.desk.queue import QueueWatch
from connectors.desk.tasks import BackgroundTasks
from connectors.desk.tracker import TrackerWriter

logger = logging.getLogger("connectors.desk")

DEFAULT_MONITOR_SECONDS = 1.0

_CONVERSATION = "/api/conversations/<conversation_id:str>"
_CALL = f"{_CONVERSATION}/calls/<call_id:str>"
# Every API route: (path under /desk, method, the part that answers, its handler's name).
ROUTES: Tuple[Tuple[str, str, str, str], ...] = (
    ("/api/login", "POST", "agents", "login"),
    ("/api/logout", "POST", "agents", "logout"),
    ("/api/me", "GET", "agents", "me"),
    ("/api/me/status", "PUT", "agents", "set_status"),
    ("/api/teams", "GET", "agents", "teams"),
    ("/api/queue", "GET", "conversations", "queue"),
    ("/api/agents", "GET", "agents", "agents"),
    ("/api/agents", "POST", "agents", "add_agent"),
    ("/api/metrics", "GET", "agents", "metrics"),
    ("/api/metrics.csv", "GET", "agents", "metrics_csv"),
    (_CONVERSATION, "GET", "conversations", "detail"),
    (f"{_CONVERSATION}/accept", "POST", "conversations", "accept"),
    (f"{_CONVERSATION}/messages", "POST", "conversations", "send_message"),
    (f"{_CONVERSATION}/typing", "POST", "conversations", "agent_typing"),
    (f"{_CONVERSATION}/notes", "POST", "conversations", "add_note"),
    (f"{_CONVERSATION}/transfer", "POST", "conversations", "transfer"),
    (f"{_CONVERSATION}/escalate", "POST", "conversations", "escalate"),
    (f"{_CONVERSATION}/resolve", "POST", "conversations", "resolve"),
    (f"{_CONVERSATION}/return-to-bot", "POST", "conversations", "return_to_bot"),
    (f"{_CONVERSATION}/block", "POST", "blocks", "block"),
    ("/api/blocks", "GET", "blocks", "blocks"),
    ("/api/blocks/<block_id:int>", "DELETE", "blocks", "lift"),
    (f"{_CONVERSATION}/calls", "POST", "calls", "invite"),
    (f"{_CALL}/accept", "POST", "calls", "accept"),
    (f"{_CALL}/decline", "POST", "calls", "decline"),
    (f"{_CALL}/signal", "POST", "calls", "signal"),
    (f"{_CALL}/hangup", "POST", "calls", "hangup"),
)


class DeskInput(InputChannel):
    """The agent desk: API, live socket and console page, inside the Rasa server."""

    @classmethod
    def name(cls) -> str:
        return DESK_CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(
            settings=Settings.from_env(),
            monitor_seconds=float(credentials.get("monitor_seconds", DEFAULT_MONITOR_SECONDS)),
            call_settings=CallSettings.from_env(),
            limits=LimitSettings.from_env(os.environ),
            proxies=TrustedProxies.from_env(os.environ),
        )

    def __init__(
        self,
        settings: Settings,
        monitor_seconds: float = DEFAULT_MONITOR_SECONDS,
        bus: EventBus | None = None,
        call_settings: CallSettings | None = None,
        limits: LimitSettings | None = None,
        proxies: TrustedProxies | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.settings = settings
        self.limits = limits or LimitSettings()
        self.proxies = proxies or TrustedProxies()
        self._clock = clock
        self.call_settings = call_settings or CallSettings()
        self.disconnect_grace_seconds = settings.disconnect_grace_seconds
        self.monitor_seconds = monitor_seconds
        self.bus: EventBus = bus or InProcessBus()
        self.connections = AgentConnections()
        self.check = SessionCheck(self.limits, clock)
        self.tasks = BackgroundTasks()
        self.block_watch = BlockWatch()
        # Built by `start`, when the server starts (nothing is opened before).
        self.parts: DeskParts | None = None
        self.webchat: Any = None
        self.handlers: Dict[str, Any] = {}
        self.live: LiveSockets | None = None

    def url_prefix(self) -> str:
        return "desk"

    # --- wiring ------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        channel = self

        class _DeskBlueprint(Blueprint):
            def register(self, app: Sanic, options: Dict[str, Any]) -> None:
                http_guard.install(app, channel.limits, channel.proxies)
                # Served at /desk (short, and what people type), not /webhooks/desk.
                super().register(app, {**options, "url_prefix": "/desk"})

        desk = _DeskBlueprint("desk", url_prefix="/desk")

        @desk.listener("before_server_start")
        async def start(app: Sanic, _: Any) -> None:
            await channel.start(app)

        @desk.listener("after_server_stop")
        async def stop(app: Sanic, _: Any) -> None:
            await channel.stop()

        add_asset_routes(desk)
        for path, method, part, handler in ROUTES:
            desk.add_route(
                json_errors(self._route(part, handler)),
                path,
                methods=[method],
                name=_route_name(method, path),
            )

        @desk.websocket("/api/live")
        async def live(request: Request, ws: Any) -> None:
            assert channel.live is not None
            await channel.live.serve(request, ws)

        return desk

    def _route(self, part: str, handler: str) -> Callable[..., Awaitable[HTTPResponse]]:
        """The handler `handler` of the part `part`, looked up when a request comes in
        (the parts are built when the server starts, after the routes are registered)."""

        async def route(request: Request, **kwargs: Any) -> HTTPResponse:
            return await getattr(self.handlers[part], handler)(request, **kwargs)

        route.__name__ = handler
        return route

    async def start(self, app: Sanic) -> None:
        """Open the database, find the webchat channel, start the background loop."""
        self.parts = parts = DeskParts.open(
            self.settings, self.call_settings, self.limits, self._clock
        )
        self.check.sessions = parts.sessions
        self.bus.subscribe(TOPIC_CONSOLES, self.connections.deliver)
        for channel in getattr(app.ctx, "input_channels", None) or []:
            if channel.name() == WEBCHAT_CHANNEL:
                self.webchat = channel
        outlets = Outlets(self.bus, self.webchat)
        tracker = TrackerWriter(app, parts.service, outlets)
        queue = QueueWatch(parts, outlets)
        executor = DeliveryExecutor(outlets, parts, tracker, queue)
        self.live = LiveSockets(
            parts, self.check, self.connections, executor, self.tasks, self.disconnect_grace_seconds
        )
        calls = CallsApi(parts, self.check, executor)
        conversations = ConversationsApi(parts, self.check, executor, tracker, queue, calls)
        self.handlers = {
            "agents": AgentsApi(
                parts, self.check, self.proxies, executor, self.connections, self.live
            ),
            "conversations": conversations,
            "blocks": BlocksApi(parts, self.check, executor, conversations, self.block_watch),
            "calls": calls,
        }
        if self.webchat is not None:
            self.webchat.observer = CustomerObserver(parts.service, executor)
            self.webchat.blocks = self.block_watch.is_blocked
            self.webchat.call_observer = calls
        else:
            logger.warning(
                "desk.no_webchat: agents can't reach customers without the webchat channel"
            )
        try:
            await self.block_watch.refresh(parts.blocks)
        except Exception:  # the database is down or not migrated: the monitor tries every tick
            logger.exception("desk.blocks.unavailable")
        self.tasks.spawn(self._monitor(parts, executor, queue))
        logger.info("desk.started calls=%s", self.call_settings.provider or "off")

    async def stop(self) -> None:
        self.tasks.cancel_all()
        self.connections.close_all()
        if self.parts is not None:
            self.parts.close()

    def is_blocked(self, session_id: str | None, address: str | None) -> bool:
        """The webchat channel's check, on every new session and message: no I/O."""
        return self.block_watch.is_blocked(session_id, address)

    async def _monitor(
        self, parts: DeskParts, executor: DeliveryExecutor, queue: QueueWatch
    ) -> None:
        """Offers, re-offers and queue changes made elsewhere (the clock, other replicas)."""
        last_version: Any = None
        while True:
            try:
                await executor.run_calls(parts.calls.expire)
                await queue.offer_waiting()
                # Blocks made on other replicas reach this one's widget.
                await self.block_watch.refresh(parts.blocks)
                version = await asyncio.to_thread(parts.service.queue_version)
                if last_version is not None and version != last_version:
                    await executor.outlets.to_consoles(events.queue_changed())
                    await queue.tell_waiting_customers()
                last_version = version
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is down: try again at the next tick
                logger.exception("desk.monitor.failed")
            await asyncio.sleep(self.monitor_seconds)


def _route_name(method: str, path: str) -> str:
    """A route's unique name: `post_api_conversations_conversation_id_str_accept`."""
    name = path.strip("/").replace("/", "_").replace("<", "").replace(">", "")
    return f"{method.lower()}_{name.replace(':', '_').replace('-', '_')}"
