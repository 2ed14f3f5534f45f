"""Customer messages and typing signals in: checked, budgeted, ordered, handed to Rasa.

- bad input (empty, too long, malformed) is refused with a clear message and logged;
  NUL characters are dropped (PostgreSQL cannot store them);
- a message starting with `/` is an intent payload only when it is one of the
  buttons of the bot's latest message (`connectors.payloads`) or a configured
  init payload; any other is read by the NLU as text, so nobody types `/restart`
  or sets a slot;
- each user message gets a server-issued id (kept in the tracker), and one
  conversation's messages are handled one after the other, in arrival order;
- the observer (the agent desk) hears about every message and typing signal;
- a full NLU queue (`PoolBusy`) is answered "busy, send it again", not queued.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any, Awaitable, Callable, Dict, FrozenSet

from rasa.core.channels.channel import UserMessage
from socketio import AsyncServer

from bot import customer_notices
from bot.constants import (
    INTENT_HANDOFF_RESOLVED,
    INTENT_HANDOFF_RETURNED,
    METADATA_CHANNEL,
    METADATA_CUSTOMER_ID,
    METADATA_CUSTOMER_TOKEN,
    WEBCHAT_CHANNEL,
)
from bot.limits.interface import Verdict
from bot.limits.pool import PoolBusy
from bot.settings import Settings
from connectors.payloads import ButtonPayloads, is_intent_shaped, latest_buttons_in, neutral_text
from connectors.webchat.budgets import ChannelBudgets
from connectors.webchat.conversations import RasaConversations
from connectors.webchat.observers import Listeners
from connectors.webchat.ordering import SessionOrder
from connectors.webchat.output import WebchatOutput
from connectors.webchat.protocol import (
    BOT_MESSAGE_EVENT,
    ERROR_BUSY,
    ERROR_MALFORMED_PAYLOAD,
    ERROR_NO_SESSION,
    ERROR_TOO_MANY_PENDING,
    NOTICE_INTERNAL_ERROR,
    NOTICE_MESSAGE_TOO_LONG,
)
from connectors.webchat.refusals import Refusals
from connectors.webchat.sessions import CustomerSessions
from connectors.webchat.sockets import short

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

# Intents only the agent desk may trigger: typed as a `/intent` payload they would
# let a customer close their own handoff. Defence in depth: such a text is never a
# button's payload, so it would reach the NLU as words anyway. Rasa strips the
# intent name (`/ handoff_resolved` is the intent too), so spaces are allowed here.
DESK_ONLY_INTENTS = (INTENT_HANDOFF_RESOLVED, INTENT_HANDOFF_RETURNED)
DESK_ONLY_PAYLOAD = re.compile(rf"^/\s*({'|'.join(DESK_ONLY_INTENTS)})(?![\w-])")
# When a customer refused for a full NLU queue may send again.
NLU_BUSY_RETRY_SECONDS = 2.0


class MessageIntake:
    """`user_uttered` and `baton_typing` from the widget."""

    def __init__(
        self,
        sio: AsyncServer,
        settings: Settings,
        budgets: ChannelBudgets,
        refusals: Refusals,
        sessions: CustomerSessions,
        listeners: Listeners,
        conversations: RasaConversations,
        payloads: ButtonPayloads,
        init_payloads: FrozenSet[str],
        max_queued_messages: int,
    ) -> None:
        self.sio = sio
        self.settings = settings
        self._budgets = budgets
        self._refusals = refusals
        self._sessions = sessions
        self._listeners = listeners
        self._conversations = conversations
        self._payloads = payloads
        self._init_payloads = init_payloads
        self._order = SessionOrder(max_queued_messages)

    async def user_message(self, sid: str, data: Any, on_new_message: OnNewMessage) -> None:
        """A customer's message: checked, then handled in its conversation's turn."""
        received = time.time()  # the relay's latency (bot.metrics.prometheus) counts from here
        state = await self.sio.get_session(sid)
        verdict = await self._budgets.messages.spend(sid, state.get("address"))
        if not verdict.allowed:
            await self._refusals.refuse_message(sid, verdict)
            return
        if not isinstance(data, dict) or not isinstance(data.get("message"), str):
            await self._refusals.reject(
                sid, ERROR_MALFORMED_PAYLOAD, "user_uttered needs a text 'message'"
            )
            return
        session_id = state.get("session_id")
        if not session_id:
            await self._refusals.reject(sid, ERROR_NO_SESSION, "send session_request first")
            return
        if self._listeners.blocked(session_id, state.get("address")):
            await self._refusals.turn_away(sid)
            return
        claimed = data.get("session_id")
        if claimed is not None and claimed != session_id:
            await self._refusals.reject(
                sid, ERROR_MALFORMED_PAYLOAD, "session_id does not match this socket's session"
            )
            return

        # PostgreSQL cannot store a NUL in text; it is never part of what a person types.
        text = data["message"].replace("\x00", "").strip()
        if not text:
            return
        if DESK_ONLY_PAYLOAD.match(text):
            await self._refusals.reject(
                sid, ERROR_MALFORMED_PAYLOAD, "that intent is reserved for the agent desk"
            )
            return
        limit = self.settings.max_message_length
        if len(text) > limit:
            await self.sio.emit(
                BOT_MESSAGE_EVENT,
                {
                    "text": customer_notices.message_too_long(len(text), limit),
                    "baton": {"notice": NOTICE_MESSAGE_TOO_LONG},
                },
                room=sid,
            )
            return

        await self._sessions.adopt_token_from_message(sid, state, data)
        metadata: Dict[str, Any] = {METADATA_CHANNEL: WEBCHAT_CHANNEL}
        if state.get("customer_id"):
            metadata[METADATA_CUSTOMER_ID] = state["customer_id"]
            metadata[METADATA_CUSTOMER_TOKEN] = state["token"]
        message = UserMessage(
            text,
            WebchatOutput(self.sio, self._payloads),
            session_id,
            input_channel=WEBCHAT_CHANNEL,
            message_id=uuid.uuid4().hex,
            metadata=metadata,
        )
        queued = await self._order.run(
            session_id, lambda: self._process(sid, message, on_new_message, received)
        )
        if not queued:
            logger.info("webchat.message.queue_full sid=%s session=%s", sid, short(session_id))
            await self._refusals.refuse_message(sid, Verdict(False, 1.0), ERROR_TOO_MANY_PENDING)

    async def typing(self, sid: str, data: Any) -> None:
        """A typing signal, relayed to the observer."""
        state = await self.sio.get_session(sid)
        verdict = await self._budgets.typing.spend(sid, state.get("address"))
        if not verdict.allowed:
            await self._refusals.refuse(sid, verdict, "typing signals")
            return
        if not isinstance(data, dict) or not isinstance(data.get("typing"), bool):
            await self._refusals.reject(
                sid, ERROR_MALFORMED_PAYLOAD, "baton_typing needs a boolean 'typing'"
            )
            return
        session_id = state.get("session_id")
        observer = self._listeners.observer
        if not session_id or observer is None:
            return
        try:
            await observer.customer_typing(session_id, data["typing"])
        except Exception:
            logger.exception("webchat.observer.failed session=%s", short(session_id))

    async def _process(
        self, sid: str, message: UserMessage, on_new_message: OnNewMessage, received: float
    ) -> None:
        session_id = message.sender_id
        observer = self._listeners.observer
        if observer is not None:
            try:
                await observer.before_customer_message(
                    session_id, message.message_id, message.text, received
                )
            except Exception:  # the desk being down must not silence the bot
                logger.exception("webchat.observer.failed session=%s", short(session_id))
        try:
            # In the conversation's order: the buttons checked are those the
            # customer saw when they sent it, after every earlier reply.
            if is_intent_shaped(message.text) and not await self._is_offered_payload(
                session_id, message.text
            ):
                await self._read_as_text(message)
            self._payloads.customer_sent(session_id)
            await on_new_message(message)
        except PoolBusy:  # the NLU's queue is full (a flood): nothing was read or stored
            logger.warning("webchat.message.nlu_busy session=%s", short(session_id))
            await self._refusals.refuse_message(
                sid, Verdict(False, NLU_BUSY_RETRY_SECONDS), ERROR_BUSY
            )
        except Exception:  # a failing turn must not take the socket down
            logger.exception("webchat.message.failed session=%s", short(session_id))
            await self.sio.emit(
                BOT_MESSAGE_EVENT,
                {
                    "text": customer_notices.INTERNAL_ERROR_TEXT,
                    "baton": {"notice": NOTICE_INTERNAL_ERROR},
                },
                room=sid,
            )
        if observer is not None:
            try:
                await observer.after_customer_message(session_id, message.message_id)
            except Exception:
                logger.exception("webchat.observer.failed session=%s", short(session_id))

    async def _is_offered_payload(self, session_id: str, text: str) -> bool:
        """Whether `text` is a payload the customer may send now (a button of the last message)."""
        if text in self._init_payloads:
            return True
        offered = self._payloads.get(session_id)
        if offered is None:
            # Not known here (a restarted server, another replica): the tracker
            # holds the latest bot message and its buttons.
            try:
                events = await self._conversations.events(session_id)
            except Exception:  # unknown, so not offered: the text is read as words
                logger.exception("webchat.payloads.read_failed session=%s", short(session_id))
                return False
            offered = latest_buttons_in(events or [])
            self._payloads.remember(session_id, offered)
        return text in offered

    async def _read_as_text(self, message: UserMessage) -> None:
        """Make Rasa read a typed `/…` message as words, keeping the text the customer typed.

        The NLU parses a neutral form of the text (`connectors.payloads.neutral_text`)
        and Rasa takes that parse as given (`UserMessage.parse_data`), so the
        tracker, the transcript and the desk show exactly what was typed.
        """
        processor = getattr(self._conversations.agent(), "processor", None)
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
        logger.info("webchat.payload.read_as_text session=%s", short(message.sender_id))
