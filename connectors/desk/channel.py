"""`desk`: the agent side, as a channel in the Rasa server (docs/desk.md).

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

The state (who has which conversation) is in the database; this process keeps
only connections, so a restart loses nothing but the open sockets.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import hashlib
import json
import logging
import os
import re
import secrets
import time
import uuid
from functools import partial
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Sequence, Set, Tuple

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, ConversationResumed
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import audit
from bot.calls import protocol as calls_protocol
from bot.calls.config import CallSettings
from bot.calls.errors import CallRefused
from bot.calls.providers import make_provider
from bot.calls.records import call_json, shown_in_detail
from bot.calls.service import CallService, Changed, Notice, Outcome, ToAgent, ToCustomer
from bot.constants import (
    DESK_CHANNEL,
    INTENT_HANDOFF_RESOLVED,
    INTENT_HANDOFF_RETURNED,
    METADATA_AGENT,
    METADATA_CALL,
    WEBCHAT_CHANNEL,
)
from bot.db import make_engine, make_session_factory
from bot.desk import views
from bot.desk.agents import AgentDirectory, AgentExists
from bot.desk.availability import queue_estimate
from bot.desk.blocks import ADDRESS as BLOCK_ADDRESS
from bot.desk.blocks import SESSION as BLOCK_SESSION
from bot.desk.blocks import BlockList, BlockNotFound, BlockSnapshot
from bot.desk.openapi import openapi_spec
from bot.desk.records import AgentRecord, DeskSession
from bot.desk.relay import TOPIC_CONSOLES, AgentConnections, EventBus, InProcessBus
from bot.desk.routing import Router
from bot.desk.service import Conflict, DeskError, DeskService, Forbidden, InvalidRequest
from bot.desk.service import NotFound as NotFoundError
from bot.desk.sessions import DeskSessions, token_hash
from bot.desk.signin import (
    DEVICE_COOKIE_DAYS,
    MAX_EMAIL_LENGTH,
    DeviceTokens,
    SignInAttempt,
    SignInGuard,
    SignInRefused,
)
from bot.escalation.engine import YamlEscalationPolicy, load_default_policy
from bot.limits.interface import Clock
from bot.limits.memory import MemoryBackOff, MemoryConcurrencyLimit, MemoryRateLimiter
from bot.limits.pool import BoundedPool
from bot.limits.settings import LimitSettings
from bot.metrics.csv_export import report_csv
from bot.metrics.kpis import MetricsQuery, compute_metrics
from bot.metrics.period import parse_moment
from bot.metrics.prometheus import AGENT_TO_CUSTOMER, CUSTOMER_TO_AGENT, observe_relay
from bot.proxies import TrustedProxies
from bot.settings import Settings
from connectors import http_guard
from connectors.nlu_offload import offload_parsing
from connectors.tracker_store import appendable_store

logger = logging.getLogger(__name__)

COOKIE_NAME = "baton_desk"
# A browser that signed in before (bot.desk.signin): strangers' failures do not slow it down.
DEVICE_COOKIE_NAME = "baton_desk_device"
CSRF_HEADER = "X-CSRF-Token"
JSON_CONTENT_TYPE = "application/json"
WEB_ASSETS = Path(__file__).resolve().parents[2] / "bot" / "web"
CONSOLE_ASSETS = {"console.js": "application/javascript", "console.css": "text/css"}
# The console's ES modules (bot/web/console/*.js), loaded by <script type="module">.
CONSOLE_MODULES = WEB_ASSETS / "console"
CONSOLE_MODULE_NAME = re.compile(r"[a-z][a-z0-9_-]*\.js")
# Browser libraries of bot/web/vendor the console loads (the Dashboard's charts).
CONSOLE_VENDOR_ASSETS = {"chart.umd.min.js": "application/javascript"}
# The console's page may load only its own scripts and talk only to its own origin.
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
DEFAULT_MONITOR_SECONDS = 1.0
MAX_AGENT_MESSAGE_LENGTH = 4000
# The largest id an Integer column holds on PostgreSQL (int4); SQLite's is larger.
MAX_ROW_ID = 2**31 - 1
# A failure is forgotten this long after an address's last one.
FAILED_SIGNIN_MEMORY_SECONDS = 900.0
# Refused sign-ins from one client are audited at most this often (the log stays readable under a flood).
REFUSED_SIGNINS_AUDITED = (5, 60.0)
# How long an agent's write waits between tries for the conversation's lock (Rasa's
# default is a second, far too long for a chat; the customer's turn holds it briefly).
LOCK_POLL_SECONDS = 0.01
# The metrics endpoints: the period when none is asked for, and the longest one allowed
# (a year and a day: one report must not scan the whole history).
DEFAULT_METRICS_SINCE = "7d"
MAX_METRICS_DAYS = 366


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Unauthorized(DeskError):
    status = 401


class TooManyAttempts(DeskError):
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Busy(DeskError):
    status = 503

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnsupportedMediaType(DeskError):
    status = 415


class CallError(DeskError):
    """A refused call request: its status and `code` come from `CallRefused` (docs/calls.md 3.5)."""

    def __init__(self, refused: CallRefused) -> None:
        super().__init__(refused.message)
        self.status = refused.status
        self.code = refused.code


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
        self._per_agent = MemoryRateLimiter(
            self.limits.desk_requests_per_agent.count,
            self.limits.desk_requests_per_agent.seconds,
            clock,
        )
        self.signin: SignInGuard | None = None
        self._password_pool: BoundedPool | None = None
        # The open live sockets of each console session (by token hash): closed at sign-out.
        self._live_sockets: Dict[str, Set[Any]] = {}
        self.call_settings = call_settings or CallSettings()
        self.calls: CallService | None = None
        self.disconnect_grace_seconds = settings.disconnect_grace_seconds
        self.monitor_seconds = monitor_seconds
        self.bus: EventBus = bus or InProcessBus()
        self.connections = AgentConnections()
        self._app: Sanic | None = None
        self._engine: Any = None
        self._tasks: List[asyncio.Task] = []
        self._relayed: Dict[str, Tuple[str, str] | None] = {}
        # What each waiting customer was last told (position, wait), to tell only changes.
        self._told: Dict[str, Tuple[Any, Any, str]] = {}
        # Held from reading a conversation's state to telling the customer about it,
        # and by an accept until "joined" is sent: a place in the queue computed just
        # before an accept must not reach the widget after "<agent> joined".
        self._waiting_status = asyncio.Lock()
        self.policy: YamlEscalationPolicy | None = None
        self.service: DeskService | None = None
        self.directory: AgentDirectory | None = None
        self.sessions: DeskSessions | None = None
        self.router: Router | None = None
        self.webchat: Any = None
        self.blocks: BlockList | None = None
        self.audit_log: audit.AuditLog | None = None
        self.block_snapshot = BlockSnapshot()
        self._session_factory: Any = None

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

        @desk.listener("after_server_start")
        async def freeze_loaded_objects(app: Sanic, _: Any) -> None:
            # The model is loaded by now (Rasa loads it before the server starts):
            # hundreds of thousands of long-lived objects that every full garbage
            # collection would walk again, stopping the event loop for a few hundred
            # milliseconds mid-chat. Frozen, the collector skips them.
            gc.freeze()
            logger.info("desk.gc.frozen objects=%d", gc.get_freeze_count())
            rasa_agent = getattr(app.ctx, "agent", None)
            offload_parsing(getattr(rasa_agent, "processor", None), channel.limits.nlu_queue)

        @desk.listener("after_server_stop")
        async def stop(app: Sanic, _: Any) -> None:
            await channel.stop()

        @desk.route("/", methods=["GET"])
        async def console(_: Request) -> HTTPResponse:
            return await response.file(
                WEB_ASSETS / "console.html",
                mime_type="text/html; charset=utf-8",
                headers={"Content-Security-Policy": CONSOLE_CSP, "Cache-Control": "no-cache"},
            )

        @desk.route("/assets/<asset:str>", methods=["GET"])
        async def asset(_: Request, asset: str) -> HTTPResponse:
            mime_type = CONSOLE_ASSETS.get(asset)
            if mime_type is None:
                return _error(404, f"No such file: {asset}")
            return await response.file(
                WEB_ASSETS / asset, mime_type=mime_type, headers={"Cache-Control": "no-cache"}
            )

        @desk.route("/assets/console/<module:str>", methods=["GET"])
        async def console_module(_: Request, module: str) -> HTTPResponse:
            # A plain name only: never a path out of the directory.
            path = CONSOLE_MODULES / module
            if not CONSOLE_MODULE_NAME.fullmatch(module) or not path.is_file():
                return _error(404, f"No such file: console/{module}")
            return await response.file(
                path, mime_type="application/javascript", headers={"Cache-Control": "no-cache"}
            )

        @desk.route("/assets/vendor/<asset:str>", methods=["GET"])
        async def vendor_asset(_: Request, asset: str) -> HTTPResponse:
            mime_type = CONSOLE_VENDOR_ASSETS.get(asset)
            if mime_type is None:
                return _error(404, f"No such file: vendor/{asset}")
            return await response.file(
                WEB_ASSETS / "vendor" / asset,
                mime_type=mime_type,
                headers={"Cache-Control": "no-cache"},
            )

        @desk.route("/api/openapi.json", methods=["GET"])
        async def openapi(_: Request) -> HTTPResponse:
            return response.json(openapi_spec())

        routes: List[Tuple[str, str, Callable[..., Awaitable[HTTPResponse]]]] = [
            ("/api/login", "POST", self._login),
            ("/api/logout", "POST", self._logout),
            ("/api/me", "GET", self._me),
            ("/api/me/status", "PUT", self._set_status),
            ("/api/teams", "GET", self._teams),
            ("/api/queue", "GET", self._queue),
            ("/api/agents", "GET", self._agents),
            ("/api/agents", "POST", self._add_agent),
            ("/api/metrics", "GET", self._metrics),
            ("/api/metrics.csv", "GET", self._metrics_csv),
            ("/api/conversations/<conversation_id:str>", "GET", self._detail),
            ("/api/conversations/<conversation_id:str>/accept", "POST", self._accept),
            ("/api/conversations/<conversation_id:str>/messages", "POST", self._send_message),
            ("/api/conversations/<conversation_id:str>/typing", "POST", self._agent_typing),
            ("/api/conversations/<conversation_id:str>/notes", "POST", self._add_note),
            ("/api/conversations/<conversation_id:str>/transfer", "POST", self._transfer),
            ("/api/conversations/<conversation_id:str>/escalate", "POST", self._escalate),
            ("/api/conversations/<conversation_id:str>/resolve", "POST", self._resolve),
            ("/api/conversations/<conversation_id:str>/return-to-bot", "POST", self._return_to_bot),
            ("/api/conversations/<conversation_id:str>/block", "POST", self._block),
            ("/api/blocks", "GET", self._blocks),
            ("/api/blocks/<block_id:int>", "DELETE", self._lift_block),
            ("/api/conversations/<conversation_id:str>/calls", "POST", self._call_invite),
            (
                "/api/conversations/<conversation_id:str>/calls/<call_id:str>/accept",
                "POST",
                self._call_accept,
            ),
            (
                "/api/conversations/<conversation_id:str>/calls/<call_id:str>/decline",
                "POST",
                self._call_decline,
            ),
            (
                "/api/conversations/<conversation_id:str>/calls/<call_id:str>/signal",
                "POST",
                self._call_signal,
            ),
            (
                "/api/conversations/<conversation_id:str>/calls/<call_id:str>/hangup",
                "POST",
                self._call_hangup,
            ),
        ]
        for path, method, handler in routes:
            desk.add_route(
                _json_errors(handler),
                path,
                methods=[method],
                name=f"{method.lower()}_{path.strip('/').replace('/', '_').replace('<', '').replace('>', '').replace(':', '_').replace('-', '_')}",
            )

        @desk.websocket("/api/live")
        async def live(request: Request, ws: Any) -> None:
            await channel._live(request, ws)

        return desk

    async def start(self, app: Sanic) -> None:
        """Open the database, find the webchat channel, start the background loop."""
        self._app = app
        self.policy = load_default_policy()
        self._engine = make_engine(self.settings.database_url)
        session_factory = make_session_factory(self._engine)
        self.service = DeskService(session_factory, self.policy)
        self.directory = AgentDirectory(session_factory)
        self.sessions = DeskSessions(
            session_factory, idle=dt.timedelta(hours=self.settings.desk_session_hours)
        )
        self.router = Router(session_factory, offer_seconds=self.settings.offer_seconds)
        self.blocks = BlockList(session_factory)
        self.audit_log = audit.AuditLog(session_factory)
        self._session_factory = session_factory
        self.calls = CallService(
            session_factory, self.call_settings, make_provider(self.call_settings)
        )
        self._password_pool = BoundedPool(
            self.limits.password_workers, self.limits.password_queue, "desk-password"
        )
        self.signin = SignInGuard(
            authenticate=self.directory.authenticate,
            per_client=MemoryRateLimiter(
                self.limits.signin_per_address.count,
                self.limits.signin_per_address.seconds,
                self._clock,
            ),
            per_address=MemoryBackOff(
                free_failures=self.limits.signin_free_failures,
                base_delay=float(self.limits.signin_backoff_seconds),
                max_delay=float(
                    max(self.limits.signin_max_backoff_seconds, self.limits.signin_backoff_seconds)
                ),
                forget_after=FAILED_SIGNIN_MEMORY_SECONDS,
                clock=self._clock,
            ),
            in_flight=MemoryConcurrencyLimit(1),
            pool=self._password_pool,
            devices=DeviceTokens(_device_secret(self.settings)),
            audit_log=self.audit_log,
            refusals_audited=MemoryRateLimiter(*REFUSED_SIGNINS_AUDITED, self._clock),
        )
        self.bus.subscribe(TOPIC_CONSOLES, self.connections.deliver)
        for channel in getattr(app.ctx, "input_channels", None) or []:
            if channel.name() == WEBCHAT_CHANNEL:
                self.webchat = channel
                channel.observer = self
                channel.blocks = self.is_blocked
                channel.call_observer = self
        if self.webchat is None:
            logger.warning(
                "desk.no_webchat: agents can't reach customers without the webchat channel"
            )
        try:
            self.block_snapshot = await asyncio.to_thread(self.blocks.snapshot, utc_now())
        except Exception:  # the database is down or not migrated: the monitor tries every tick
            logger.exception("desk.blocks.unavailable")
        self._tasks.append(asyncio.get_running_loop().create_task(self._monitor()))
        logger.info("desk.started calls=%s", self.call_settings.provider or "off")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        self.connections.close_all()
        if self._password_pool is not None:
            self._password_pool.shutdown()
        if self._engine is not None:
            self._engine.dispose()

    # --- the customer's side (webchat observer) ----------------------------------------

    async def before_customer_message(
        self, session_id: str, message_id: str, text: str, at: float
    ) -> None:
        assert self.service is not None
        live = await asyncio.to_thread(self.service.live_team, session_id)
        self._relayed[message_id] = live
        if live is None:
            return
        _, team = live
        message = {
            "id": message_id,
            "sender": "customer",
            "text": text,
            "at": views.from_timestamp(at),
            "agent": None,
            "intent": None,
            "sentiment": None,
        }
        # Relayed before the bot parses it: the agent reads it at once; the
        # tracker (and so the console's next reload) gets it with its parse.
        await self._to_consoles(
            {"type": "message", "conversation_id": session_id, "message": message}, team=team
        )
        observe_relay(CUSTOMER_TO_AGENT, time.time() - at)  # `at`: when its socket.io event came in

    async def after_customer_message(self, session_id: str, message_id: str) -> None:
        assert self.service is not None
        before = self._relayed.pop(message_id, None)
        if before is not None:
            return
        # Not handed off before this message: did it hand off now?
        live = await asyncio.to_thread(self.service.live_team, session_id)
        if live is None:
            return
        _, team = live
        logger.info("desk.handoff.queued conversation=%s team=%s", _short(session_id), team)
        await self._to_consoles({"type": "queue_changed", "conversation_id": session_id}, team=team)
        await self._tell_queue_position(session_id, force=True)
        await self._offer_waiting()

    async def customer_typing(self, session_id: str, typing: bool) -> None:
        assert self.service is not None
        live = await asyncio.to_thread(self.service.live_team, session_id)
        if live is None:
            return
        await self._to_consoles(
            {
                "type": "typing",
                "conversation_id": session_id,
                "sender": "customer",
                "typing": typing,
            },
            team=live[1],
        )

    # --- HTTP handlers ---------------------------------------------------------------

    async def _login(self, request: Request) -> HTTPResponse:
        assert self.directory is not None and self.sessions is not None and self.signin is not None
        # JSON only: a form post from another site (login CSRF) cannot send it.
        if (request.headers.get("content-type") or "").split(";")[
            0
        ].strip().lower() != JSON_CONTENT_TYPE:
            raise UnsupportedMediaType(f"Send the sign-in as {JSON_CONTENT_TYPE}.")
        body = _body(request, signed_in=False)
        email = _text_field(body, "email").lower()
        if len(email) > MAX_EMAIL_LENGTH:
            raise InvalidRequest(f"'email' is at most {MAX_EMAIL_LENGTH} characters.")
        password = body.get("password")
        if not isinstance(password, str) or not password:
            raise InvalidRequest("Send 'email' and 'password'.")
        now = utc_now()
        attempt = SignInAttempt(
            email=email,
            password=password,
            client_address=http_guard.client_address(request, self.proxies),
            device_token=request.cookies.get(DEVICE_COOKIE_NAME),
        )
        try:
            result = await self.signin.sign_in(attempt, now)
        except SignInRefused as refused:
            logger.info("desk.login.refused reason=%s", refused.reason)
            if refused.reason == "busy":
                raise Busy(refused.message, refused.retry_after) from None
            raise TooManyAttempts(refused.message, refused.retry_after) from None
        agent = result.agent
        if agent is None:
            raise Unauthorized("Wrong e-mail address or password.")
        if agent.status == "offline":
            # Signing in is coming to work: the router may offer conversations now.
            # (Someone who set themselves away stays away.)
            agent = await asyncio.to_thread(self.directory.set_status, agent.id, "online", now)
        token, session = await asyncio.to_thread(self.sessions.start, agent.id, now)
        answer = response.json(await self._me_json(session))
        secure = http_guard.is_https(request, self.proxies)
        _set_cookie(
            answer,
            COOKIE_NAME,
            token,
            "/desk",
            int((session.expires_at - now).total_seconds()),
            secure,
        )
        if result.device_token is not None:
            _set_cookie(
                answer,
                DEVICE_COOKIE_NAME,
                result.device_token,
                "/desk/api/login",
                DEVICE_COOKIE_DAYS * 86400,
                secure,
            )
        logger.info("desk.login agent=%s", agent.id)
        await self._offer_waiting()
        return answer

    async def _logout(self, request: Request) -> HTTPResponse:
        assert self.sessions is not None
        session = await self._session(request, write=True)
        token = request.cookies.get(COOKIE_NAME)
        await asyncio.to_thread(self.sessions.end, token)
        # Its live sockets end with it: a signed-out console hears nothing more.
        for ws in self._live_sockets.pop(token_hash(token or ""), set()):
            self._spawn(_close_socket(ws, "You signed out."))
        if self.audit_log is not None:
            await asyncio.to_thread(
                self.audit_log.append,
                audit.AuditRecord(
                    at=utc_now(),
                    action=audit.SIGNOUT,
                    outcome=audit.SUCCEEDED,
                    actor=audit.agent_actor(session.agent.id),
                    subject=session.agent.email,
                    client_address=http_guard.client_address(request, self.proxies),
                ),
            )
        # Signing out is leaving: nothing new is offered, and open chats go back to
        # the queue rather than wait for someone who is gone.
        assert self.directory is not None
        await asyncio.to_thread(self.directory.set_status, session.agent.id, "offline", utc_now())
        await self._requeue(session.agent.id, "agent signed out")
        answer = response.empty()
        del answer.cookies[COOKIE_NAME]
        return answer

    async def _me(self, request: Request) -> HTTPResponse:
        session = await self._session(request)
        return response.json(await self._me_json(session))

    async def _set_status(self, request: Request) -> HTTPResponse:
        assert self.directory is not None and self.service is not None
        session = await self._session(request, write=True)
        status = _text_field(_body(request), "status")
        if status not in ("online", "away", "offline"):
            raise InvalidRequest(f"Unknown status {status!r}; use online, away or offline.")
        now = utc_now()
        agent = await asyncio.to_thread(self.directory.set_status, session.agent.id, status, now)
        self.connections.update_agent(agent)
        if status == "offline":
            await self._requeue(agent.id, "agent went offline")
        elif status == "online":
            await self._offer_waiting()
        active = await asyncio.to_thread(self.service.active_chats, agent.id)
        return response.json({"agent": agent.as_json(active)})

    async def _teams(self, request: Request) -> HTTPResponse:
        await self._session(request)
        assert self.policy is not None
        teams = [
            {"key": key, "name": self.policy.config.team(key).name}
            for key in self.policy.config.team_keys
        ]
        return response.json({"teams": teams})

    async def _queue(self, request: Request) -> HTTPResponse:
        assert self.service is not None and self.policy is not None
        session = await self._session(request)
        handoffs = await asyncio.to_thread(self.service.queue, session.agent)
        now = utc_now()
        return response.json(
            {
                "conversations": [
                    views.summary_json(handoff, self.policy, session.agent, None, now)
                    for handoff in handoffs
                ]
            }
        )

    async def _agents(self, request: Request) -> HTTPResponse:
        assert self.directory is not None and self.service is not None
        session = await self._session(request)
        if not session.agent.sees_all_teams:
            raise Forbidden("Only supervisors and admins can list agents.")
        agents = await asyncio.to_thread(self.directory.agents)
        listed = []
        for agent in agents:
            active = await asyncio.to_thread(self.service.active_chats, agent.id)
            listed.append(agent.as_json(active))
        return response.json({"agents": listed})

    async def _metrics(self, request: Request) -> HTTPResponse:
        report, _ = await self._metrics_report(request)
        return response.json(report)

    async def _metrics_csv(self, request: Request) -> HTTPResponse:
        report, query = await self._metrics_report(request)
        filename = f"baton-metrics-{_file_moment(query.since)}-{_file_moment(query.until)}.csv"
        return response.text(
            report_csv(report),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    async def _metrics_report(self, request: Request) -> Tuple[Dict[str, Any], MetricsQuery]:
        """The report of GET /metrics(.csv) (docs/metrics.md): supervisors and admins only."""
        assert self.policy is not None
        session = await self._session(request)
        if not session.agent.sees_all_teams:
            raise Forbidden("Only supervisors and admins can see the metrics.")
        now = utc_now()
        query = _metrics_query(request, now, self.policy.config.team_keys)
        report = await asyncio.to_thread(compute_metrics, self._session_factory, query, now)
        return report.as_dict(), query

    async def _add_agent(self, request: Request) -> HTTPResponse:
        assert self.directory is not None
        session = await self._session(request, write=True)
        if session.agent.role != "admin":
            raise Forbidden("Only admins can add agents.")
        body = _body(request)
        teams = body.get("teams") or []
        languages = body.get("languages") or ["en"]
        capacity = body.get("capacity", 3)
        if not isinstance(teams, list) or not all(isinstance(team, str) for team in teams):
            raise InvalidRequest("'teams' must be a list of team keys.")
        if not isinstance(languages, list) or not all(isinstance(code, str) for code in languages):
            raise InvalidRequest("'languages' must be a list of language codes.")
        if not isinstance(capacity, int) or isinstance(capacity, bool):
            raise InvalidRequest("'capacity' must be a whole number.")
        try:
            agent = await asyncio.to_thread(
                partial(
                    self.directory.create_agent,
                    email=_text_field(body, "email"),
                    name=_text_field(body, "name"),
                    password=_text_field(body, "password"),
                    role=body.get("role") or "agent",
                    teams=tuple(teams),
                    capacity=capacity,
                    languages=tuple(languages),
                    now=utc_now(),
                )
            )
        except ValueError as error:  # weak password, bad role, unknown team, duplicate
            raise _directory_error(error) from error
        return response.json({"agent": agent.as_json()}, status=201)

    async def _detail(self, request: Request, conversation_id: str) -> HTTPResponse:
        session = await self._session(request)
        return response.json(await self._detail_json(session.agent, conversation_id))

    async def _accept(self, request: Request, conversation_id: str) -> HTTPResponse:
        assert self.service is not None
        session = await self._session(request, write=True)
        agent = session.agent
        async with self._waiting_status:
            handoff = await asyncio.to_thread(
                self.service.accept, agent, conversation_id, utc_now()
            )
            await self._end_call_of_other_agent(conversation_id, agent)
            await self._to_customer(
                conversation_id, "baton_status", {"state": "agent_joined", "agent_name": agent.name}
            )
            await self._tell_calls_available(conversation_id)
        await self._changed(conversation_id, handoff.team, handoff.state)
        return response.json(await self._detail_json(agent, conversation_id))

    async def _send_message(self, request: Request, conversation_id: str) -> HTTPResponse:
        received = time.monotonic()
        session = await self._session(request, write=True)
        text = _text_field(_body(request), "text")
        if len(text) > MAX_AGENT_MESSAGE_LENGTH:
            raise InvalidRequest(
                f"A message is at most {MAX_AGENT_MESSAGE_LENGTH} characters (this one: {len(text)})."
            )
        team, message = await self._write_agent_message(session, conversation_id, text)
        observe_relay(AGENT_TO_CUSTOMER, time.monotonic() - received)  # on the widget's socket now
        await self._to_consoles(
            {"type": "message", "conversation_id": conversation_id, "message": message}, team=team
        )
        return response.json({"message": message}, status=201)

    async def _agent_typing(self, request: Request, conversation_id: str) -> HTTPResponse:
        assert self.service is not None
        session = await self._session(request, write=True)
        typing = _body(request).get("typing")
        if not isinstance(typing, bool):
            raise InvalidRequest('Send {"typing": true} or {"typing": false}.')
        await asyncio.to_thread(self.service.check_can_write, session.agent, conversation_id)
        await self._to_customer(
            conversation_id, "baton_typing", {"typing": typing, "agent_name": session.agent.name}
        )
        return response.empty()

    async def _add_note(self, request: Request, conversation_id: str) -> HTTPResponse:
        assert self.service is not None
        session = await self._session(request, write=True)
        text = _text_field(_body(request), "text")
        note = await asyncio.to_thread(
            self.service.add_note, session.agent, conversation_id, text, utc_now()
        )
        handoff = await asyncio.to_thread(self.service.handoff, session.agent, conversation_id)
        await self._changed(conversation_id, handoff.team, handoff.state, queue=False)
        return response.json({"note": views.note_json(note)}, status=201)

    async def _transfer(self, request: Request, conversation_id: str) -> HTTPResponse:
        assert self.service is not None
        session = await self._session(request, write=True)
        body = _body(request)
        before = await asyncio.to_thread(self.service.handoff, session.agent, conversation_id)
        handoff = await asyncio.to_thread(
            self.service.transfer,
            session.agent,
            conversation_id,
            _text_field(body, "team"),
            _optional_text(body, "reason"),
            utc_now(),
        )
        await self._close_calls(conversation_id, f"agent:{session.agent.id}")
        await self._changed(conversation_id, before.team, handoff.state)
        await self._changed(conversation_id, handoff.team, handoff.state)
        await self._tell_queue_position(conversation_id, force=True)
        await self._offer_waiting()
        return response.json(await self._detail_json(session.agent, conversation_id))

    async def _escalate(self, request: Request, conversation_id: str) -> HTTPResponse:
        assert self.service is not None
        session = await self._session(request, write=True)
        before = await asyncio.to_thread(self.service.handoff, session.agent, conversation_id)
        handoff = await asyncio.to_thread(
            self.service.escalate,
            session.agent,
            conversation_id,
            _optional_text(_body(request), "reason"),
            utc_now(),
        )
        await self._close_calls(conversation_id, f"agent:{session.agent.id}")
        await self._changed(conversation_id, before.team, handoff.state)
        if handoff.team != before.team:
            await self._changed(conversation_id, handoff.team, handoff.state)
        await self._tell_queue_position(conversation_id, force=True)
        await self._offer_waiting()
        return response.json(await self._detail_json(session.agent, conversation_id))

    async def _resolve(self, request: Request, conversation_id: str) -> HTTPResponse:
        assert self.service is not None
        session = await self._session(request, write=True)
        handoff = await asyncio.to_thread(
            self.service.resolve,
            session.agent,
            conversation_id,
            _optional_text(_body(request), "reason"),
            utc_now(),
        )
        await self._close_calls(conversation_id, f"agent:{session.agent.id}")
        await self._to_customer(
            conversation_id, "baton_status", {"state": "resolved", "agent_name": session.agent.name}
        )
        await self._resume_bot(conversation_id, INTENT_HANDOFF_RESOLVED)
        await self._changed(conversation_id, handoff.team, handoff.state)
        await self._offer_waiting()
        return response.json(await self._detail_json(session.agent, conversation_id))

    async def _return_to_bot(self, request: Request, conversation_id: str) -> HTTPResponse:
        assert self.service is not None
        session = await self._session(request, write=True)
        handoff = await asyncio.to_thread(
            self.service.return_to_bot,
            session.agent,
            conversation_id,
            _optional_text(_body(request), "reason"),
            utc_now(),
        )
        await self._close_calls(conversation_id, f"agent:{session.agent.id}")
        await self._to_customer(conversation_id, "baton_status", {"state": "back_to_bot"})
        await self._resume_bot(conversation_id, INTENT_HANDOFF_RETURNED)
        await self._changed(conversation_id, handoff.team, handoff.state)
        await self._offer_waiting()
        return response.json(await self._detail_json(session.agent, conversation_id))

    # --- abusive customers ----------------------------------------------------------------

    def is_blocked(self, session_id: str | None, address: str | None) -> bool:
        """The webchat channel's check, on every new session and message: no I/O."""
        return self.block_snapshot.blocks(session_id, address)

    async def _block(self, request: Request, conversation_id: str) -> HTTPResponse:
        """End an abusive customer's conversation and keep them out (docs/security.md)."""
        assert self.service is not None and self.blocks is not None and self.audit_log is not None
        session = await self._session(request, write=True)
        body = _body(request)
        reason = _text_field(body, "reason")
        block_address = body.get("block_address", False)
        if not isinstance(block_address, bool):
            raise InvalidRequest("'block_address' must be true or false.")
        now = utc_now()
        agent = session.agent
        handoff = await asyncio.to_thread(
            self.service.end_for_abuse, agent, conversation_id, reason, now
        )
        addresses = (
            sorted(self.webchat.addresses_of(conversation_id))
            if block_address and self.webchat
            else []
        )
        expires_at = now + dt.timedelta(hours=self.limits.block_address_hours)
        blocks, audit_log = self.blocks, self.audit_log

        def record() -> List[Any]:
            made = [blocks.add(BLOCK_SESSION, conversation_id, reason, agent.id, now)]
            made += [
                blocks.add(BLOCK_ADDRESS, address, reason, agent.id, now, expires_at)
                for address in addresses
            ]
            for block in made:
                audit_log.append(
                    audit.AuditRecord(
                        at=now,
                        action=audit.CUSTOMER_BLOCKED,
                        outcome=audit.SUCCEEDED,
                        actor=audit.agent_actor(agent.id),
                        subject=f"conversation:{handoff.reference}",
                        client_address=block.value if block.kind == BLOCK_ADDRESS else None,
                        details={"kind": block.kind, "block_id": block.id},
                    )
                )
            return made

        made = await asyncio.to_thread(record)
        self.block_snapshot = await asyncio.to_thread(self.blocks.snapshot, now)
        logger.info("desk.customer.blocked agent=%s addresses=%d", agent.id, len(addresses))
        await self._close_calls(conversation_id, f"agent:{agent.id}")
        if self.webchat is not None:
            try:
                await self.webchat.end_conversation(conversation_id)
            except Exception:  # the block stands: the widget is turned away at its next message
                logger.exception(
                    "desk.customer.block_notice_failed conversation=%s", _short(conversation_id)
                )
        await self._changed(conversation_id, handoff.team, handoff.state)
        await self._offer_waiting()
        return response.json(
            {
                "conversation": await self._detail_json(agent, conversation_id),
                "blocks": [block.as_json() for block in made],
            }
        )

    async def _blocks(self, request: Request) -> HTTPResponse:
        assert self.blocks is not None
        session = await self._session(request)
        if not session.agent.sees_all_teams:
            raise Forbidden("Only supervisors and admins can list blocks.")
        blocks = await asyncio.to_thread(self.blocks.in_force, utc_now())
        return response.json({"blocks": [block.as_json() for block in blocks]})

    async def _lift_block(self, request: Request, block_id: int) -> HTTPResponse:
        assert self.blocks is not None and self.audit_log is not None
        session = await self._session(request, write=True)
        if not session.agent.sees_all_teams:
            raise Forbidden("Only supervisors and admins can lift a block.")
        now = utc_now()
        if not 0 < block_id <= MAX_ROW_ID:  # a number no row can have: not a database error
            raise NotFoundError(f"No block {block_id} is in force.")
        try:
            block = await asyncio.to_thread(self.blocks.lift, block_id, now)
        except BlockNotFound as missing:
            raise NotFoundError(str(missing)) from None
        await asyncio.to_thread(
            self.audit_log.append,
            audit.AuditRecord(
                at=now,
                action=audit.CUSTOMER_UNBLOCKED,
                outcome=audit.SUCCEEDED,
                actor=audit.agent_actor(session.agent.id),
                subject=f"block:{block.id}",
                details={"kind": block.kind},
            ),
        )
        self.block_snapshot = await asyncio.to_thread(self.blocks.snapshot, now)
        return response.empty()

    # --- calls (docs/calls.md) -----------------------------------------------------------

    async def _call_session(
        self, request: Request, conversation_id: str, signal_type: str
    ) -> DeskSession:
        """The session of a call request; 401/403 as everywhere, and a `calls.rejected` line."""
        try:
            return await self._session(request, write=True)
        except DeskError as error:
            reason = "csrf" if error.status == 403 else "no_session"
            logger.warning(
                "calls.rejected side=agent code=%s reason=%s type=%s call=- conversation=%s agent=-",
                "no_session" if reason == "no_session" else "not_allowed",
                reason,
                signal_type,
                f"{conversation_id[:8]}…",
            )
            raise

    async def _call_work(self, work: Callable[[dt.datetime], Any]) -> Any:
        """One trip to a worker thread for a call use case; CallRefused becomes an API error."""
        try:
            return await asyncio.to_thread(work, utc_now())
        except CallRefused as refused:
            raise CallError(refused) from None

    async def _call_invite(self, request: Request, conversation_id: str) -> HTTPResponse:
        assert self.calls is not None
        session = await self._call_session(request, conversation_id, "invite")
        calls, agent = self.calls, session.agent
        body = _call_body(request)

        def invite(now: dt.datetime) -> Any:
            media = calls_protocol.parse_media(body)
            connection_id = calls_protocol.parse_connection_id(body)
            return calls.invite(agent, conversation_id, media, connection_id, now)

        record, outcome = await self._call_work(invite)
        await self._carry_out(outcome)
        return response.json({"call": call_json(record, agent.id, utc_now())}, status=201)

    async def _call_accept(
        self, request: Request, conversation_id: str, call_id: str
    ) -> HTTPResponse:
        assert self.calls is not None
        calls = self.calls

        def accept(agent: AgentRecord, body: Dict[str, Any], now: dt.datetime) -> Any:
            connection_id = calls_protocol.parse_connection_id(body)
            return calls.agent_accept(agent, conversation_id, call_id, connection_id, now)

        return await self._call_step(request, conversation_id, "accept", accept)

    async def _call_decline(
        self, request: Request, conversation_id: str, call_id: str
    ) -> HTTPResponse:
        assert self.calls is not None
        calls = self.calls

        def decline(agent: AgentRecord, body: Dict[str, Any], now: dt.datetime) -> Any:
            reason = calls_protocol.parse_reason(
                body, calls_protocol.DECLINE_REASONS, calls_protocol.DECLINED
            )
            return calls.agent_decline(agent, conversation_id, call_id, reason, now)

        return await self._call_step(request, conversation_id, "decline", decline)

    async def _call_signal(
        self, request: Request, conversation_id: str, call_id: str
    ) -> HTTPResponse:
        assert self.calls is not None
        session = await self._call_session(request, conversation_id, "signal")
        calls, agent = self.calls, session.agent
        body = _call_body(request)
        outcome = await self._call_work(
            lambda now: calls.agent_signal(agent, conversation_id, call_id, body, now)
        )
        await self._carry_out(outcome)
        return response.empty()

    async def _call_hangup(
        self, request: Request, conversation_id: str, call_id: str
    ) -> HTTPResponse:
        assert self.calls is not None
        calls = self.calls

        def hangup(agent: AgentRecord, body: Dict[str, Any], now: dt.datetime) -> Any:
            reason = calls_protocol.parse_reason(
                body, calls_protocol.AGENT_HANGUP_REASONS, calls_protocol.HUNG_UP
            )
            return calls.agent_hangup(agent, conversation_id, call_id, reason, now)

        return await self._call_step(request, conversation_id, "hangup", hangup)

    async def _call_step(
        self,
        request: Request,
        conversation_id: str,
        step: str,
        work: Callable[[AgentRecord, Dict[str, Any], dt.datetime], Any],
    ) -> HTTPResponse:
        """An agent's step in a call (accept, decline, hang up), answered with the call as
        it now stands: the session is checked before the body is read."""
        session = await self._call_session(request, conversation_id, step)
        agent, body = session.agent, _call_body(request)
        record, outcome = await self._call_work(lambda now: work(agent, body, now))
        await self._carry_out(outcome)
        return await self._call_answer(record, agent)

    async def _call_answer(self, record: Any, agent: AgentRecord) -> HTTPResponse:
        assert self.calls is not None
        now = utc_now()
        join_url = await asyncio.to_thread(self.calls.join_url_for_agent, record, now)
        return response.json({"call": call_json(record, agent.id, now, join_url)})

    # The webchat channel's CallObserver.

    async def customer_call_signal(self, session_id: str, sid: str, data: Dict[str, Any]) -> None:
        assert self.calls is not None
        calls = self.calls
        try:
            outcome = await asyncio.to_thread(
                calls.customer_signal, session_id, sid, data, utc_now()
            )
        except CallRefused as refused:  # logged by the service; the sender hears the code
            if self.webchat is not None:
                await self.webchat.emit_to_socket(
                    sid,
                    calls_protocol.CALL_EVENT,
                    calls_protocol.error(
                        refused.code,
                        refused.message,
                        refused.call_id,
                        calls_protocol.signal_type_of(data),
                    ),
                )
            return
        await self._carry_out(outcome)

    async def customer_socket_closed(self, session_id: str, sid: str) -> None:
        if self.calls is not None:
            calls = self.calls
            await self._run_calls(lambda now: calls.customer_socket_closed(session_id, sid, now))

    async def customer_session_started(self, session_id: str, sid: str) -> None:
        if self.calls is not None:
            calls = self.calls
            await self._run_calls(lambda now: calls.customer_session_started(session_id, sid, now))

    async def _run_calls(self, work: Callable[[dt.datetime], Outcome]) -> None:
        """A call use case that nobody asked for (drops, timers): failures are only logged."""
        try:
            outcome = await asyncio.to_thread(work, utc_now())
        except CallRefused:
            return
        except Exception:
            logger.exception("calls.failed")
            return
        await self._carry_out(outcome)

    async def _close_calls(self, conversation_id: str, actor: str) -> None:
        """The conversation left its agent: its live call ends and the widget hides the button."""
        if self.calls is None:
            return
        calls = self.calls
        await self._run_calls(
            lambda now: calls.conversation_closed(
                conversation_id, calls_protocol.CONVERSATION_CLOSED, actor, now
            )
        )
        if calls.enabled:
            await self._to_customer(
                conversation_id, calls_protocol.CALL_EVENT, calls_protocol.unavailable()
            )

    async def _end_call_of_other_agent(self, conversation_id: str, agent: AgentRecord) -> None:
        """A supervisor took the conversation over: the previous agent's call ends."""
        if self.calls is None:
            return
        calls = self.calls

        def end(now: dt.datetime) -> Outcome:
            live = calls.live_call(conversation_id)
            if live is None or live.agent_id == agent.id:
                return Outcome()
            return calls.conversation_closed(
                conversation_id, calls_protocol.AGENT_CHANGED, f"agent:{agent.id}", now
            )

        await self._run_calls(end)

    async def _tell_calls_available(self, conversation_id: str) -> None:
        provider = self.call_settings.provider
        if provider is not None and self.calls is not None and self.calls.enabled:
            await self._to_customer(
                conversation_id, calls_protocol.CALL_EVENT, calls_protocol.available(provider)
            )

    async def _carry_out(self, outcome: Outcome) -> None:
        """Deliver a call use case's outcome, in order (docs/calls.md 1.1)."""
        for delivery in outcome:
            try:
                if isinstance(delivery, ToCustomer):
                    if self.webchat is None:
                        continue
                    if delivery.sid is not None:
                        await self.webchat.emit_to_socket(
                            delivery.sid, calls_protocol.CALL_EVENT, delivery.signal
                        )
                    else:
                        await self.webchat.emit_to_conversation(
                            delivery.conversation_id,
                            calls_protocol.CALL_EVENT,
                            delivery.signal,
                            skip_sid=delivery.skip_sid,
                        )
                elif isinstance(delivery, ToAgent):
                    await self._to_consoles(
                        calls_protocol.console_event(
                            delivery.conversation_id, delivery.connection_id, delivery.signal
                        ),
                        agent_id=delivery.agent_id,
                    )
                elif isinstance(delivery, Notice):
                    await self._append_call_notice(delivery)
                elif isinstance(delivery, Changed):
                    assert self.service is not None
                    handoff = await asyncio.to_thread(
                        self.service.handoff_state, delivery.conversation_id
                    )
                    state = handoff.state if handoff is not None else "bot"
                    await self._changed(delivery.conversation_id, delivery.team, state, queue=False)
            except Exception:  # one failed delivery (a closed socket) must not stop the others
                logger.exception("calls.delivery.failed kind=%s", type(delivery).__name__)

    # --- live socket -------------------------------------------------------------------

    async def _live(self, request: Request, ws: Any) -> None:
        origin = request.headers.get("origin")
        if origin is not None and not _same_origin(origin, request.headers.get("host")):
            # Another site's page (a sibling subdomain shares the cookie's site) may not listen in.
            logger.warning("desk.live.refused reason=origin")
            await ws.send(
                json.dumps(
                    {"type": "error", "status": 403, "error": "This page may not open the desk."}
                )
            )
            await ws.close()
            return
        try:
            session = await self._session(request)
        except DeskError as error:
            await ws.send(
                json.dumps({"type": "error", "status": error.status, "error": error.message})
            )
            await ws.close()
            return
        token = request.cookies.get(COOKIE_NAME) or ""
        live_key = token_hash(token)
        self._live_sockets.setdefault(live_key, set()).add(ws)
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
                if isinstance(data, dict) and data.get("type") == "ping":
                    # The console pings every 25 s: the moment to notice a session that ended.
                    if await asyncio.to_thread(self.sessions.resolve, token, utc_now()) is None:
                        await _close_socket(ws, "Your session has expired; sign in again.")
                        break
                    connection.offer(json.dumps({"type": "pong"}))
        except asyncio.CancelledError:
            raise
        except Exception:  # the socket closed: the same as a clean close
            logger.info("desk.live.dropped agent=%s", session.agent.id)
        finally:
            sockets = self._live_sockets.get(live_key)
            if sockets is not None:
                sockets.discard(ws)
                if not sockets:
                    del self._live_sockets[live_key]
            if self.calls is not None:
                # A task, not awaited here: this handler may be cancelled while it closes,
                # and the grace-period logic below must run all the same.
                calls = self.calls
                agent_id = session.agent.id
                self._spawn(
                    self._run_calls(lambda now: calls.console_closed(agent_id, connection.id, now))
                )
            if self.connections.remove(connection):
                task = asyncio.get_running_loop().create_task(self._agent_gone(session.agent.id))
                # Kept to be cancelled at shutdown; forgotten once done.
                self._tasks.append(task)
                task.add_done_callback(self._forget_task)

    async def _agent_gone(self, agent_id: int) -> None:
        """The agent's last console closed: after the grace period, away and requeued."""
        assert self.directory is not None
        # Scheduling, not a test sleep: a console that reconnects in time keeps its chats.
        await asyncio.sleep(self.disconnect_grace_seconds)
        if self.connections.is_connected(agent_id):
            return
        agent = await asyncio.to_thread(self.directory.agent, agent_id)
        if agent is not None and agent.status == "online":
            await asyncio.to_thread(self.directory.set_status, agent_id, "away", utc_now())
        await self._requeue(agent_id, "agent disconnected")

    # --- helpers ----------------------------------------------------------------------

    async def _session(self, request: Request, write: bool = False) -> DeskSession:
        """The request's desk session (401 without one; 403 without CSRF on a write)."""
        assert self.sessions is not None
        sessions = self.sessions
        token = request.cookies.get(COOKIE_NAME)
        if not token:
            raise Unauthorized("Sign in first.")
        presented = request.headers.get(CSRF_HEADER)

        def resolve() -> DeskSession:
            session = sessions.resolve(token, utc_now())
            if session is None:
                raise Unauthorized("Your session has expired; sign in again.")
            if write and not session.csrf_matches(presented):
                raise Forbidden(f"Missing or wrong {CSRF_HEADER} header; reload the console.")
            return session

        session = await asyncio.to_thread(resolve)
        verdict = await self._per_agent.hit(f"agent:{session.agent.id}")
        if not verdict.allowed:
            raise TooManyAttempts(
                "Too many requests from your console; slow down for a moment.",
                verdict.retry_after_seconds,
            )
        # Only now may a handler read the body (see `_body`).
        request.ctx.desk_session = session
        return session

    async def _me_json(self, session: DeskSession) -> Dict[str, Any]:
        assert self.service is not None
        active = await asyncio.to_thread(self.service.active_chats, session.agent.id)
        return {
            "agent": session.agent.as_json(active),
            "csrf_token": session.csrf_token,
            "calls": {"provider": self.call_settings.provider},
        }

    async def _detail_json(self, agent: AgentRecord, conversation_id: str) -> Dict[str, Any]:
        assert self.service is not None and self.policy is not None
        handoff = await asyncio.to_thread(self.service.handoff, agent, conversation_id)
        history = await asyncio.to_thread(self.service.history, agent, conversation_id)
        events = await self._tracker_events(conversation_id)
        now = utc_now()
        detail = views.detail_json(
            handoff, self.policy, agent, views.transcript(events), history, now
        )
        detail["call"] = await self._call_of(agent, conversation_id, now)
        return detail

    async def _call_of(
        self, agent: AgentRecord, conversation_id: str, now: dt.datetime
    ) -> Dict[str, Any] | None:
        """The Detail's `call`: the live call, or the latest if it ended under a minute ago."""
        if self.calls is None:
            return None
        calls = self.calls

        def read() -> Dict[str, Any] | None:
            record = calls.store.latest_call(conversation_id)
            if record is None or not shown_in_detail(record, now):
                return None
            return call_json(record, agent.id, now, calls.join_url_for_agent(record, now))

        return await asyncio.to_thread(read)

    async def _tracker_events(self, conversation_id: str) -> List[Dict[str, Any]]:
        rasa_agent = self._rasa_agent()
        if rasa_agent is None or rasa_agent.tracker_store is None:
            return []
        # Under the lock: not between a turn's replies and its save.
        async with rasa_agent.lock_store.lock(
            conversation_id, wait_time_in_seconds=LOCK_POLL_SECONDS
        ):
            tracker = await rasa_agent.tracker_store.retrieve_full_tracker(conversation_id)
        if tracker is None:
            return []
        return [event.as_dict() for event in tracker.events]

    async def _write_agent_message(
        self, session: DeskSession, conversation_id: str, text: str
    ) -> Tuple[str, Dict[str, Any]]:
        """Into the tracker first, then to the widget: nothing shown is missing from the record.

        The hot path of a chat, in two trips to a worker thread: the session (checked
        by the caller before the conversation's lock, so a stranger never holds it),
        then, under the lock, the right to write and the message's INSERT into the tracker. Each
        trip back to the event loop waits behind whatever the loop is doing
        (parsing other customers' messages), so there are no more than these.

        Returns the conversation's team and the message as the console shows it.
        """
        assert self.service is not None and self.sessions is not None
        rasa_agent = self._rasa_agent()
        if rasa_agent is None or rasa_agent.tracker_store is None:
            raise DeskError("The assistant is still starting; try again in a moment.")
        service = self.service
        message_id = uuid.uuid4().hex

        def check() -> str:
            return service.check_can_write(session.agent, conversation_id)

        event = BotUttered(
            text,
            data={},
            metadata={
                METADATA_AGENT: {"id": session.agent.id, "name": session.agent.name},
                views.METADATA_MESSAGE_ID: message_id,
            },
        )
        team = await self._append_bot_event(
            conversation_id,
            event,
            {
                "text": text,
                "message_id": message_id,
                "baton": {"agent": {"name": session.agent.name}},
            },
            check,
        )
        return team, views.bot_message_json(event.as_dict())

    async def _append_bot_event(
        self,
        conversation_id: str,
        event: BotUttered,
        widget_message: Dict[str, Any],
        check: Callable[[], Any] | None = None,
    ) -> Any:
        """Append a bot utterance to the tracker under the conversation's lock, then show it.

        `check` runs in the same worker-thread trip, before the write (the right to
        write); its answer is returned. The widget gets the message inside the lock,
        so one conversation's messages reach it in tracker order.
        """
        rasa_agent = self._rasa_agent()
        if rasa_agent is None or rasa_agent.tracker_store is None:
            raise DeskError("The assistant is still starting; try again in a moment.")
        store = appendable_store(rasa_agent.tracker_store)

        def write() -> Any:
            answer = check() if check is not None else None
            if store is not None:
                store.append_events(conversation_id, [event])
            return answer

        async with rasa_agent.lock_store.lock(
            conversation_id, wait_time_in_seconds=LOCK_POLL_SECONDS
        ):
            answer = await asyncio.to_thread(write)
            if store is None:  # another tracker store: read the conversation, add, save
                tracker = await rasa_agent.tracker_store.retrieve(conversation_id)
                if tracker is None:
                    raise DeskError("This conversation has no transcript to write to.")
                tracker.update(event)
                await rasa_agent.tracker_store.save(tracker)
            await self._to_customer(conversation_id, "bot_uttered", widget_message)
        return answer

    async def _append_call_notice(self, notice: Notice) -> None:
        """A call's transcript line (docs/calls.md 1.3.3): tracker, widget, then the team's consoles."""
        event = BotUttered(notice.text, data={}, metadata=notice.metadata)
        widget_message = {
            "text": notice.text,
            "message_id": notice.metadata.get(views.METADATA_MESSAGE_ID),
            "baton": {"notice": "call", "call": notice.metadata.get(METADATA_CALL)},
        }
        await self._append_bot_event(notice.conversation_id, event, widget_message)
        await self._to_consoles(
            {
                "type": "message",
                "conversation_id": notice.conversation_id,
                "message": views.bot_message_json(event.as_dict()),
            },
            team=notice.team,
        )

    async def _resume_bot(self, conversation_id: str, intent: str) -> None:
        """Unpause the conversation and let the bot speak (CSAT, or "you're back")."""
        rasa_agent = self._rasa_agent()
        if rasa_agent is None or rasa_agent.processor is None or self.webchat is None:
            logger.warning("desk.resume.unavailable conversation=%s", _short(conversation_id))
            return
        output = self.webchat.get_output_channel()
        try:
            async with rasa_agent.lock_store.lock(
                conversation_id, wait_time_in_seconds=LOCK_POLL_SECONDS
            ):
                tracker = await rasa_agent.tracker_store.retrieve(conversation_id)
                if tracker is None:
                    return
                tracker.update(ConversationResumed())
                # Saves the tracker after the bot's turn.
                await rasa_agent.processor.trigger_external_user_uttered(
                    intent, None, tracker, output
                )
        except Exception:  # the ticket is closed either way; the bot just says nothing
            logger.exception("desk.resume.failed conversation=%s", _short(conversation_id))

    async def _requeue(self, agent_id: int, reason: str) -> None:
        assert self.service is not None
        conversations = await asyncio.to_thread(
            self.service.requeue_agent, agent_id, reason, utc_now()
        )
        if not conversations:
            return
        logger.info("desk.requeued agent=%s conversations=%d", agent_id, len(conversations))
        for conversation_id in conversations:
            await self._close_calls(conversation_id, "desk")
        await self._to_consoles({"type": "queue_changed"})
        for conversation_id in conversations:
            await self._tell_queue_position(conversation_id, force=True)
        await self._offer_waiting()

    async def _tell_queue_position(self, conversation_id: str, force: bool = False) -> None:
        """Tell a waiting customer their place in the queue and the expected wait.

        Only when it changed since they were last told, unless `force` (a new
        handoff, a transfer, a requeue: the customer must hear they are queued).
        """
        assert self.service is not None and self.policy is not None
        async with self._waiting_status:
            await self._tell_queue_position_now(conversation_id, force)

    async def _tell_queue_position_now(self, conversation_id: str, force: bool) -> None:
        assert self.service is not None and self.policy is not None
        handoff = await asyncio.to_thread(self.service.handoff_state, conversation_id)
        if handoff is None or handoff.state != "queued":
            return
        estimate = await asyncio.to_thread(
            queue_estimate, self._session_factory, handoff.reference, utc_now(), self.policy
        )
        team = (
            self.policy.config.team(handoff.team)
            if handoff.team in self.policy.config.team_keys
            else None
        )
        status = {
            "state": "queued",
            "position": estimate.position if estimate else None,
            "wait_minutes": estimate.wait_minutes if estimate else None,
            "team_name": team.name if team else handoff.team,
        }
        told = (status["position"], status["wait_minutes"], status["team_name"])
        if self._told.get(conversation_id) == told and not force:
            return
        self._told[conversation_id] = told
        await self._to_customer(conversation_id, "baton_status", status)

    async def _tell_waiting_customers(self) -> None:
        """The queue moved: every waiting customer whose place or wait changed hears it."""
        assert self.service is not None
        waiting = await asyncio.to_thread(self.service.waiting_conversations)
        for conversation_id in set(self._told) - set(waiting):
            del self._told[conversation_id]
        for conversation_id in waiting:
            await self._tell_queue_position(conversation_id)

    async def _offer_waiting(self) -> None:
        assert self.router is not None
        offers = await asyncio.to_thread(self.router.offer_waiting, utc_now())
        for offer in offers:
            await self._to_consoles(
                {
                    "type": "offer",
                    "conversation_id": offer.conversation_id,
                    "expires_at": views.iso(offer.expires_at),
                },
                agent_id=offer.agent_id,
            )
        if offers:
            await self._to_consoles({"type": "queue_changed"})

    async def _monitor(self) -> None:
        """Offers, re-offers and queue changes made elsewhere (the clock, other replicas)."""
        assert self.service is not None
        last_version: Any = None
        while True:
            try:
                if self.calls is not None:
                    await self._run_calls(self.calls.expire)
                await self._offer_waiting()
                if self.blocks is not None:  # blocks made on other replicas reach this one's widget
                    self.block_snapshot = await asyncio.to_thread(self.blocks.snapshot, utc_now())
                version = await asyncio.to_thread(self.service.queue_version)
                if last_version is not None and version != last_version:
                    await self._to_consoles({"type": "queue_changed"})
                    await self._tell_waiting_customers()
                last_version = version
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is down: try again at the next tick
                logger.exception("desk.monitor.failed")
            await asyncio.sleep(self.monitor_seconds)

    async def _changed(
        self, conversation_id: str, team: str, state: str, queue: bool = True
    ) -> None:
        event = {"type": "conversation_changed", "conversation_id": conversation_id, "state": state}
        await self._to_consoles(event, team=team)
        if queue:
            await self._to_consoles({"type": "queue_changed"}, team=team)

    async def _to_consoles(
        self, event: Dict[str, Any], team: str | None = None, agent_id: int | None = None
    ) -> None:
        await self.bus.publish(TOPIC_CONSOLES, {"event": event, "team": team, "agent_id": agent_id})

    async def _to_customer(self, conversation_id: str, event: str, data: Dict[str, Any]) -> None:
        if self.webchat is None:
            return
        await self.webchat.emit_to_conversation(conversation_id, event, data)

    def _rasa_agent(self) -> Any:
        return getattr(self._app.ctx, "agent", None) if self._app is not None else None

    def _spawn(self, work: Awaitable[Any]) -> None:
        """Run `work` in the background: kept to be cancelled at shutdown, forgotten once done."""
        task = asyncio.get_running_loop().create_task(work)  # type: ignore[arg-type]
        self._tasks.append(task)
        task.add_done_callback(self._forget_task)

    def _forget_task(self, task: asyncio.Task) -> None:
        if task in self._tasks:
            self._tasks.remove(task)


