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

Against outsiders (docs/security.md, "The customer channel"):

- a message starting with `/` is an intent payload only when it is one of the
  buttons of the bot's latest message (`connectors.payloads`); any other is
  read by the NLU as text, so nobody types `/restart` or sets a slot;
- a conversation's room holds only its owner's sockets once a customer has
  verified in it: the others are moved to a new conversation of their own;
- messages, typing signals, new sessions and call signals are budgeted per
  socket and per client address (`bot.limits`), a conversation's queue is
  bounded, and engine.io refuses packets over `webchat_max_packet_bytes`;
- a requested session id is accepted only if the server issued it or the
  tracker store holds it; logs show only its first characters.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import re
import time
import uuid
from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    Generic,
    List,
    Mapping,
    Protocol,
    Sequence,
    Set,
    Tuple,
    TypeVar,
)

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
from bot.limits.interface import Clock, RateLimiter, Verdict
from bot.limits.memory import MemoryConcurrencyLimit, MemoryRateLimiter
from bot.limits.pool import PoolBusy
from bot.limits.settings import Budget, LimitSettings
from bot.proxies import TrustedProxies
from bot.settings import Settings, SettingsError
from bot.transcript import conversation_owner, visible_messages
from connectors.payloads import ButtonPayloads, is_intent_shaped, latest_buttons_in, neutral_text

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
NOTICE_RATE_LIMITED = "rate_limited"
ERROR_MALFORMED_PAYLOAD = "malformed_payload"
# The desk ended the conversation and blocked the customer (bot.desk.blocks).
ERROR_BLOCKED = "blocked"
BLOCKED_TEXT = "Our team has ended this conversation. The chat is closed."
ERROR_NO_SESSION = "no_session"
# Too much too fast from this socket or address; the error says when to try again.
ERROR_RATE_LIMITED = "rate_limited"
# The conversation's queue is full (messages sent faster than the bot answers).
ERROR_TOO_MANY_PENDING = "too_many_pending"
# Every conversation's messages wait for one NLU thread; its queue was full.
ERROR_BUSY = "busy"
NLU_BUSY_RETRY_SECONDS = 2.0
# Another customer verified in the conversation this socket showed: it was moved to a new one.
ERROR_SESSION_REPLACED = "session_replaced"

# Payloads a third-party widget sends by itself (e.g. Rasa Webchat's `initPayload`,
# `/get_started`), comma-separated: accepted as intents at any time. Empty by default.
INIT_PAYLOADS_VARIABLE = "BATON_WEBCHAT_INIT_PAYLOADS"
# Refusals one socket may get in a minute; past them it is disconnected, so a
# client that ignores `retry_after` costs one refusal each, not an endless stream of them.
REFUSALS_BEFORE_DISCONNECT = Budget(30, 60)
# Call signals waiting per conversation (ICE candidates come in bursts; each is small).
CALL_SIGNALS_QUEUED = 50
# Conversations whose verified owner is remembered in memory (the tracker knows the
# rest once they have spoken), and server-issued session ids not yet in the tracker.
MAX_REMEMBERED_SESSIONS = 50_000
# What the logs show of a session id: enough to follow one conversation, too little to join it.
SESSION_LOG_PREFIX = 8

WEB_ASSETS = Path(__file__).resolve().parent.parent / "bot" / "web"
# Only these files are served, whatever path a request names.
PUBLIC_ASSETS = {
    "widget.js": "application/javascript",
    "widget.css": "text/css",
    "vendor/socket.io.min.js": "application/javascript",
}
# Intents only the agent desk may trigger: typed as a `/intent` payload they would
# let a customer close their own handoff. Defence in depth: such a text is never a
# button's payload, so it would reach the NLU as words anyway. Rasa strips the
# intent name (`/ handoff_resolved` is the intent too), so spaces are allowed here.
DESK_ONLY_INTENTS = (INTENT_HANDOFF_RESOLVED, INTENT_HANDOFF_RETURNED)
DESK_ONLY_PAYLOAD = re.compile(rf"^/\s*({'|'.join(DESK_ONLY_INTENTS)})(?![\w-])")
# How often a read waits for a conversation's lock (Rasa's default, a second, is a chat's eternity).
LOCK_POLL_SECONDS = 0.01
# Session ids are server-issued uuid4 hex strings (always with `fullmatch`: `$` accepts a
# trailing newline); anything else starts afresh.
SESSION_ID_PATTERN = re.compile(r"[0-9a-f]{32}")

