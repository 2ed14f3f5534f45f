"""The queue as waiting people see it: each customer's place and wait, and offers to agents.

A waiting customer hears their place in the queue and the expected wait when
they join it and whenever either changes; the router's offers reach the chosen
agent's consoles. The monitor loop (connectors/desk/channel.py) calls these
every tick for changes made elsewhere (the escalation clock, other replicas).
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Tuple

from bot.desk import events, views
from bot.desk.availability import queue_estimate
from bot.tickets.states import CONVERSATION_QUEUED
from connectors.desk.context import DeskParts, utc_now
from connectors.desk.delivery import Outlets


class QueueWatch:
    """Tells waiting customers where they stand and agents what is offered to them."""

    def __init__(self, parts: DeskParts, outlets: Outlets) -> None:
        self._parts = parts
        self._outlets = outlets
        # What each waiting customer was last told (position, wait), to tell only changes.
        self._told: Dict[str, Tuple[Any, Any, str]] = {}
        # Held from reading a conversation's state to telling the customer about it,
        # and by an accept until "joined" is sent: a place in the queue computed just
        # before an accept must not reach the widget after "<agent> joined".
        self.status_lock = asyncio.Lock()

    async def tell_queue_position(self, conversation_id: str, force: bool = False) -> None:
        """Tell a waiting customer their place in the queue and the expected wait.

        Only when it changed since they were last told, unless `force` (a new
        handoff, a transfer, a requeue: the customer must hear they are queued).
        """
        async with self.status_lock:
            await self._tell_queue_position_now(conversation_id, force)

    async def _tell_queue_position_now(self, conversation_id: str, force: bool) -> None:
        parts = self._parts
        handoff = await asyncio.to_thread(parts.service.handoff_state, conversation_id)
        if handoff is None or handoff.state != CONVERSATION_QUEUED:
            return
        estimate = await asyncio.to_thread(
            queue_estimate, parts.session_factory, handoff.reference, utc_now(), parts.policy
        )
        config = parts.policy.config
        team = config.team(handoff.team) if handoff.team in config.team_keys else None
        status = events.queued(
            position=estimate.position if estimate else None,
            wait_minutes=estimate.wait_minutes if estimate else None,
            team_name=team.name if team else handoff.team,
        )
        told = (status["position"], status["wait_minutes"], status["team_name"])
        if self._told.get(conversation_id) == told and not force:
            return
        self._told[conversation_id] = told
        await self._outlets.to_customer(conversation_id, events.CUSTOMER_STATUS, status)

    async def tell_waiting_customers(self) -> None:
        """The queue moved: every waiting customer whose place or wait changed hears it."""
        waiting = await asyncio.to_thread(self._parts.service.waiting_conversations)
        for conversation_id in set(self._told) - set(waiting):
            del self._told[conversation_id]
        for conversation_id in waiting:
            await self.tell_queue_position(conversation_id)

    async def offer_waiting(self) -> None:
        """Offer waiting conversations to free agents; their consoles hear the offer."""
        offers = await asyncio.to_thread(self._parts.router.offer_waiting, utc_now())
        for offer in offers:
            await self._outlets.to_consoles(
                events.offer(offer.conversation_id, views.iso(offer.expires_at)),
                agent_id=offer.agent_id,
            )
        if offers:
            await self._outlets.to_consoles(events.queue_changed())
