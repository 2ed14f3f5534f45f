"""The desk API of agents: sign-in and out, presence, teams, the agent list, the metrics.

Each handler authorises (connectors/desk/auth.py), calls a use case (bot.desk),
has its next steps carried out (connectors/desk/delivery.py) and renders JSON.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any, Dict, Tuple

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import audit
from bot.desk import next_steps
from bot.desk.records import DeskSession
from bot.desk.service import Forbidden, InvalidRequest
from bot.desk.signin import (
    DEVICE_COOKIE_DAYS,
    MAX_EMAIL_LENGTH,
    REFUSED_BUSY,
    SignInAttempt,
    SignInRefused,
)
from bot.metrics.csv_export import report_csv
from bot.metrics.kpis import MetricsQuery, compute_metrics
from bot.proxies import TrustedProxies
from bot.tickets.states import AGENT_OFFLINE, AGENT_ONLINE, AGENT_STATUSES
from connectors import http_guard
from connectors.desk import parsing
from connectors.desk.auth import (
    COOKIE_NAME,
    DEVICE_COOKIE_NAME,
    SessionCheck,
    session_token,
    set_cookie,
)
from connectors.desk.context import DeskParts, utc_now
from connectors.desk.delivery import DeliveryExecutor
from connectors.desk.errors import Busy, TooManyAttempts, Unauthorized, UnsupportedMediaType
from connectors.desk.parsing import JSON_CONTENT_TYPE

logger = logging.getLogger("connectors.desk")

# An admin's new agent, when the request leaves these out.
DEFAULT_LANGUAGES = ["en"]
DEFAULT_CAPACITY = 3
DEFAULT_ROLE = "agent"
ADMIN_ROLE = "admin"


async def requeue_agent(
    parts: DeskParts, executor: DeliveryExecutor, agent_id: int, reason: str
) -> None:
    """The agent left (signed out, offline, disconnected): their chats go back to the queue."""
    conversations = await asyncio.to_thread(
        parts.service.requeue_agent, agent_id, reason, utc_now()
    )
    if conversations:
        logger.info("desk.requeued agent=%s conversations=%d", agent_id, len(conversations))
    await executor.carry_out(next_steps.after_requeue(conversations))


class AgentsApi:
    """Args: parts, the session check, trusted proxies, the executor, the consoles' connections,
    and the live sockets (closed at sign-out)."""

    def __init__(
        self,
        parts: DeskParts,
        check: SessionCheck,
        proxies: TrustedProxies,
        executor: DeliveryExecutor,
        connections: Any,
        live: Any,
    ) -> None:
        self.parts = parts
        self.check = check
        self.proxies = proxies
        self.executor = executor
        self.connections = connections
        self.live = live

    async def login(self, request: Request) -> HTTPResponse:
        parts = self.parts
        # JSON only: a form post from another site (login CSRF) cannot send it.
        if not parsing.is_json(request):
            raise UnsupportedMediaType(f"Send the sign-in as {JSON_CONTENT_TYPE}.")
        body = parsing.body(request, signed_in=False)
        email = parsing.text_field(body, "email").lower()
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
            result = await parts.signin.sign_in(attempt, now)
        except SignInRefused as refused:
            logger.info("desk.login.refused reason=%s", refused.reason)
            if refused.reason == REFUSED_BUSY:
                raise Busy(refused.message, refused.retry_after) from None
            raise TooManyAttempts(refused.message, refused.retry_after) from None
        agent = result.agent
        if agent is None:
            raise Unauthorized("Wrong e-mail address or password.")
        if agent.status == AGENT_OFFLINE:
            # Signing in is coming to work: the router may offer conversations now.
            # (Someone who set themselves away stays away.)
            agent = await asyncio.to_thread(parts.directory.set_status, agent.id, AGENT_ONLINE, now)
        token, session = await asyncio.to_thread(parts.sessions.start, agent.id, now)
        answer = response.json(await self.me_json(session))
        secure = http_guard.is_https(request, self.proxies)
        set_cookie(
            answer,
            COOKIE_NAME,
            token,
            "/desk",
            int((session.expires_at - now).total_seconds()),
            secure,
        )
        if result.device_token is not None:
            set_cookie(
                answer,
                DEVICE_COOKIE_NAME,
                result.device_token,
                "/desk/api/login",
                DEVICE_COOKIE_DAYS * 86400,
                secure,
            )
        logger.info("desk.login agent=%s", agent.id)
        await self.executor.carry_out([next_steps.OfferWaiting()])
        return answer

    async def logout(self, request: Request) -> HTTPResponse:
        parts = self.parts
        session = await self.check(request, write=True)
        token = session_token(request)
        await asyncio.to_thread(parts.sessions.end, token)
        # Its live sockets end with it: a signed-out console hears nothing more.
        self.live.close_session(token or "", "You signed out.")
        await asyncio.to_thread(
            parts.audit_log.append,
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
        await asyncio.to_thread(
            parts.directory.set_status, session.agent.id, AGENT_OFFLINE, utc_now()
        )
        await requeue_agent(parts, self.executor, session.agent.id, "agent signed out")
        answer = response.empty()
        del answer.cookies[COOKIE_NAME]
        return answer

    async def me(self, request: Request) -> HTTPResponse:
        session = await self.check(request)
        return response.json(await self.me_json(session))

    async def me_json(self, session: DeskSession) -> Dict[str, Any]:
        active = await asyncio.to_thread(self.parts.service.active_chats, session.agent.id)
        return {
            "agent": session.agent.as_json(active),
            "csrf_token": session.csrf_token,
            "calls": {"provider": self.parts.call_settings.provider},
        }

    async def set_status(self, request: Request) -> HTTPResponse:
        parts = self.parts
        session = await self.check(request, write=True)
        status = parsing.text_field(parsing.body(request), "status")
        if status not in AGENT_STATUSES:
            raise InvalidRequest(f"Unknown status {status!r}; use online, away or offline.")
        agent = await asyncio.to_thread(
            parts.directory.set_status, session.agent.id, status, utc_now()
        )
        self.connections.update_agent(agent)
        if status == AGENT_OFFLINE:
            await requeue_agent(parts, self.executor, agent.id, "agent went offline")
        elif status == AGENT_ONLINE:
            await self.executor.carry_out([next_steps.OfferWaiting()])
        active = await asyncio.to_thread(parts.service.active_chats, agent.id)
        return response.json({"agent": agent.as_json(active)})

    async def teams(self, request: Request) -> HTTPResponse:
        await self.check(request)
        config = self.parts.policy.config
        teams = [{"key": key, "name": config.team(key).name} for key in config.team_keys]
        return response.json({"teams": teams})

    async def agents(self, request: Request) -> HTTPResponse:
        parts = self.parts
        session = await self.check(request)
        if not session.agent.sees_all_teams:
            raise Forbidden("Only supervisors and admins can list agents.")
        agents = await asyncio.to_thread(parts.directory.agents)
        listed = []
        for agent in agents:
            active = await asyncio.to_thread(parts.service.active_chats, agent.id)
            listed.append(agent.as_json(active))
        return response.json({"agents": listed})

    async def add_agent(self, request: Request) -> HTTPResponse:
        session = await self.check(request, write=True)
        if session.agent.role != ADMIN_ROLE:
            raise Forbidden("Only admins can add agents.")
        body = parsing.body(request)
        teams = body.get("teams") or []
        languages = body.get("languages") or DEFAULT_LANGUAGES
        capacity = body.get("capacity", DEFAULT_CAPACITY)
        if not isinstance(teams, list) or not all(isinstance(team, str) for team in teams):
            raise InvalidRequest("'teams' must be a list of team keys.")
        if not isinstance(languages, list) or not all(isinstance(code, str) for code in languages):
            raise InvalidRequest("'languages' must be a list of language codes.")
        if not isinstance(capacity, int) or isinstance(capacity, bool):
            raise InvalidRequest("'capacity' must be a whole number.")
        try:
            agent = await asyncio.to_thread(
                partial(
                    self.parts.directory.create_agent,
                    email=parsing.text_field(body, "email"),
                    name=parsing.text_field(body, "name"),
                    password=parsing.text_field(body, "password"),
                    role=body.get("role") or DEFAULT_ROLE,
                    teams=tuple(teams),
                    capacity=capacity,
                    languages=tuple(languages),
                    now=utc_now(),
                )
            )
        except ValueError as error:  # weak password, bad role, unknown team, duplicate
            raise parsing.directory_error(error) from error
        return response.json({"agent": agent.as_json()}, status=201)

    async def metrics(self, request: Request) -> HTTPResponse:
        report, _ = await self._metrics_report(request)
        return response.json(report)

    async def metrics_csv(self, request: Request) -> HTTPResponse:
        report, query = await self._metrics_report(request)
        since, until = parsing.file_moment(query.since), parsing.file_moment(query.until)
        return response.text(
            report_csv(report),
            content_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="baton-metrics-{since}-{until}.csv"'
            },
        )

    async def _metrics_report(self, request: Request) -> Tuple[Dict[str, Any], MetricsQuery]:
        """The report of GET /metrics(.csv) (docs/metrics.md): supervisors and admins only."""
        session = await self.check(request)
        if not session.agent.sees_all_teams:
            raise Forbidden("Only supervisors and admins can see the metrics.")
        now = utc_now()
        query = parsing.metrics_query(request, now, self.parts.policy.config.team_keys)
        report = await asyncio.to_thread(compute_metrics, self.parts.session_factory, query, now)
        return report.as_dict(), query