Value = TypeVar("Value")


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


class _Recent(Generic[Value]):
    """A dict of at most `max_items` entries that forgets the least recently set first."""

    def __init__(self, max_items: int = MAX_REMEMBERED_SESSIONS) -> None:
        self.max_items = max_items
        self._items: OrderedDict[str, Value] = OrderedDict()

    def set(self, key: str, value: Value) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    def get(self, key: str) -> Value | None:
        return self._items.get(key)


class _Budgets:
    """One kind of action's budgets: per socket, and per client address when there is one."""

    def __init__(self, per_socket: RateLimiter, per_address: RateLimiter | None) -> None:
        self.per_socket = per_socket
        self.per_address = per_address

    async def spend(self, sid: str, address: str | None) -> Verdict:
        verdict = await self.per_socket.hit(sid)
        if not verdict.allowed or self.per_address is None or not address:
            return verdict
        by_address = await self.per_address.hit(address)
        if not by_address.allowed:
            # Nothing was done: the socket's own budget is not charged for it.
            await self.per_socket.refund(sid)
        return by_address


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
    """Sends bot messages to every socket in the conversation's room.

    Each message's buttons become the payloads the conversation may send next
    (`connectors.payloads`).
    """

    @classmethod
    def name(cls) -> str:
        return WEBCHAT_CHANNEL

    def __init__(self, sio: AsyncServer, payloads: ButtonPayloads | None = None) -> None:
        super().__init__(sio, BOT_MESSAGE_EVENT)
        self.payloads = payloads

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        """Send one bot message (text, buttons, image, custom json), noting its buttons first."""
        if self.payloads is not None:
            custom = message.get("custom")
            shown = (
                message
                if message.get("buttons") or message.get("quick_replies")
                else (custom if isinstance(custom, dict) else {})
            )
            # Before sending: a quick click must find its payload allowed.
            self.payloads.bot_sent(recipient_id, shown)
        await super().send_response(recipient_id, message)

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
        origins = list(credentials.get("allowed_origins") or []) + list(settings.allowed_origins)
        configured = ",".join(str(payload) for payload in credentials.get("init_payloads") or [])
        init_payloads = _payloads(
            configured, "credentials.yml init_payloads"
        ) + init_payloads_from_env(os.environ)
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
        self._app: Sanic | None = None
        self.observer: ConversationObserver | None = None
        self.call_observer: CallObserver | None = None
        # Whether a conversation id or a client address is blocked (the desk's blocks,
        # bot.desk.blocks); None: nobody is.
        self.blocks: Callable[[str | None, str | None], bool] | None = None
        self._order = _SessionOrder(self.limits.webchat_queued_messages)
        # Call signals queue apart from messages: a parse in progress never delays a candidate.
        self._call_order = _SessionOrder(CALL_SIGNALS_QUEUED)
        # sid -> session id of every socket with a confirmed session (for `disconnect`).
        self._session_of_sid: Dict[str, str] = {}
        # sid -> client address of every open socket (for a block by address).
        self._address_of_sid: Dict[str, str] = {}
        self.payloads = ButtonPayloads()
        # Conversations a verified customer claimed before the tracker shows it (no message yet).
        self._owners: _Recent[str] = _Recent()
        # Session ids this process issued, so a reload before the first message keeps its id.
        self._issued: _Recent[bool] = _Recent()

        def bucket(budget: Budget) -> MemoryRateLimiter:
            return MemoryRateLimiter(budget.count, budget.seconds, clock=clock)

        limits = self.limits
        self._message_budgets = _Budgets(
            bucket(limits.webchat_messages_per_socket), bucket(limits.webchat_messages_per_address)
        )
        self._typing_budgets = _Budgets(
            bucket(limits.webchat_typing_per_socket), bucket(limits.webchat_typing_per_address)
        )
        self._session_budgets = _Budgets(
            bucket(limits.webchat_sessions_per_socket), bucket(limits.webchat_sessions_per_address)
        )
        self._call_budgets = _Budgets(
            bucket(limits.webchat_call_signals_per_socket),
            bucket(limits.webchat_call_signals_per_address),
        )
        self._refusals = bucket(REFUSALS_BEFORE_DISCONNECT)

    def get_output_channel(self) -> OutputChannel | None:
        """Where messages are pushed outside a request (e.g. agent replies later)."""
        return WebchatOutput(self.sio, self.payloads) if self.sio is not None else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The socket.io server and the widget's HTTP routes."""
        # The server's own origin plus the configured ones; never "*". A tuple,
        # because engine.io reads an empty *list* as "CORS checks off".
        sio = _WebchatSocketServer(
            async_mode="sanic",
            cors_allowed_origins=tuple(self.allowed_origins),
            # engine.io refuses a larger packet (and closes that socket) before
            # anything parses it; python-engineio's default is a megabyte.
            max_http_buffer_size=self.limits.webchat_max_packet_bytes,
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
                return _json_error(
                    404,
                    "The demo page is off (start Baton with `bot run --demo`, as `make run` does).",
                )
            return await response.file(
                WEB_ASSETS / "demo.html", mime_type="text/html; charset=utf-8"
            )

        @webchat.route("/demo/token", methods=["GET"])
        async def demo_token(request: Request) -> HTTPResponse:
            return self._demo_token(request.args.get("customer", ""))

        @sio.on("connect")
        async def connect(sid: str, environ: Dict, auth: Dict | None = None) -> bool:
            token = auth.get("token") if isinstance(auth, dict) else None
            address = client_address(environ, self.proxies)
            if self._blocked(None, address):
                logger.info("webchat.blocked.connect sid=%s", sid)
                return False
            self._address_of_sid[sid] = address
            await sio.save_session(sid, {"auth_token": token, "address": address})
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
        state = await self.sio.get_session(sid)
        verdict = await self._session_budgets.spend(sid, state.get("address"))
        if not verdict.allowed:
            await self._refuse(sid, verdict, "new conversations")
            return
        if data is not None and not isinstance(data, dict):
            await self._reject(sid, ERROR_MALFORMED_PAYLOAD, "session_request must be an object")
            return
        data = data or {}
        token = _token_from(data) or state.get("auth_token")
        customer = identity.customer_from_token(token, self.settings.jwt_secret)
        if token and customer is None:
            logger.info("webchat.identity.rejected sid=%s", sid)

        requested = data.get("session_id")
        if self._blocked(requested if isinstance(requested, str) else None, state.get("address")):
            await self._turn_away(sid)
            return
        session_id, events = await self._existing_session(sid, requested)
        owner = conversation_owner(events) or self._owners.get(session_id)
        if owner and (customer is None or customer.customer_id != owner):
            # Another customer's conversation (a shared computer after logout):
            # never show it; start a new one.
            logger.info("webchat.session.owner_mismatch sid=%s", sid)
            session_id, events = self._issue_session_id(), []

        previous = state.get("session_id")
        try:
            if previous and previous != session_id:
                await _maybe_await(self.sio.leave_room(sid, previous))
            await _maybe_await(self.sio.enter_room(sid, session_id))
        except KeyError:  # the socket closed while its request waited (a flood's last ones)
            return
        state.update(
            session_id=session_id,
            token=token if customer else None,
            customer_id=customer.customer_id if customer else None,
        )
        await self.sio.save_session(sid, state)
        if customer is not None:
            await self._claim(session_id, customer.customer_id, sid)
        await self._confirm(sid, session_id, events)

    async def _existing_session(self, sid: str, requested: Any) -> Tuple[str, List[Dict[str, Any]]]:
        """The requested conversation and its events if it exists, else a new id and none.

        An id nobody issued is never adopted: a guessed or made-up id would start
        a conversation whose id the guesser knows in advance.
        """
        if not _is_session_id(requested):
            return self._issue_session_id(), []
        try:
            events = await self._tracker_events(requested)
        except Exception:  # the tracker store is down: its owner can't be checked
            logger.exception("webchat.session.history_failed sid=%s", sid)
            return self._issue_session_id(), []
        if events is None and not self._issued.get(requested):
            logger.info("webchat.session.unknown sid=%s session=%s", sid, _short(requested))
            return self._issue_session_id(), []
        return requested, events or []

    def _issue_session_id(self) -> str:
        session_id = uuid.uuid4().hex
        self._issued.set(session_id, True)
        return session_id

    async def _confirm(self, sid: str, session_id: str, events: List[Dict[str, Any]]) -> None:
        assert self.sio is not None
        await self.sio.emit(SESSION_CONFIRM_EVENT, session_id, room=sid)
        await self.sio.emit(HISTORY_EVENT, {"messages": visible_messages(events)}, room=sid)
        self._session_of_sid[sid] = session_id
        if self.call_observer is not None:
            try:
                await self.call_observer.customer_session_started(session_id, sid)
            except Exception:  # calls failing must not break the chat
                logger.exception("webchat.call_observer.failed session=%s", _short(session_id))

    async def _claim(self, session_id: str, customer_id: str, sid: str) -> None:
        """A verified customer's socket holds the conversation: only their sockets stay in its room.

        A socket that joined while it was a guest's conversation (another tab, a
        shared computer, anyone who learned its id) would otherwise go on
        receiving the customer's invoices, orders and agent messages. Each is
        told, and moved to a new conversation of its own.
        """
        assert self.sio is not None
        self._owners.set(session_id, customer_id)
        others = [
            other for other, _ in self.sio.manager.get_participants("/", session_id) if other != sid
        ]
        for other in others:
            try:
                state = await self.sio.get_session(other)
            except KeyError:  # disconnected meanwhile
                continue
            if state.get("session_id") != session_id or state.get("customer_id") == customer_id:
                continue
            await self._move_out(other, state, session_id)

    async def _move_out(self, sid: str, state: Dict[str, Any], session_id: str) -> None:
        assert self.sio is not None
        logger.info("webchat.session.moved_out sid=%s session=%s", sid, _short(session_id))
        await _maybe_await(self.sio.leave_room(sid, session_id))
        if self.call_observer is not None:
            try:  # the socket no longer shows the conversation: a call bound to it ends
                await self.call_observer.customer_socket_closed(session_id, sid)
            except Exception:
                logger.exception("webchat.call_observer.failed session=%s", _short(session_id))
        fresh = self._issue_session_id()
        await _maybe_await(self.sio.enter_room(sid, fresh))
        state.update(session_id=fresh)
        await self.sio.save_session(sid, state)
        await self.sio.emit(
            ERROR_EVENT,
            {
                "code": ERROR_SESSION_REPLACED,
                "message": "A signed-in customer continued this conversation in another window; "
                "a new conversation has started here.",
            },
            room=sid,
        )
        await self._confirm(sid, fresh, [])

    async def _handle_user_message(
        self,
        sid: str,
        data: Any,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        received = time.time()  # the relay's latency (bot.metrics.prometheus) counts from here
        assert self.sio is not None
        state = await self.sio.get_session(sid)
        verdict = await self._message_budgets.spend(sid, state.get("address"))
        if not verdict.allowed:
            await self._refuse_message(sid, verdict)
            return
        if not isinstance(data, dict) or not isinstance(data.get("message"), str):
            await self._reject(sid, ERROR_MALFORMED_PAYLOAD, "user_uttered needs a text 'message'")
            return
        session_id = state.get("session_id")
        if not session_id:
            await self._reject(sid, ERROR_NO_SESSION, "send session_request first")
            return
        if self._blocked(session_id, state.get("address")):
            await self._turn_away(sid)
            return
        claimed = data.get("session_id")
        if claimed is not None and claimed != session_id:
            await self._reject(
                sid, ERROR_MALFORMED_PAYLOAD, "session_id does not match this socket's session"
            )
            return

        # PostgreSQL cannot store a NUL in text; it is never part of what a person types.
        text = data["message"].replace("\x00", "").strip()
        if not text:
            return
        if DESK_ONLY_PAYLOAD.match(text):
            await self._reject(
                sid, ERROR_MALFORMED_PAYLOAD, "that intent is reserved for the agent desk"
            )
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
            WebchatOutput(self.sio, self.payloads),
            session_id,
            input_channel=WEBCHAT_CHANNEL,
            message_id=uuid.uuid4().hex,
            metadata=metadata,
        )
        queued = await self._order.run(
            session_id, lambda: self._process(sid, message, on_new_message, received)
        )
        if not queued:
            logger.info("webchat.message.queue_full sid=%s session=%s", sid, _short(session_id))
            await self._refuse_message(sid, Verdict(False, 1.0), ERROR_TOO_MANY_PENDING)

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
                logger.exception("webchat.observer.failed session=%s", _short(session_id))
        try:
            # In the conversation's order: the buttons checked are those the
            # customer saw when they sent it, after every earlier reply.
            if is_intent_shaped(message.text) and not await self._is_offered_payload(
                session_id, message.text
            ):
                await self._read_as_text(message)
            self.payloads.customer_sent(session_id)
            await on_new_message(message)
        except PoolBusy:  # the NLU's queue is full (a flood): nothing was read or stored
            logger.warning("webchat.message.nlu_busy session=%s", _short(session_id))
            await self._refuse_message(sid, Verdict(False, NLU_BUSY_RETRY_SECONDS), ERROR_BUSY)
        except Exception:  # a failing turn must not take the socket down
            logger.exception("webchat.message.failed session=%s", _short(session_id))
            await self.sio.emit(
                BOT_MESSAGE_EVENT,
                {
                    "text": "Sorry, something went wrong on our side. Please try again, "
                    'or say "agent" to reach our team.',
                    "baton": {"notice": NOTICE_INTERNAL_ERROR},
                },
                room=sid,
            )
        if observer is not None:
            try:
                await observer.after_customer_message(session_id, message.message_id)
            except Exception:
                logger.exception("webchat.observer.failed session=%s", _short(session_id))

    async def _is_offered_payload(self, session_id: str, text: str) -> bool:
        """Whether `text` is a payload the customer may send now (a button of the latest message)."""
        if text in self.init_payloads:
            return True
        offered = self.payloads.get(session_id)
        if offered is None:
            # Not known here (a restarted server, another replica): the tracker
            # holds the latest bot message and its buttons.
            try:
                events = await self._tracker_events(session_id)
            except Exception:  # unknown, so not offered: the text is read as words
                logger.exception("webchat.payloads.read_failed session=%s", _short(session_id))
                return False
            offered = latest_buttons_in(events or [])
            self.payloads.remember(session_id, offered)
        return text in offered

    async def _read_as_text(self, message: UserMessage) -> None:
        """Make Rasa read a typed `/…` message as words, keeping the text the customer typed.

        The NLU parses a neutral form of the text (`connectors.payloads.neutral_text`)
        and Rasa takes that parse as given (`UserMessage.parse_data`), so the
        tracker, the transcript and the desk show exactly what was typed.
        """
        processor = getattr(self._rasa_agent(), "processor", None)
        if processor is None:
            # No model to parse with here: the neutral text itself keeps Rasa's
            # `/intent` shortcut from firing.
            message.text = neutral_text(message.text)
            return
        neutral = UserMessage(
            neutral_text(message.text),
            None,
            message.sender_id,
            input_channel=message.input_channel,
            message_id=message.message_id,
            metadata=message.metadata,
        )
        parse_data = await processor.parse_message(neutral)
        parse_data["text"] = message.text
        message.parse_data = parse_data
        logger.info("webchat.payload.read_as_text session=%s", _short(message.sender_id))

    async def _handle_typing(self, sid: str, data: Any) -> None:
        assert self.sio is not None
        state = await self.sio.get_session(sid)
        verdict = await self._typing_budgets.spend(sid, state.get("address"))
        if not verdict.allowed:
            await self._refuse(sid, verdict, "typing signals")
            return
        if not isinstance(data, dict) or not isinstance(data.get("typing"), bool):
            await self._reject(
                sid, ERROR_MALFORMED_PAYLOAD, "baton_typing needs a boolean 'typing'"
            )
            return
        session_id = state.get("session_id")
        if not session_id or self.observer is None:
            return
        try:
            await self.observer.customer_typing(session_id, data["typing"])
        except Exception:
            logger.exception("webchat.observer.failed session=%s", _short(session_id))

    async def _handle_call_signal(self, sid: str, data: Any) -> None:
        assert self.sio is not None
        state = await self.sio.get_session(sid)
        kind = (
            data.get("type")
            if isinstance(data, dict) and isinstance(data.get("type"), str)
            else None
        )
        verdict = await self._call_budgets.spend(sid, state.get("address"))
        if not verdict.allowed:
            await self._refuse_call(sid, kind, verdict)
            return
        if not isinstance(data, dict):
            await self._reject_call(
                sid, None, "malformed_payload", "baton_call needs an object with a 'type'"
            )
            return
        session_id = state.get("session_id")
        if not session_id:
            logger.warning(
                "calls.rejected side=customer code=no_session reason=no_session type=%s call=- "
                "conversation=- sid=%s…",
                (kind or "-")[:16],
                sid[:8],
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
                logger.exception("webchat.call_observer.failed session=%s", _short(session_id))

        if not await self._call_order.run(session_id, deliver):
            await self._refuse_call(sid, kind, Verdict(False, 1.0))

    async def _reject_call(self, sid: str, kind: str | None, code: str, message: str) -> None:
        assert self.sio is not None
        await self.sio.emit(CALL_EVENT, call_error(code, message, None, kind), room=sid)

    async def _refuse_call(self, sid: str, kind: str | None, verdict: Verdict) -> None:
        if not await self._may_refuse(sid):
            return
        assert self.sio is not None
        error = call_error(ERROR_RATE_LIMITED, "too many call signals; slow down", None, kind)
        error["retry_after"] = verdict.retry_after_seconds
        await self.sio.emit(CALL_EVENT, error, room=sid)

    async def _socket_closed(self, sid: str) -> None:
        self._address_of_sid.pop(sid, None)
        session_id = self._session_of_sid.pop(sid, None)
        if session_id is None or self.call_observer is None:
            return
        observer = self.call_observer

        async def closed() -> None:
            try:
                await observer.customer_socket_closed(session_id, sid)
            except Exception:
                logger.exception("webchat.call_observer.failed session=%s", _short(session_id))

        # Never refused: a call bound to the socket must learn that it is gone.
        await self._call_order.run(session_id, closed, bounded=False)

    async def emit_to_conversation(
        self, session_id: str, event: str, data: Dict[str, Any], skip_sid: str | None = None
    ) -> None:
        """Send a socket.io event to every widget showing this conversation (but `skip_sid`)."""
        assert self.sio is not None
        if event == BOT_MESSAGE_EVENT:
            # An agent's message is the latest one now: the buttons before it are gone.
            self.payloads.bot_sent(session_id, data)
        await self.sio.emit(event, data, room=session_id, skip_sid=skip_sid)

    def addresses_of(self, session_id: str) -> Set[str]:
        """The client addresses of the sockets showing a conversation now (for a block by address)."""
        return {
            self._address_of_sid[sid]
            for sid, shown in self._session_of_sid.items()
            if shown == session_id and sid in self._address_of_sid
        }

    async def end_conversation(self, session_id: str) -> None:
        """The desk ended and blocked this conversation: every socket showing it is told and closed."""
        for sid in [sid for sid, shown in self._session_of_sid.items() if shown == session_id]:
            await self._turn_away(sid)

    def _blocked(self, session_id: str | None, address: str | None) -> bool:
        return self.blocks is not None and self.blocks(session_id, address)

    async def _turn_away(self, sid: str) -> None:
        """A blocked customer's socket: told why in words and a code, then disconnected."""
        assert self.sio is not None
        logger.info("webchat.blocked sid=%s", sid)
        await self.sio.emit(ERROR_EVENT, {"code": ERROR_BLOCKED, "message": BLOCKED_TEXT}, room=sid)
        await self.sio.disconnect(sid)

    async def emit_to_socket(self, sid: str, event: str, data: Dict[str, Any]) -> None:
        """Send a socket.io event to one widget's socket."""
        assert self.sio is not None
        await self.sio.emit(event, data, to=sid)

    async def _adopt_token_from_message(
        self, sid: str, state: Dict[str, Any], data: Dict[str, Any]
    ) -> None:
        """Accept a token sent with a message, as Rasa widgets send `customData`.

        Only a guest session can be upgraded, and only by a token that verifies;
        the other sockets of the conversation then leave it (`_claim`).
        """
        if state.get("customer_id"):
            return
        token = _token_from(data)
        customer = identity.customer_from_token(token, self.settings.jwt_secret)
        if customer is None:
            return
        session_id = state["session_id"]
        try:
            owner = conversation_owner(await self._tracker_events(session_id) or [])
        except Exception:  # the tracker store is down: stay a guest rather than guess
            logger.exception("webchat.identity.owner_check_failed sid=%s", sid)
            return
        owner = owner or self._owners.get(session_id)
        if owner and owner != customer.customer_id:
            return
        state.update(token=token, customer_id=customer.customer_id)
        await self.sio.save_session(sid, state)  # type: ignore[union-attr]
        await self._claim(session_id, customer.customer_id, sid)

    async def _reject(self, sid: str, code: str, message: str) -> None:
        if not await self._may_refuse(sid):
            return
        logger.warning("webchat.payload.rejected sid=%s code=%s reason=%s", sid, code, message)
        await self.sio.emit(ERROR_EVENT, {"code": code, "message": message}, room=sid)  # type: ignore[union-attr]

    async def _refuse(
        self, sid: str, verdict: Verdict, what: str, code: str = ERROR_RATE_LIMITED
    ) -> None:
        """Tell a socket that it sent too much, and when it may again."""
        if not await self._may_refuse(sid):
            return
        assert self.sio is not None
        seconds = verdict.retry_after_seconds
        await self.sio.emit(
            ERROR_EVENT,
            {
                "code": code,
                "message": f"Too many {what} too quickly; please wait {seconds} s and try again.",
                "retry_after": seconds,
            },
            room=sid,
        )

    async def _refuse_message(
        self, sid: str, verdict: Verdict, code: str = ERROR_RATE_LIMITED
    ) -> None:
        """Refuse a message: the error for programs, and a notice the customer reads in the widget."""
        if not await self._may_refuse(sid):
            return
        assert self.sio is not None
        seconds = verdict.retry_after_seconds
        if code == ERROR_TOO_MANY_PENDING:
            text = "I'm still working on your earlier messages. Please wait for my answer, then send this again."
        elif code == ERROR_BUSY:
            text = f"Lots of people are writing to me right now. Please send that again in {seconds} s."
        else:
            text = (
                f"You're sending messages faster than I can read them. Please wait {seconds} s, "
                "then send this again."
            )
        await self.sio.emit(
            ERROR_EVENT, {"code": code, "message": text, "retry_after": seconds}, room=sid
        )
        await self.sio.emit(
            BOT_MESSAGE_EVENT, {"text": text, "baton": {"notice": NOTICE_RATE_LIMITED}}, room=sid
        )

    async def _may_refuse(self, sid: str) -> bool:
        """Whether a refusal may still be sent; a socket past its refusals is disconnected instead.

        A client that ignores `retry_after` would otherwise make the server
        write an answer for every packet it sends.
        """
        if (await self._refusals.hit(sid)).allowed:
            return True
        logger.warning("webchat.flood.disconnected sid=%s", sid)
        assert self.sio is not None
        await self.sio.disconnect(sid)
        return False

    def _rasa_agent(self) -> Any:
        return getattr(self._app.ctx, "agent", None) if self._app else None

    async def _tracker_events(self, session_id: str) -> List[Dict[str, Any]] | None:
        """The conversation's events, or None when the tracker store does not hold it."""
        agent = self._rasa_agent()
        if agent is None or agent.tracker_store is None:
            return None
        # Under the conversation's lock: a turn's replies go out before the turn
        # is saved, and a page reloaded in between must not miss that turn.
        async with agent.lock_store.lock(session_id, wait_time_in_seconds=LOCK_POLL_SECONDS):
            tracker = await agent.tracker_store.retrieve(session_id)
        if tracker is None:
            return None
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
            return _json_error(
                404, "Demo mode is off (start Baton with `bot run --demo`, as `make run` does)."
            )
        if not self.settings.jwt_secret:
            return _json_error(503, "BATON_JWT_SECRET is not set, so no token can be signed.")
        names = {customer.customer_id: customer.name for customer in DEMO_CUSTOMERS}
        if customer_id not in names:
            return _json_error(
                404,
                f"Unknown demo customer {customer_id!r}; try one of: {', '.join(sorted(names))}",
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
    return isinstance(value, str) and SESSION_ID_PATTERN.fullmatch(value) is not None


def _short(session_id: str) -> str:
    # A session id is the bearer secret of a guest's conversation: logs show its start only.
    return session_id[:SESSION_LOG_PREFIX] + "…"


def client_address(environ: Mapping[str, Any], proxies: TrustedProxies) -> str:
    """The address of the client behind a socket, for the per-address budgets.

    python-engineio's Sanic driver puts a fixed `REMOTE_ADDR` (127.0.0.1) in the
    environ it builds, so the peer comes from the Sanic request it keeps there;
    behind a trusted proxy, the client is the one its forwarding headers name.
    """
    request = environ.get("sanic.request")
    peer = str(getattr(request, "ip", None) or environ.get("REMOTE_ADDR") or "")
    headers = getattr(request, "headers", None) or {}
    return proxies.client_address(peer, headers)


def init_payloads_from_env(env: Mapping[str, str]) -> List[str]:
    """The payloads of `BATON_WEBCHAT_INIT_PAYLOADS` (comma-separated, each starting with `/`)."""
    return _payloads(env.get(INIT_PAYLOADS_VARIABLE) or "", INIT_PAYLOADS_VARIABLE)


def _payloads(raw: str, source: str) -> List[str]:
    payloads = [part.strip() for part in raw.split(",") if part.strip()]
    wrong = [payload for payload in payloads if not payload.startswith("/")]
    if wrong:
        raise SettingsError(
            f"{source} holds {', '.join(wrong)}; each payload starts with '/', e.g. /get_started"
        )
    return payloads


async def _maybe_await(result: Any) -> None:
    # python-socketio made enter_room/leave_room coroutines in 5.x; await when so.
    if inspect.isawaitable(result):
        await result


def _json_error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)