def _json_errors(
    handler: Callable[..., Awaitable[HTTPResponse]],
) -> Callable[..., Awaitable[HTTPResponse]]:
    async def wrapped(request: Request, **kwargs: Any) -> HTTPResponse:
        try:
            return await handler(request, **kwargs)
        except DeskError as error:
            answer = _error(error.status, error.message, getattr(error, "code", None))
            retry_after = getattr(error, "retry_after", None)
            if retry_after is not None:
                answer.headers["Retry-After"] = str(retry_after)
            return answer
        except Exception:
            logger.exception("desk.api.failed path=%s", request.path)
            return _error(500, "Something went wrong on our side; the error is in the server log.")

    wrapped.__name__ = handler.__name__
    return wrapped


def _body(request: Request, signed_in: bool = True) -> Dict[str, Any]:
    """The request's JSON object; read only after the session was checked (`_session`).

    Raises:
        RuntimeError: a handler reads a body before checking who sent it (a bug:
            a stranger's body must cost us nothing but its bounded bytes).
    """
    if signed_in and getattr(request.ctx, "desk_session", None) is None:
        raise RuntimeError("the desk read a body before checking the session")
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except ValueError as error:
        raise DeskError(f"The body is not valid JSON: {error}") from error
    if not isinstance(body, dict):
        raise DeskError("The body must be a JSON object.")
    if _holds_nul(body):
        # PostgreSQL cannot store a NUL in text: refused here, not a server error later.
        raise DeskError("Text may not contain NUL (\\u0000) characters.")
    return body


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def _call_body(request: Request) -> Dict[str, Any]:
    """A call request's JSON object; anything else is `malformed_payload` (422)."""
    try:
        return _body(request)
    except DeskError as error:
        raise CallError(
            CallRefused(calls_protocol.MALFORMED_PAYLOAD, "malformed", error.message)
        ) from None


