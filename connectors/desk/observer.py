"""The customer's side, as the desk hears it: the webchat channel's `ConversationObserver`.

The webchat channel (connectors/webchat) tells the observer of every customer
message (before and after the bot parses it) and of the customer's typing. A
handed-off conversation's message is relayed to the team's consoles at once; a
message that hands a conversation off puts it in the queue.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Dict, Tuple

from bot.desk import events, next_steps, views
from bot.desk.service import DeskService
from bot.metrics.prometheus import CUSTOMER_TO_AGENT, observe_relay
from connectors.desk.context import short
from connectors.desk.delivery import DeliveryExecutor

logger = logging.getLogger("connectors.desk")


class CustomerObserver:
    """Relays customers' messages and typing to the consoles of the team that has them."""

    def __init__(self, service: DeskService, executor: DeliveryExecutor) -> None:
        self._service = service
        self._executor = executor
        # Each message's (conversation, team) when it came in handed off; None: with the bot.
        self._relayed: Dict[str, Tuple[str, str] | None] = {}

    async def before_customer_message(
        self, session_id: str, message_id: str, text: str, at: float
    ) -> None:
        live = await asyncio.to_thread(self._service.live_team, session_id)
        self._relayed[message_id] = live
        if live is None:
            return
        _, team = live
        message = {
            "id": message_id,
            "sender": events.SENDER_CUSTOMER,
            "text": text,
            "at": views.from_timestamp(at),
            "agent": None,
            "intent": None,
            "sentiment": None,
        }
        # Relayed before the bot parses it: the agent reads it at once; the
        # tracker (and so the console's next reload) gets it with its parse.
        await self._executor.outlets.to_consoles(
            events.console_message(session_id, message), team=team
        )
        observe_relay(CUSTOMER_TO_AGENT, time.time() - at)  # `at`: when its socket.io event came in

    async def after_customer_message(self, session_id: str, message_id: str) -> None:
        before = self._relayed.pop(message_id, None)
        if before is not None:
            return
        # Not handed off before this message: did it hand off now?
        live = await asyncio.to_thread(self._service.live_team, session_id)
        if live is None:
            return
        _, team = live
        logger.info("desk.handoff.queued conversation=%s team=%s", short(session_id), team)
        await self._executor.carry_out(next_steps.after_handoff(session_id, team))

    async def customer_typing(self, session_id: str, typing: bool) -> None:
        live = await asyncio.to_thread(self._service.live_team, session_id)
        if live is None:
            return
        await self._executor.outlets.to_consoles(
            events.console_typing(session_id, events.SENDER_CUSTOMER, typing), team=live[1]
        )
