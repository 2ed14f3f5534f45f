"""The webchat channel on a real Sanic server in this process, with Rasa's in-memory stores.

No model: the turn handler is the test's own (it records the messages Rasa
would get), so limits, rooms, payloads and session ids are tested without the
NLU. The channel, socket.io, engine.io, Sanic and Rasa's stores are the real ones.
"""

from __future__ import annotations

import asyncio
import itertools
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List

import socketio
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from sanic import Sanic

from bot.limits.settings import LimitSettings
from bot.settings import Settings
from connectors.webchat.channel import WebchatInput
from tests.baton_server import free_port
from tests.clocks import ManualClock

JWT_SECRET = "webchat-test-secret-" + "s" * 40
WAIT_SECONDS = 10
_APP_NAMES = itertools.count()
DOMAIN = Domain.from_dict({"intents": ["affirm", "deny", "inform"]})


@dataclass
class ChannelServer:
    """The running channel, what it handed to Rasa, and a way to hold a turn open."""

    url: str
    channel: WebchatInput
    app: Sanic
    clock: ManualClock
    received: asyncio.Queue[UserMessage] = field(default_factory=asyncio.Queue)
    # Cleared by a test to keep turns from finishing (a slow bot), set to let them go.
    turns_may_finish: asyncio.Event = field(default_factory=asyncio.Event)


@asynccontextmanager
async def channel_server(
    limits: LimitSettings | None = None,
    tracker_store: InMemoryTrackerStore | None = None,
    init_payloads: List[str] | None = None,
) -> AsyncIterator[ChannelServer]:
    """Start the channel with a turn handler that records each message and answers nothing."""
    Sanic.test_mode = True
    app = Sanic(f"baton_webchat_test_{next(_APP_NAMES)}")
    clock = ManualClock()
    channel = WebchatInput(
        Settings(jwt_secret=JWT_SECRET),
        limits=limits or LimitSettings(),
        init_payloads=init_payloads or [],
        clock=clock,
    )
    port = free_port()
    server_state = ChannelServer(
        url=f"http://127.0.0.1:{port}", channel=channel, app=app, clock=clock
    )
    server_state.turns_may_finish.set()

    async def on_new_message(message: UserMessage) -> None:
        server_state.received.put_nowait(message)
        await server_state.turns_may_finish.wait()

    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/webchat")
    app.ctx.agent = Agent(
        domain=DOMAIN,
        tracker_store=tracker_store or InMemoryTrackerStore(DOMAIN),
        lock_store=InMemoryLockStore(),
    )
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    try:
        yield server_state
    finally:
        server_state.turns_may_finish.set()
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


class Widget:
    """A socket.io client speaking the widget's protocol, recording what the server sends."""

    def __init__(self, url: str, session_id: str | None = None, token: str | None = None) -> None:
        self.url = url
        self.session_id = session_id
        self.token = token
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.disconnected = asyncio.Event()
        for name in (
            "bot_uttered",
            "baton_error",
            "session_confirm",
            "history",
            "baton_call",
            "baton_status",
        ):
            self.sio.on(name, self._recorder(name))
        self.sio.on("disconnect", self.disconnected.set)

    def _recorder(self, name: str) -> Callable[[Any], Awaitable[None]]:
        async def record(data: Any = None) -> None:
            self.events.put_nowait((name, data))

        return record

    async def connect(self, request_session: bool = True) -> Widget:
        await self.sio.connect(self.url, socketio_path="/socket.io", transports=["websocket"])
        if request_session:
            await self.request_session()
        return self

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()

    async def request_session(self, session_id: Any = "keep") -> str:
        """Send session_request (with the stored id unless another is given); the confirmed id."""
        payload: Dict[str, Any] = {
            "session_id": self.session_id if session_id == "keep" else session_id
        }
        if self.token:
            payload["customData"] = {"token": self.token}
        await self.sio.emit("session_request", payload)
        self.session_id = await self.next("session_confirm")
        await self.next("history")
        return self.session_id

    async def say(self, text: str, token: str | None = None) -> None:
        payload: Dict[str, Any] = {"message": text, "session_id": self.session_id}
        if token:
            payload["customData"] = {"token": token}
        await self.sio.emit("user_uttered", payload)

    async def next(self, name: str | None = None) -> Any:
        """The next event (of that name, skipping none: a different one fails the test)."""
        event, data = await asyncio.wait_for(self.events.get(), WAIT_SECONDS)
        if name is not None:
            assert event == name, f"expected {name}, got {event}: {data!r}"
        return data

    async def marker(self, server: ChannelServer) -> List[tuple[str, Any]]:
        """Everything the server sent this socket before now, in order.

        The server writes a marker event to this socket last; socket.io keeps a
        socket's events in order, so whatever the socket got before it is all
        that was sent before it.
        """
        await server.channel.emit_to_socket(self.sio.get_sid(), "baton_status", {"state": "marker"})
        seen = []
        while True:
            event, data = await asyncio.wait_for(self.events.get(), WAIT_SECONDS)
            if event == "baton_status" and data == {"state": "marker"}:
                return seen
            seen.append((event, data))


@asynccontextmanager
async def widgets(url: str, count: int) -> AsyncIterator[List[Widget]]:
    opened = [Widget(url) for _ in range(count)]
    try:
        yield opened
    finally:
        for widget in opened:
            await widget.close()
