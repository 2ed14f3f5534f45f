"""Video calls and screen shares at the desk (docs/calls.md): the API and the customer's signals.

The use cases are `bot.calls.service.CallService`; this module authorises, runs
them off the event loop and hands their `Outcome` to the executor. It is also the
webchat channel's `CallObserver`: the customer's `baton_call` signals and socket
drops come here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, Callable, Dict

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import audit
from bot.calls import protocol as calls_protocol
from bot.calls.errors import CallRefused
from bot.calls.records import call_json, shown_in_detail
from bot.calls.service import Outcome
from bot.desk import events
from bot.desk.records import AgentRecord, DeskSession
from bot.desk.service import DeskError, Forbidden
from connectors.desk import parsing
from connectors.desk.auth import SessionCheck
from connectors.desk.context import DeskParts, utc_now
from connectors.desk.delivery import DeliveryExecutor
from connectors.desk.errors import CallError

logger = logging.getLogger("connectors.desk")

# An agent's step in a call: (the agent, the request's body, now) -> (the call, its outcome).
CallStep = Callable[[AgentRecord, Dict[str, Any], dt.datetime], Any]


class CallsApi:
    """Args: parts (the call service), the session check and the executor."""

    def __init__(self, parts: DeskParts, check: SessionCheck, executor: DeliveryExecutor) -> None:
        self.parts = parts
        self.calls = parts.calls
        self.check = check
        self.executor = executor

    # --- the agent's requests ------------------------------------------------------------

    async def _session(
        self, request: Request, conversation_id: str, signal_type: str
    ) -> DeskSession:
        """The session of a call request; 401/403 as everywhere, and a `calls.rejected` line."""
        try:
            return await self.check(request, write=True)
        except DeskError as error:
            reason = "csrf" if isinstance(error, Forbidden) else "no_session"
            logger.warning(
                "calls.rejected side=agent code=%s reason=%s type=%s call=- "
                "conversation=%s agent=-",
                "no_session" if reason == "no_session" else "not_allowed",
                reason,
                signal_type,
                f"{conversation_id[:8]}…",
            )
            raise

    async def _work(self, work: Callable[[dt.datetime], Any]) -> Any:
        """One trip to a worker thread for a call use case; CallRefused becomes an API error."""
        try:
            return await asyncio.to_thread(work, utc_now())
        except CallRefused as refused:
            raise CallError(refused) from None

    async def invite(self, request: Request, conversation_id: str) -> HTTPResponse:
        session = await self._session(request, conversation_id, "invite")
        calls, agent = self.calls, session.agent
        body = parsing.call_body(request)

        def invite(now: dt.datetime) -> Any:
            media = calls_protocol.parse_media(body)
            connection_id = calls_protocol.parse_connection_id(body)
            return calls.invite(agent, conversation_id, media, connection_id, now)

        record, outcome = await self._work(invite)
        await self.executor.carry_out_calls(outcome)
        return response.json({"call": call_json(record, agent.id, utc_now())}, status=201)

    async def accept(self, request: Request, conversation_id: str, call_id: str) -> HTTPResponse:
        calls = self.calls

        def accept(agent: AgentRecord, body: Dict[str, Any], now: dt.datetime) -> Any:
            connection_id = calls_protocol.parse_connection_id(body)
            return calls.agent_accept(agent, conversation_id, call_id, connection_id, now)

        return await self._step(request, conversation_id, "accept", accept)

    async def decline(self, request: Request, conversation_id: str, call_id: str) -> HTTPResponse:
        calls = self.calls

        def decline(agent: AgentRecord, body: Dict[str, Any], now: dt.datetime) -> Any:
            reason = calls_protocol.parse_reason(
                body, calls_protocol.DECLINE_REASONS, calls_protocol.DECLINED
            )
            return calls.agent_decline(agent, conversation_id, call_id, reason, now)

        return await self._step(request, conversation_id, "decline", decline)

    async def signal(self, request: Request, conversation_id: str, call_id: str) -> HTTPResponse:
        session = await self._session(request, conversation_id, "signal")
        calls, agent = self.calls, session.agent
        body = parsing.call_body(request)
        outcome = await self._work(
            lambda now: calls.agent_signal(agent, conversation_id, call_id, body, now)
        )
        await self.executor.carry_out_calls(outcome)
        return response.empty()

    async def hangup(self, request: Request, conversation_id: str, call_id: str) -> HTTPResponse:
        calls = self.calls

        def hangup(agent: AgentRecord, body: Dict[str, Any], now: dt.datetime) -> Any:
            reason = calls_protocol.parse_reason(
                body, calls_protocol.AGENT_HANGUP_REASONS, calls_protocol.HUNG_UP
            )
            return calls.agent_hangup(agent, conversation_id, call_id, reason, now)

        return await self._step(request, conversation_id, "hangup", hangup)

    async def _step(
        self, request: Request, conversation_id: str, step: str, work: CallStep
    ) -> HTTPResponse:
        """An agent's step in a call (accept, decline, hang up), answered with the call as
        it now stands: the session is checked before the body is read."""
        session = await self._session(request, conversation_id, step)
        agent, body = session.agent, parsing.call_body(request)
        record, outcome = await self._work(lambda now: work(agent, body, now))
        await self.executor.carry_out_calls(outcome)
        now = utc_now()
        join_url = await asyncio.to_thread(self.calls.join_url_for_agent, record, now)
        return response.json({"call": call_json(record, agent.id, now, join_url)})

    # --- the customer's side (the webchat channel's CallObserver) -------------------------

    async def customer_call_signal(self, session_id: str, sid: str, data: Dict[str, Any]) -> None:
        calls = self.calls
        try:
            outcome = await asyncio.to_thread(
                calls.customer_signal, session_id, sid, data, utc_now()
            )
        except CallRefused as refused:  # logged by the service; the sender hears the code
            webchat = self.executor.outlets.webchat
            if webchat is not None:
                await webchat.emit_to_socket(
                    sid,
                    events.CUSTOMER_CALL,
                    calls_protocol.error(
                        refused.code,
                        refused.message,
                        refused.call_id,
                        calls_protocol.signal_type_of(data),
                    ),
                )
            return
        await self.executor.carry_out_calls(outcome)

    async def customer_socket_closed(self, session_id: str, sid: str) -> None:
        calls = self.calls
        await self.executor.run_calls(
            lambda now: calls.customer_socket_closed(session_id, sid, now)
        )

    async def customer_session_started(self, session_id: str, sid: str) -> None:
        calls = self.calls
        await self.executor.run_calls(
            lambda now: calls.customer_session_started(session_id, sid, now)
        )

    # --- what other desk actions need of calls ---------------------------------------------

    async def end_call_of_other_agent(self, conversation_id: str, agent: AgentRecord) -> None:
        """A supervisor took the conversation over: the previous agent's call ends."""
        calls = self.calls

        def end(now: dt.datetime) -> Outcome:
            live = calls.live_call(conversation_id)
            if live is None or live.agent_id == agent.id:
                return Outcome()
            return calls.conversation_closed(
                conversation_id, calls_protocol.AGENT_CHANGED, audit.agent_actor(agent.id), now
            )

        await self.executor.run_calls(end)

    async def tell_calls_available(self, conversation_id: str) -> None:
        """An agent joined: the widget shows the call button (when calls are on)."""
        provider = self.parts.call_settings.provider
        if provider is not None and self.calls.enabled:
            await self.executor.outlets.to_customer(
                conversation_id, events.CUSTOMER_CALL, calls_protocol.available(provider)
            )

    async def call_of(
        self, agent: AgentRecord, conversation_id: str, now: dt.datetime
    ) -> Dict[str, Any] | None:
        """The Detail's `call`: the live call, or the latest if it ended under a minute ago."""
        calls = self.calls

        def read() -> Dict[str, Any] | None:
            record = calls.store.latest_call(conversation_id)
            if record is None or not shown_in_detail(record, now):
                return None
            return call_json(record, agent.id, now, calls.join_url_for_agent(record, now))

        return await asyncio.to_thread(read)
