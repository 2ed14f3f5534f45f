"""`webchat`: Baton's customer channel, speaking the protocol of Rasa's socketio channel.

Existing Rasa web widgets work against it unchanged (`session_request` /
`session_confirm` / `user_uttered` / `bot_uttered`). What it adds:

- sessions always persist, and the socket joins its session's room with an
  awaited `enter_room` (Rasa's own channel drops replies there, RasaHQ/rasa#13027);
- the customer's identity comes from a signed token the host website passes in
  `session_request` (`customData.token`) or the socket.io `auth`; the channel
  verifies it and attaches it to every message, and the action server checks it
  again, so nothing a customer types can claim an identity;
- after `session_confirm` it sends `history`, the transcript of the session from
  the tracker store, so a reloaded page shows the conversation;
- bad input (empty, too long, malformed) is refused with a clear message and logged;
- each user message gets a server-issued id (kept in the tracker), and one
  conversation's messages are handled one after the other, in arrival order;
- an observer (the agent desk) hears about every customer message and typing
  signal, so a conversation handed to a person reaches that person;
- `baton_call` signals (video calls, docs/calls.md) go, in arrival order per
  session, to a second observer (the desk's `CallObserver`); the channel never
  reads a call signal itself, it only checks that the socket has a session;
- it serves the widget script and, in demo mode, the demo page.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Awaitable, Callable, Dict, List, Protocol

import engineio
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOOutput
from rasa.shared.core.trackers import EventVerbosity
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot import identity
from bot.accounts.demo_data import DEMO_CUSTOMERS
from bot.calls.protocol import CALL_EVENT
from bot.calls.protocol import error as call_error
from bot.constants import (
    INTENT_HANDOFF_RESOLVED,
    INTENT_HANDOFF_RETURNED,
    METADATA_CHANNEL,
    METADATA_CUSTOMER_ID,
    METADATA_CUSTOMER_TOKEN,
    WEBCHAT_CHANNEL,
)
from bot.settings import Settings
from bot.transcript import conversation_owner, visible_messages

logger = logging.getLogger(__name__)

USER_MESSAGE_EVENT = "user_uttered"
BOT_MESSAGE_EVENT = "bot_uttered"
SESSION_REQUEST_EVENT = "session_request"
SESSION_CONFIRM_EVENT = "session_confirm"
HISTORY_EVENT = "history"
ERROR_EVENT = "baton_error"
TYPING_EVENT = "baton_typing"
STATUS_EVENT = "baton_status"

NOTICE_MESSAGE_TOO_LONG = "message_too_long"
NOTICE_INTERNAL_ERROR = "internal_error"
ERROR_MALFORMED_PAYLOAD = "malformed_payload"
ERROR_NO_SESSION = "no_session"

WEB_ASSETS = Path(__file__).resolve().parent.parent / "bot" / "web"
# Only these files are served, whatever path a request names.
PUBLIC_ASSETS = {
    "widget.js": "application/javascript",
    "widget.css": "text/css",
    "vendor/socket.io.min.js": "application/javascript",
}
# Intents only the agent desk may trigger: typed as a `/intent` payload they would
# let a customer close their own handoff.
DESK_ONLY_INTENTS = (INTENT_HANDOFF_RESOLVED, INTENT_HANDOFF_RETURNED)
DESK_ONLY_PAYLOAD = re.compile(rf"^/({'|'.join(DESK_ONLY_INTENTS)})(?![\w-])")
# How often a read waits for a conversation's lock (Rasa's default, a second, is a chat's eternity).
LOCK_POLL_SECONDS = 0.01
# Session ids are server-issued uuid4 hex strings; anything else starts afresh.
SESSION_ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")


class ConversationObserver(Protocol):
    """Told about customer activity; the agent desk relays it to the person handling it."""

    async def before_customer_message(
        self, session_id: str, message_id: str, text: str, at: float
    ) -> None:
        """A message is about to be handled (logged, parsed, answered unless paused)."""

    async def after_customer_message(self, session_id: str, message_id: str) -> None:
        """The message is in the tracker and the bot's turn, if any, is over."""

    async def customer_typing(self, session_id: str, typing: bool) -> None:
        """The customer started or stopped typing."""


