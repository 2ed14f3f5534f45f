"""The desk API of conversations: the queue, a conversation's detail and what agents do to it.

Each handler authorises (connectors/desk/auth.py), calls the desk's use case
(bot.desk.service), hands what must follow (bot.desk.next_steps) to the executor
(connectors/desk/delivery.py) and answers with the conversation as it now stands.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Dict

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.desk import events, next_steps, views
from bot.desk.records import AgentRecord
from bot.desk.service import InvalidRequest
from bot.metrics.prometheus import AGENT_TO_CUSTOMER, observe_relay
from connectors.desk import parsing
from connectors.desk.auth import SessionCheck
from connectors.desk.calls_api import CallsApi
from connectors.desk.context import DeskParts, utc_now
from connectors.desk.delivery import DeliveryExecutor
from connectors.desk.queue import QueueWatch
from connectors.desk.tracker import TrackerWriter

MAX_AGENT_MESSAGE_LENGTH = 4000


class ConversationsApi:
    """Args: parts, the session check, the executor, the tracker writer, the queue watch
    (its lock orders "joined" after any place in the queue) and the calls API."""

    def __init__(
        self,
        parts: DeskParts,
        check: SessionCheck,
        executor: DeliveryExecutor,
        tracker: TrackerWriter,
        queue: QueueWatch,
        calls: CallsApi,
    ) -> None:
        self.parts = parts
        self.check = check
        self.executor = executor
        self.tracker = tracker
        self.queue_watch = queue
        self.calls = calls

    async def queue(self, request: Request) -> HTTPResponse:
        parts = self.parts
        session = await self.check(request)
        handoffs = await asyncio.to_thread(parts.service.queue, session.agent)
        now = utc_now()
        return response.json(
            {
                "conversations": [
                    views.summary_json(handoff, parts.policy, session.agent, None, now)
                    for handoff in handoffs
                ]
            }
        )

    async def detail(self, request: Request, conversation_id: str) -> HTTPResponse:
        session = await self.check(request)
        return response.json(await self.detail_json(session.agent, conversation_id))

    async def detail_json(self, agent: AgentRecord, conversation_id: str) -> Dict[str, Any]:
        service = self.parts.service
        handoff = await asyncio.to_thread(service.handoff, agent, conversation_id)
        history = await asyncio.to_thread(service.history, agent, conversation_id)
        tracker_events = await self.tracker.events(conversation_id)
        now = utc_now()
        detail = views.detail_json(
            handoff, self.parts.policy, agent, views.transcript(tracker_events), history, now
        )
        detail["call"] = await self.calls.call_of(agent, conversation_id, now)
        return detail

    async def accept(self, request: Request, conversation_id: str) -> HTTPResponse:
        session = await self.check(request, write=True)
        agent = session.agent
        async with self.queue_watch.status_lock:
            handoff = await asyncio.to_thread(
                self.parts.service.accept, agent, conversation_id, utc_now()
            )
            await self.calls.end_call_of_other_agent(conversation_id, agent)
            await self.executor.carry_out(
                [
                    next_steps.ToCustomer(
                        conversation_id, events.CUSTOMER_STATUS, events.agent_joined(agent.name)
                    )
                ]
            )
            await self.calls.tell_calls_available(conversation_id)
        await self.executor.carry_out(
            next_steps.changed(conversation_id, handoff.team, handoff.state)
        )
        return response.json(await self.detail_json(agent, conversation_id))

    async def send_message(self, request: Request, conversation_id: str) -> HTTPResponse:
        received = time.monotonic()
        session = await self.check(request, write=True)
        text = parsing.text_field(parsing.body(request), "text")
        if len(text) > MAX_AGENT_MESSAGE_LENGTH:
            raise InvalidRequest(
                f"A message is at most {MAX_AGENT_MESSAGE_LENGTH} characters "
                f"(this one: {len(text)})."
            )
        team, message = await self.tracker.write_agent_message(session, conversation_id, text)
        observe_relay(AGENT_TO_CUSTOMER, time.monotonic() - received)  # on the widget's socket now
        await self.executor.carry_out(
            [next_steps.ToConsoles(events.console_message(conversation_id, message), team)]
        )
        return response.json({"message": message}, status=201)

    async def agent_typing(self, request: Request, conversation_id: str) -> HTTPResponse:
        session = await self.check(request, write=True)
        typing = parsing.body(request).get("typing")
        if not isinstance(typing, bool):
            raise InvalidRequest('Send {"typing": true} or {"typing": false}.')
        await asyncio.to_thread(self.parts.service.check_can_write, session.agent, conversation_id)
        await self.executor.carry_out(
            [
                next_steps.ToCustomer(
                    conversation_id,
                    events.CUSTOMER_TYPING,
                    events.agent_typing(typing, session.agent.name),
                )
            ]
        )
        return response.empty()

    async def add_note(self, request: Request, conversation_id: str) -> HTTPResponse:
        service = self.parts.service
        session = await self.check(request, write=True)
        text = parsing.text_field(parsing.body(request), "text")
        note = await asyncio.to_thread(
            service.add_note, session.agent, conversation_id, text, utc_now()
        )
        handoff = await asyncio.to_thread(service.handoff, session.agent, conversation_id)
        await self.executor.carry_out(next_steps.after_note(handoff))
        return response.json({"note": views.note_json(note)}, status=201)

    async def transfer(self, request: Request, conversation_id: str) -> HTTPResponse:
        service = self.parts.service
        session = await self.check(request, write=True)
        body = parsing.body(request)
        before = await asyncio.to_thread(service.handoff, session.agent, conversation_id)
        handoff = await asyncio.to_thread(
            service.transfer,
            session.agent,
            conversation_id,
            parsing.text_field(body, "team"),
            parsing.optional_text(body, "reason"),
            utc_now(),
        )
        await self.executor.carry_out(next_steps.after_transfer(before, handoff, session.agent.id))
        return response.json(await self.detail_json(session.agent, conversation_id))

    async def escalate(self, request: Request, conversation_id: str) -> HTTPResponse:
        service = self.parts.service
        session = await self.check(request, write=True)
        before = await asyncio.to_thread(service.handoff, session.agent, conversation_id)
        handoff = await asyncio.to_thread(
            service.escalate,
            session.agent,
            conversation_id,
            parsing.optional_text(parsing.body(request), "reason"),
            utc_now(),
        )
        await self.executor.carry_out(next_steps.after_escalate(before, handoff, session.agent.id))
        return response.json(await self.detail_json(session.agent, conversation_id))

    async def resolve(self, request: Request, conversation_id: str) -> HTTPResponse:
        session = await self.check(request, write=True)
        agent = session.agent
        handoff = await asyncio.to_thread(
            self.parts.service.resolve,
            agent,
            conversation_id,
            parsing.optional_text(parsing.body(request), "reason"),
            utc_now(),
        )
        await self.executor.carry_out(next_steps.after_resolve(handoff, agent.id, agent.name))
        return response.json(await self.detail_json(agent, conversation_id))

    async def return_to_bot(self, request: Request, conversation_id: str) -> HTTPResponse:
        session = await self.check(request, write=True)
        agent = session.agent
        handoff = await asyncio.to_thread(
            self.parts.service.return_to_bot,
            agent,
            conversation_id,
            parsing.optional_text(parsing.body(request), "reason"),
            utc_now(),
        )
        await self.executor.carry_out(next_steps.after_return_to_bot(handoff, agent.id))
        return response.json(await self.detail_json(agent, conversation_id))