def _text_field(body: Dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"'{name}' is required (a non-empty string).")
    return value.strip()


def _optional_text(body: Dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"'{name}' must be a string.")
    return value


def _metrics_query(request: Request, now: dt.datetime, team_keys: Sequence[str]) -> MetricsQuery:
    """`since`, `until` and `team` of a metrics request, checked; a 400 says what is wrong."""
    moments = {}
    for name, default in (("since", DEFAULT_METRICS_SINCE), ("until", None)):
        raw = (request.args.get(name) or "").strip()
        if not raw and default is None:
            moments[name] = now
            continue
        try:
            moments[name] = parse_moment(raw or default, now)
        except ValueError as error:
            raise DeskError(f"'{name}': {error}") from None
    since, until = moments["since"], moments["until"]
    if since >= until:
        raise DeskError(
            f"'since' ({since.isoformat()}) must be before 'until' ({until.isoformat()})."
        )
    if until - since > dt.timedelta(days=MAX_METRICS_DAYS):
        raise DeskError(
            f"The period is {(until - since).days} days; ask for at most {MAX_METRICS_DAYS} days at a time."
        )
    team = (request.args.get("team") or "").strip() or None
    if team is not None and team not in team_keys:
        raise DeskError(f"Unknown team {team!r}; known teams: {', '.join(team_keys)}.")
    return MetricsQuery(since=since, until=until, team=team)


