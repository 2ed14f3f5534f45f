"""The one place that carries out deliveries: to customers, to consoles, over the bus.

The use cases return what must happen next as data: a desk action's `NextStep`s
(bot.desk.next_steps) and a call use case's `Outcome` (bot.calls.service). The
`DeliveryExecutor` performs them in order. `Outlets` are the two ends it writes
to: the customer's widget (through the webchat channel) and the consoles
(through the event bus, so every replica's consoles hear it).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Dict, Iterable

from bot.calls import protocol as calls_protocol
from bot.calls.errors import CallRefused
from bot.calls.service import Changed, Notice, Outcome, ToAgent
from bot.calls.service import ToCustomer as CallToCustomer
from bot.desk import events
from bot.desk.next_steps import (
    CloseCalls,
    EndCustomerChat,
    NextStep,
    OfferWaiting,
    ResumeBot,
    TellQueuePosition,
    ToConsoles,
    ToCustomer,
    changed,
)
from bot.desk.relay import TOPIC_CONSOLES, EventBus
from bot.tickets.states import CONVERSATION_BOT
from connectors.desk.context import DeskParts, short, utc_now

logger = logging.getLogger("connectors.desk")


class Outlets:
    """Where deliveries go: the customer's widget and the consoles (all replicas')."""

    def __init__(self, bus: EventBus, webchat: Any) -> None:
        self.bus = bus
        # The webchat channel (connectors/webchat.py), None when it is not configured.
        self.webchat = webchat

    async def to_consoles(
        self, event: Dict[str, Any], team: str | None = None, agent_id: int | None = None
    ) -> None:
        await self.bus.publish(TOPIC_CONSOLES, {"event": event, "team": team, "agent_id": agent_id})

    async def to_customer(self, conversation_id: str, event: str, data: Dict[str, Any]) -> None:
        if self.webchat is None:
            return
        await self.webchat.emit_to_conversation(conversation_id, event, data)


class DeliveryExecutor:
    """Carries out next steps and call outcomes, in the order the use case gave them.

    Args:
        outlets: the widget and the consoles.
        parts: the desk's use cases (the call service, the desk service).
        tracker: the tracker writer (a call's notice, the bot resumed).
        queue: the queue watch (a customer's place, offers to agents).
    """

    def __init__(self, outlets: Outlets, parts: DeskParts, tracker: Any, queue: Any) -> None:
        self.outlets = outlets
        self.parts = parts
        self.tracker = tracker
        self.queue = queue

    async def carry_out(self, steps: Iterable[NextStep]) -> None:
        """A desk action's next steps; a failure stops the rest (the request answers 500)."""
        for step in steps:
            await self._step(step)

    async def _step(self, step: NextStep) -> None:
        if isinstance(step, ToConsoles):
            await self.outlets.to_consoles(step.event, team=step.team, agent_id=step.agent_id)
        elif isinstance(step, ToCustomer):
            await self.outlets.to_customer(step.conversation_id, step.event, step.data)
        elif isinstance(step, CloseCalls):
            await self.close_calls(step.conversation_id, step.actor)
        elif isinstance(step, EndCustomerChat):
            await self._end_customer_chat(step.conversation_id)
        elif isinstance(step, ResumeBot):
            await self.tracker.resume_bot(step.conversation_id, step.intent)
        elif isinstance(step, TellQueuePosition):
            await self.queue.tell_queue_position(step.conversation_id, force=step.force)
        elif isinstance(step, OfferWaiting):
            await self.queue.offer_waiting()
        else:  # a step this executor does not know: a bug, not a request's fault
            raise TypeError(f"unknown next step {step!r}")

    async def _end_customer_chat(self, conversation_id: str) -> None:
        webchat = self.outlets.webchat
        if webchat is None:
            return
        try:
            await webchat.end_conversation(conversation_id)
        except Exception:  # the block stands: the widget is turned away at its next message
            logger.exception(
                "desk.customer.block_notice_failed conversation=%s", short(conversation_id)
            )

    async def carry_out_calls(self, outcome: Outcome) -> None:
        """Deliver a call use case's outcome, in order (docs/calls.md 1.1)."""
        for delivery in outcome:
            try:
                await self._call_delivery(delivery)
            except Exception:  # one failed delivery (a closed socket) must not stop the others
                logger.exception("calls.delivery.failed kind=%s", type(delivery).__name__)

    async def _call_delivery(self, delivery: Any) -> None:
        if isinstance(delivery, CallToCustomer):
            webchat = self.outlets.webchat
            if webchat is None:
                return
            if delivery.sid is not None:
                await webchat.emit_to_socket(delivery.sid, events.CUSTOMER_CALL, delivery.signal)
            else:
                await webchat.emit_to_conversation(
                    delivery.conversation_id,
                    events.CUSTOMER_CALL,
                    delivery.signal,
                    skip_sid=delivery.skip_sid,
                )
        elif isinstance(delivery, ToAgent):
            await self.outlets.to_consoles(
                calls_protocol.console_event(
                    delivery.conversation_id, delivery.connection_id, delivery.signal
                ),
                agent_id=delivery.agent_id,
            )
        elif isinstance(delivery, Notice):
            await self.tracker.append_call_notice(delivery)
        elif isinstance(delivery, Changed):
            handoff = await asyncio.to_thread(
                self.parts.service.handoff_state, delivery.conversation_id
            )
            state = handoff.state if handoff is not None else CONVERSATION_BOT
            await self.carry_out(
                changed(delivery.conversation_id, delivery.team, state, queue=False)
            )

    async def run_calls(self, work: Callable[[Any], Outcome]) -> None:
        """A call use case that nobody asked for (drops, timers): failures are only logged."""
        try:
            outcome = await asyncio.to_thread(work, utc_now())
        except CallRefused:
            return
        except Exception:
            logger.exception("calls.failed")
            return
        await self.carry_out_calls(outcome)

    async def close_calls(self, conversation_id: str, actor: str) -> None:
        """The conversation left its agent: its live call ends and the widget hides the button."""
        calls = self.parts.calls
        await self.run_calls(
            lambda now: calls.conversation_closed(
                conversation_id, calls_protocol.CONVERSATION_CLOSED, actor, now
            )
        )
        if calls.enabled:
            await self.outlets.to_customer(
                conversation_id, events.CUSTOMER_CALL, calls_protocol.unavailable()
            )