class CallObserver(Protocol):
    """Told about call signals and the sockets calls are bound to (docs/calls.md 1.2)."""

    async def customer_call_signal(self, session_id: str, sid: str, data: Dict[str, Any]) -> None:
        """A `baton_call` payload from a socket with a confirmed session."""

    async def customer_socket_closed(self, session_id: str, sid: str) -> None:
        """A socket that had a session disconnected."""

    async def customer_session_started(self, session_id: str, sid: str) -> None:
        """A socket's session was confirmed and its history sent."""


class _SessionOrder:
    """One FIFO lock per conversation: its messages are handled in arrival order.

    python-socketio runs each event in its own task, so two quick messages from
    one customer would otherwise race for Rasa's conversation lock (which polls
    once a second) and could be relayed out of order. Locks of idle
    conversations are dropped.
    """

    def __init__(self) -> None:
        self._locks: Dict[str, asyncio.Lock] = {}
        self._users: Dict[str, int] = {}

    async def run(self, session_id: str, work: Callable[[], Awaitable[Any]]) -> None:
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


class _OwnAndAllowedOriginsEngineIO(engineio.AsyncServer):
    """engine.io accepting pages of the server's own origin plus the configured ones.

    engine.io's own choice is either same-origin only or a fixed list, in which
    an operator would have to repeat the server's public address.
    """

    def _cors_allowed_origins(self, environ: Dict[str, Any]) -> List[str]:
        own = engineio.AsyncServer._cors_allowed_origins(
            SimpleNamespace(cors_allowed_origins=None), environ
        )
        return [*own, *self.cors_allowed_origins]


class _WebchatSocketServer(AsyncServer):
    def _engineio_server_class(self) -> type:
        return _OwnAndAllowedOriginsEngineIO


class WebchatOutput(SocketIOOutput):
    """Sends bot messages to every socket in the conversation's room."""

    @classmethod
    def name(cls) -> str:
        return WEBCHAT_CHANNEL

    def __init__(self, sio: AsyncServer) -> None:
        super().__init__(sio, BOT_MESSAGE_EVENT)

    async def send_custom_json(
        self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any
    ) -> None:
        # Rasa's socketio output spreads the dict into `emit` keyword arguments;
        # we send it as the message, as the widget expects.
        await self._send_message(recipient_id, json_message)


