"""The wiring of the customer channel: Rasa's `InputChannel`, its blueprint and its parts.

Rasa builds it from credentials.yml (`connectors.webchat.WebchatInput`) and asks it
for a blueprint; the blueprint's registration attaches the socket.io server to the
app. The agent desk then plugs itself in (`observer`, `call_observer`, `blocks`)
and reaches customers through `emit_to_conversation`, `emit_to_socket`,
`end_conversation` and the output channel.
"""

from __future__ import annotations

import os
import time
from typing import Any, Dict, List, Sequence, Set

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint, Sanic
from socketio import AsyncServer

from bot.calls.protocol import CALL_EVENT
from bot.constants import WEBCHAT_CHANNEL
from bot.limits.interface import Clock
from bot.limits.settings import LimitSettings
from bot.proxies import TrustedProxies
from bot.settings import Settings
from connectors.payloads import ButtonPayloads
from connectors.webchat.budgets import ChannelBudgets
from connectors.webchat.calls import CallSignals
from connectors.webchat.conversations import RasaConversations
from connectors.webchat.init_payloads import init_payloads_from_credentials, init_payloads_from_env
from connectors.webchat.intake import MessageIntake, OnNewMessage
from connectors.webchat.observers import BlockCheck, CallObserver, ConversationObserver, Listeners
from connectors.webchat.output import WebchatOutput
from connectors.webchat.protocol import (
    BOT_MESSAGE_EVENT,
    SESSION_REQUEST_EVENT,
    TYPING_EVENT,
    USER_MESSAGE_EVENT,
)
from connectors.webchat.refusals import Refusals
from connectors.webchat.sessions import CustomerSessions
from connectors.webchat.socket_server import create_socket_server
from connectors.webchat.sockets import OpenSockets
from connectors.webchat.widget_routes import add_widget_routes


class WebchatInput(InputChannel):
    """The customer channel: socket.io for the conversation, HTTP for the widget files."""

    @classmethod
    def name(cls) -> str:
        return WEBCHAT_CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        settings = Settings.from_env()
        origins = list(credentials.get("allowed_origins") or []) + list(settings.allowed_origins)
        init_payloads = init_payloads_from_credentials(credentials) + init_payloads_from_env(
            os.environ
        )
        return cls(
            settings=settings,
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            allowed_origins=origins,
            limits=LimitSettings.from_env(os.environ),
            init_payloads=init_payloads,
            proxies=TrustedProxies.from_env(os.environ),
        )

    def __init__(
        self,
        settings: Settings,
        socketio_path: str = "/socket.io",
        allowed_origins: List[str] | None = None,
        limits: LimitSettings | None = None,
        init_payloads: Sequence[str] = (),
        proxies: TrustedProxies | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        """The channel; `limits` default to `LimitSettings()`, `clock` is for tests to advance."""
        self.proxies = proxies or TrustedProxies()
        self.settings = settings
        self.socketio_path = socketio_path
        self.allowed_origins = list(allowed_origins or [])
        self.limits = limits or LimitSettings()
        self.init_payloads = frozenset(
            payload.strip() for payload in init_payloads if payload.strip()
        )
        self.sio: AsyncServer | None = None
        self.listeners = Listeners()
        self.payloads = ButtonPayloads()
        self._sockets = OpenSockets()
        self._conversations = RasaConversations()
        self._budgets = ChannelBudgets(self.limits, clock)
        self._refusals: Refusals | None = None

    # What the desk plugs in when it starts (None: nobody listens, nobody is blocked).
    @property
    def observer(self) -> ConversationObserver | None:
        return self.listeners.observer

    @observer.setter
    def observer(self, observer: ConversationObserver | None) -> None:
        self.listeners.observer = observer

    @property
    def call_observer(self) -> CallObserver | None:
        return self.listeners.call_observer

    @call_observer.setter
    def call_observer(self, observer: CallObserver | None) -> None:
        self.listeners.call_observer = observer

    @property
    def blocks(self) -> BlockCheck | None:
        return self.listeners.blocks

    @blocks.setter
    def blocks(self, blocks: BlockCheck | None) -> None:
        self.listeners.blocks = blocks

    def get_output_channel(self) -> OutputChannel | None:
        """Where messages are pushed outside a request (e.g. agent replies later)."""
        return WebchatOutput(self.sio, self.payloads) if self.sio is not None else None

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The socket.io server and the widget's HTTP routes."""
        sio = create_socket_server(self.allowed_origins, self.limits.webchat_max_packet_bytes)
        self.sio = sio
        refusals = Refusals(sio, self._budgets.refusals)
        self._refusals = refusals
        sessions = CustomerSessions(
            sio,
            self.settings,
            self.proxies,
            self._budgets.sessions,
            refusals,
            self._sockets,
            self.listeners,
            self._conversations,
        )
        intake = MessageIntake(
            sio,
            self.settings,
            self._budgets,
            refusals,
            sessions,
            self.listeners,
            self._conversations,
            self.payloads,
            self.init_payloads,
            self.limits.webchat_queued_messages,
        )
        calls = CallSignals(sio, self._budgets.call_signals, refusals, self.listeners)
        channel = self

        class _WebchatBlueprint(Blueprint):
            def register(self, app: Sanic, options: Dict[str, Any]) -> None:
                channel._conversations.app = app
                sio.attach(app, channel.socketio_path)
                super().register(app, options)

        webchat = _WebchatBlueprint("webchat_webhook", __name__)
        add_widget_routes(webchat, self.settings)

        @sio.on("connect")
        async def connect(sid: str, environ: Dict, auth: Dict | None = None) -> bool:
            return await sessions.connect(sid, environ, auth)

        @sio.on(SESSION_REQUEST_EVENT)
        async def session_request(sid: str, data: Any = None) -> None:
            await sessions.start(sid, data)

        @sio.on(USER_MESSAGE_EVENT)
        async def user_uttered(sid: str, data: Any = None) -> None:
            await intake.user_message(sid, data, on_new_message)

        @sio.on(TYPING_EVENT)
        async def typing(sid: str, data: Any = None) -> None:
            await intake.typing(sid, data)

        @sio.on(CALL_EVENT)
        async def call_signal(sid: str, data: Any = None) -> None:
            await calls.signal(sid, data)

        @sio.on("disconnect")
        async def disconnect(sid: str, *_: Any) -> None:
            await calls.socket_closed(sid, self._sockets.closed(sid))

        return webchat

    # --- what the desk calls ---------------------------------------------------------

    async def emit_to_conversation(
        self, session_id: str, event: str, data: Dict[str, Any], skip_sid: str | None = None
    ) -> None:
        """Send a socket.io event to every widget showing this conversation (but `skip_sid`)."""
        assert self.sio is not None
        if event == BOT_MESSAGE_EVENT:
            # An agent's message is the latest one now: the buttons before it are gone.
            self.payloads.bot_sent(session_id, data)
        await self.sio.emit(event, data, room=session_id, skip_sid=skip_sid)

    async def emit_to_socket(self, sid: str, event: str, data: Dict[str, Any]) -> None:
        """Send a socket.io event to one widget's socket."""
        assert self.sio is not None
        await self.sio.emit(event, data, to=sid)

    def addresses_of(self, session_id: str) -> Set[str]:
        """The addresses of the clients showing a conversation now (for a block by address)."""
        return self._sockets.addresses_of(session_id)

    async def end_conversation(self, session_id: str) -> None:
        """The desk ended and blocked this conversation: its sockets are told, then closed."""
        for sid in self._sockets.showing(session_id):
            assert self._refusals is not None  # a socket means the blueprint was made
            await self._refusals.turn_away(sid)