def _file_moment(moment: dt.datetime) -> str:
    """A period bound in a file name: the date, and the time (no colons) when not midnight."""
    moment = moment.astimezone(dt.timezone.utc)
    if moment.time() == dt.time(0, 0):
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%dT%H%M")


def _directory_error(error: ValueError) -> DeskError:
    if isinstance(error, AgentExists):
        return Conflict(str(error))
    return InvalidRequest(str(error))


def _set_cookie(
    answer: HTTPResponse, name: str, value: str, path: str, max_age: int, secure: bool
) -> None:
    answer.cookies[name] = value
    answer.cookies[name]["httponly"] = True
    answer.cookies[name]["samesite"] = "Strict"
    answer.cookies[name]["path"] = path
    answer.cookies[name]["max-age"] = max(max_age, 0)
    if secure:  # over HTTPS, directly or through a trusted TLS proxy (bot.proxies)
        answer.cookies[name]["secure"] = True


def _same_origin(origin: str, host: str | None) -> bool:
    """Whether a browser's Origin header names this server (its Host), whatever the scheme."""
    _, separator, authority = origin.partition("://")
    return bool(separator) and host is not None and authority.lower() == host.strip().lower()


async def _close_socket(ws: Any, message: str) -> None:
    try:
        await ws.send(json.dumps({"type": "error", "status": 401, "error": message}))
        await ws.close()
    except Exception:  # already closed: nothing left to tell
        logger.debug("desk.live.close_failed")


def _device_secret(settings: Settings) -> bytes:
    """The key of the device cookies: derived from the JWT secret, so it outlives a restart."""
    if settings.jwt_secret:
        return hashlib.sha256(b"baton-desk-device\n" + settings.jwt_secret.encode()).digest()
    return secrets.token_bytes(32)  # no stable secret: devices are known until the restart


def _error(status: int, message: str, code: str | None = None) -> HTTPResponse:
    body = {"error": message}
    if code is not None:  # the call endpoints' machine-readable code (docs/calls.md 3.5)
        body["code"] = code
    return response.json(body, status=status)


def _short(conversation_id: str) -> str:
    """A conversation id as logs name it: a guest's full id is the bearer secret of their chat."""
    return f"{conversation_id[:8]}…"