class WebchatInput(InputChannel):
    """The customer channel: socket.io for the conversation, HTTP for the widget files."""

    @classmethod
    def name(cls) -> str:
        return WEBCHAT_CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        settings = Settings.from_env()
        origins = list(credentials.get("allowed_origins") or []) + list(
            settings.allowed_origins
        )
        return cls(
            settings=settings,
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            allowed_origins=origins,
        )

    def __init__(
        self,
        settings: Settings,
        socketio_path: str = "/socket.io",
        allowed_origins: List[str] | None = None,
    ) -> None:
        self.settings = settings
        self.socketio_path = socketio_path
        self.allowed_origins = list(allowed_origins or [])
        self.sio: AsyncServer | None = None
        self._app: Sanic | None = None
        self.observer: ConversationObserver | None = None
        self.call_observer: CallObserver | None = None
        self._order = _SessionOrder()
        # Call signals queue apart from messages: a parse in progress never delays a candidate.
        self._call_order = _SessionOrder()
        # sid -> session id of every socket with a confirmed session (for `disconnect`).
        self._session_of_sid: Dict[str, str] = {}

    def get_output_channel(self) -> OutputChannel | None:
        """Where messages are pushed outside a request (e.g. agent replies later)."""
        return WebchatOutput(self.sio) if self.sio is not None else None

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """The socket.io server and the widget's HTTP routes."""
        # The server's own origin plus the configured ones; never "*". A tuple,
        # because engine.io reads an empty *list* as "CORS checks off".
        sio = _WebchatSocketServer(
            async_mode="sanic",
            cors_allowed_origins=tuple(self.allowed_origins),
        )
        self.sio = sio
        channel = self

        class _WebchatBlueprint(Blueprint):
            def register(self, app: Sanic, options: Dict[str, Any]) -> None:
                channel._app = app
                sio.attach(app, channel.socketio_path)
                super().register(app, options)

        webchat = _WebchatBlueprint("webchat_webhook", __name__)

        @webchat.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webchat.route("/<asset:path>", methods=["GET"])
        async def asset(request: Request, asset: str) -> HTTPResponse:
            if not asset:  # "/webhooks/webchat/" also matches the path route
                return await health(request)
            return await self._serve_asset(asset)

        @webchat.route("/demo", methods=["GET"])
        async def demo_page(_: Request) -> HTTPResponse:
            if not self.settings.demo_enabled:
                return _json_error(404, "The demo page is off (set BATON_DEMO=1).")
            return await response.file(
                WEB_ASSETS / "demo.html", mime_type="text/html; charset=utf-8"
            )

        @webchat.route("/demo/token", methods=["GET"])
        async def demo_token(request: Request) -> HTTPResponse:
            return self._demo_token(request.args.get("customer", ""))

        @sio.on("connect")
        async def connect(sid: str, environ: Dict, auth: Dict | None = None) -> bool:
            token = auth.get("token") if isinstance(auth, dict) else None
            await sio.save_session(sid, {"auth_token": token})
            return True

        @sio.on(SESSION_REQUEST_EVENT)
        async def session_request(sid: str, data: Any = None) -> None:
            await self._start_session(sid, data)

        @sio.on(USER_MESSAGE_EVENT)
        async def user_uttered(sid: str, data: Any = None) -> None:
            await self._handle_user_message(sid, data, on_new_message)

        @sio.on(TYPING_EVENT)
        async def typing(sid: str, data: Any = None) -> None:
            await self._handle_typing(sid, data)

        @sio.on(CALL_EVENT)
        async def call_signal(sid: str, data: Any = None) -> None:
            await self._handle_call_signal(sid, data)

        @sio.on("disconnect")
        async def disconnect(sid: str, *_: Any) -> None:
            await self._socket_closed(sid)

        return webchat

    # --- socket.io handlers ------------------------------------------------------

    async def _start_session(self, sid: str, data: Any) -> None:
        assert self.sio is not None
        if data is not None and not isinstance(data, dict):
            await self._reject(sid, ERROR_MALFORMED_PAYLOAD, "session_request must be an object")
            return
        data = data or {}
        state = await self.sio.get_session(sid)
        token = _token_from(data) or state.get("auth_token")
        customer = identity.customer_from_token(token, self.settings.jwt_secret)
        if token and customer is None:
            logger.info("webchat.identity.rejected sid=%s", sid)

        requested = data.get("session_id")
        session_id = requested if _is_session_id(requested) else uuid.uuid4().hex
        events: List[Dict[str, Any]] = []
        if session_id == requested:
            try:
                events = await self._session_events(session_id)
            except Exception:  # the tracker store is down: its owner can't be checked
                logger.exception("webchat.session.history_failed sid=%s", sid)
                session_id = uuid.uuid4().hex
        owner = conversation_owner(events)
        if owner and (customer is None or customer.customer_id != owner):
            # Another customer's conversation (a shared computer after logout):
            # never show it; start a new one.
            logger.info("webchat.session.owner_mismatch sid=%s", sid)
            session_id, events = uuid.uuid4().hex, []

        previous = state.get("session_id")
        if previous and previous != session_id:
            await _maybe_await(self.sio.leave_room(sid, previous))
        await _maybe_await(self.sio.enter_room(sid, session_id))
        state.update(
            session_id=session_id,
            token=token if customer else None,
            customer_id=customer.customer_id if customer else None,
        )
        await self.sio.save_session(sid, state)
        await self.sio.emit(SESSION_CONFIRM_EVENT, session_id, room=sid)
        await self.sio.emit(
            HISTORY_EVENT, {"messages": visible_messages(events)}, room=sid
        )
        self._session_of_sid[sid] = session_id
        if self.call_observer is not None:
            try:
                await self.call_observer.customer_session_started(session_id, sid)
            except Exception:  # calls failing must not break the chat
                logger.exception("webchat.call_observer.failed session=%s", session_id[:8])

    async def _handle_user_message(
        self,
        sid: str,
        data: Any,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        received = time.time()  # the relay's latency (bot.metrics.prometheus) counts from here
        assert self.sio is not None
        if not isinstance(data, dict) or not isinstance(data.get("message"), str):
            await self._reject(sid, ERROR_MALFORMED_PAYLOAD, "user_uttered needs a text 'message'")
            return
        state = await self.sio.get_session(sid)
        session_id = state.get("session_id")
        if not session_id:
            await self._reject(sid, ERROR_NO_SESSION, "send session_request first")
            return
        claimed = data.get("session_id")
        if claimed is not None and claimed != session_id:
            await self._reject(sid, ERROR_MALFORMED_PAYLOAD, "session_id does not match this socket's session")
            return

        text = data["message"].strip()
        if not text:
            return
        if DESK_ONLY_PAYLOAD.match(text):
            await self._reject(sid, ERROR_MALFORMED_PAYLOAD, "that intent is reserved for the agent desk")
            return
        limit = self.settings.max_message_length
        if len(text) > limit:
            await self.sio.emit(
                BOT_MESSAGE_EVENT,
                {
                    "text": f"Sorry, that message is too long for me ({len(text)} characters). "
                    f"Please keep it under {limit} characters, or split it into parts.",
                    "baton": {"notice": NOTICE_MESSAGE_TOO_LONG},
                },
                room=sid,
            )
            return

        await self._adopt_token_from_message(sid, state, data)
        metadata: Dict[str, Any] = {METADATA_CHANNEL: WEBCHAT_CHANNEL}
        if state.get("customer_id"):
            metadata[METADATA_CUSTOMER_ID] = state["customer_id"]
            metadata[METADATA_CUSTOMER_TOKEN] = state["token"]
        message = UserMessage(
            text,
            WebchatOutput(self.sio),
            session_id,
            input_channel=WEBCHAT_CHANNEL,
            message_id=uuid.uuid4().hex,
            metadata=metadata,
        )
        await self._order.run(session_id, lambda: self._process(sid, message, on_new_message, received))

    async def _process(
        self,
        sid: str,
        message: UserMessage,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        received: float,
    ) -> None:
        assert self.sio is not None
        session_id = message.sender_id
        observer = self.observer
        if observer is not None:
            try:
                await observer.before_customer_message(
                    session_id, message.message_id, message.text, received
                )
            except Exception:  # the desk being down must not silence the bot
                logger.exception("webchat.observer.failed session=%s", session_id)
        try:
            await on_new_message(message)
        except Exception:  # a failing turn must not take the socket down
            logger.exception("webchat.message.failed session=%s", session_id)
            await self.sio.emit(
                BOT_MESSAGE_EVENT,
                {
                    "text": "Sorry, something went wrong on our side. Please try again, "
                    "or say \"agent\" to reach our team.",
                    "baton": {"notice": NOTICE_INTERNAL_ERROR},
                },
                room=sid,
            )
        if observer is not None:
            try:
                await observer.after_customer_message(session_id, message.message_id)
            except Exception:
                logger.exception("webchat.observer.failed session=%s", session_id)

    async def _handle_typing(self, sid: str, data: Any) -> None:
        assert self.sio is not None
        if not isinstance(data, dict) or not isinstance(data.get("typing"), bool):
            await self._reject(sid, ERROR_MALFORMED_PAYLOAD, "baton_typing needs a boolean 'typing'")
            return
        session_id = (await self.sio.get_session(sid)).get("session_id")
        if not session_id or self.observer is None:
            return
        try:
            await self.observer.customer_typing(session_id, data["typing"])
        except Exception:
            logger.exception("webchat.observer.failed session=%s", session_id)

    async def _handle_call_signal(self, sid: str, data: Any) -> None:
        assert self.sio is not None
        if not isinstance(data, dict):
            await self._reject_call(sid, None, "malformed_payload", "baton_call needs an object with a 'type'")
            return
        session_id = (await self.sio.get_session(sid)).get("session_id")
        if not session_id:
            kind = data.get("type") if isinstance(data.get("type"), str) else None
            logger.warning(
                "calls.rejected side=customer code=no_session reason=no_session type=%s call=- "
                "conversation=- sid=%s…", (kind or "-")[:16], sid[:8],
            )
            await self._reject_call(sid, kind, "no_session", "send session_request first")
            return
        observer = self.call_observer
        if observer is None:
            await self._reject_call(sid, None, "calls_disabled", "calls are not available here")
            return

        async def deliver() -> None:
            try:
                await observer.customer_call_signal(session_id, sid, data)
            except Exception:  # a failing call must not take the socket down
                logger.exception("webchat.call_observer.failed session=%s", session_id[:8])

        await self._call_order.run(session_id, deliver)

    async def _reject_call(self, sid: str, kind: str | None, code: str, message: str) -> None:
        assert self.sio is not None
        await self.sio.emit(CALL_EVENT, call_error(code, message, None, kind), room=sid)

    async def _socket_closed(self, sid: str) -> None:
        session_id = self._session_of_sid.pop(sid, None)
        if session_id is None or self.call_observer is None:
            return
        observer = self.call_observer

        async def closed() -> None:
            try:
                await observer.customer_socket_closed(session_id, sid)
            except Exception:
                logger.exception("webchat.call_observer.failed session=%s", session_id[:8])

        await self._call_order.run(session_id, closed)

    async def emit_to_conversation(
        self, session_id: str, event: str, data: Dict[str, Any], skip_sid: str | None = None
    ) -> None:
        """Send a socket.io event to every widget showing this conversation (but `skip_sid`)."""
        assert self.sio is not None
        await self.sio.emit(event, data, room=session_id, skip_sid=skip_sid)

    async def emit_to_socket(self, sid: str, event: str, data: Dict[str, Any]) -> None:
        """Send a socket.io event to one widget's socket."""
        assert self.sio is not None
        await self.sio.emit(event, data, to=sid)

    async def _adopt_token_from_message(
        self, sid: str, state: Dict[str, Any], data: Dict[str, Any]
    ) -> None:
        """Accept a token sent with a message, as Rasa widgets send `customData`.

        Only a guest session can be upgraded, and only by a token that verifies.
        """
        if state.get("customer_id"):
            return
        token = _token_from(data)
        customer = identity.customer_from_token(token, self.settings.jwt_secret)
        if customer is None:
            return
        try:
            owner = conversation_owner(await self._session_events(state["session_id"]))
        except Exception:  # the tracker store is down: stay a guest rather than guess
            logger.exception("webchat.identity.owner_check_failed sid=%s", sid)
            return
        if owner and owner != customer.customer_id:
            return
        state.update(token=token, customer_id=customer.customer_id)
        await self.sio.save_session(sid, state)  # type: ignore[union-attr]

    async def _reject(self, sid: str, code: str, message: str) -> None:
        logger.warning("webchat.payload.rejected sid=%s code=%s reason=%s", sid, code, message)
        await self.sio.emit(ERROR_EVENT, {"code": code, "message": message}, room=sid)  # type: ignore[union-attr]

    async def _session_events(self, session_id: str) -> List[Dict[str, Any]]:
        agent = getattr(self._app.ctx, "agent", None) if self._app else None
        if agent is None or agent.tracker_store is None:
            return []
        # Under the conversation's lock: a turn's replies go out before the turn
        # is saved, and a page reloaded in between must not miss that turn.
        async with agent.lock_store.lock(session_id, wait_time_in_seconds=LOCK_POLL_SECONDS):
            tracker = await agent.tracker_store.retrieve(session_id)
        if tracker is None:
            return []
        return tracker.current_state(EventVerbosity.ALL).get("events") or []

    # --- HTTP ----------------------------------------------------------------------

    async def _serve_asset(self, asset: str) -> HTTPResponse:
        mime_type = PUBLIC_ASSETS.get(asset)
        if mime_type is None:
            return _json_error(404, f"No such file: {asset}")
        return await response.file(
            WEB_ASSETS / asset,
            mime_type=mime_type,
            headers={"Cache-Control": "no-cache"},
        )

    def _demo_token(self, customer_id: str) -> HTTPResponse:
        # Demo mode stands in for the company's website, which mints the token
        # after its own login. Off by default: it hands out identities.
        if not self.settings.demo_enabled:
            return _json_error(404, "Demo mode is off (set BATON_DEMO=1).")
        if not self.settings.jwt_secret:
            return _json_error(503, "BATON_JWT_SECRET is not set, so no token can be signed.")
        names = {customer.customer_id: customer.name for customer in DEMO_CUSTOMERS}
        if customer_id not in names:
            return _json_error(
                404, f"Unknown demo customer {customer_id!r}; try one of: {', '.join(sorted(names))}"
            )
        token = identity.mint_token(customer_id, self.settings.jwt_secret, name=names[customer_id])
        return response.json(
            {"token": token, "customer": {"id": customer_id, "name": names[customer_id]}}
        )


def _token_from(data: Dict[str, Any]) -> str | None:
    custom = data.get("customData")
    if isinstance(custom, dict) and isinstance(custom.get("token"), str):
        return custom["token"]
    return None


def _is_session_id(value: Any) -> bool:
    return isinstance(value, str) and bool(SESSION_ID_PATTERN.match(value))


async def _maybe_await(result: Any) -> None:
    # python-socketio made enter_room/leave_room coroutines in 5.x; await when so.
    if inspect.isawaitable(result):
        await result


def _json_error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)
