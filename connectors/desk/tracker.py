"""Rasa's tracker, the one transcript: read and written by the desk under its lock.

An agent's message is a bot utterance whose metadata names the agent; a call's
notice is one whose metadata names the call. Each is appended under the
conversation's lock (Rasa's lock store), so an agent's write and a customer's
turn never interleave, and reaches the widget inside that lock, so one
conversation's messages arrive in tracker order. Resolving or returning a
conversation resumes it and lets the bot take its turn (`resume_bot`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any, Callable, Dict, List, Tuple

from rasa.shared.core.events import BotUttered, ConversationResumed
from sanic import Sanic

from bot.calls.service import Notice
from bot.constants import METADATA_AGENT, METADATA_CALL
from bot.desk import events, views
from bot.desk.records import DeskSession
from bot.desk.service import DeskError, DeskService
from connectors.desk.context import short
from connectors.desk.delivery import Outlets
from connectors.tracker_store import appendable_store

logger = logging.getLogger("connectors.desk")

# How long an agent's write waits between tries for the conversation's lock (Rasa's
# default is a second, far too long for a chat; the customer's turn holds it briefly).
LOCK_POLL_SECONDS = 0.01


class TrackerWriter:
    """Reads and writes conversations' trackers in the Rasa agent of `app`.

    Args:
        app: the Rasa server's Sanic app (its `ctx.agent` is loaded at start-up).
        service: the desk's use cases (the right to write).
        outlets: the widget and the consoles.
    """

    def __init__(self, app: Sanic, service: DeskService, outlets: Outlets) -> None:
        self._app = app
        self._service = service
        self._outlets = outlets

    def _rasa_agent(self) -> Any:
        return getattr(self._app.ctx, "agent", None)

    async def events(self, conversation_id: str) -> List[Dict[str, Any]]:
        """The conversation's tracker events as dicts (none before the model is loaded)."""
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

    async def write_agent_message(
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
        rasa_agent = self._rasa_agent()
        if rasa_agent is None or rasa_agent.tracker_store is None:
            raise DeskError("The assistant is still starting; try again in a moment.")
        service = self._service
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
        team = await self.append_bot_event(
            conversation_id,
            event,
            events.agent_message(text, message_id, session.agent.name),
            check,
        )
        return team, views.bot_message_json(event.as_dict())

    async def append_bot_event(
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
            await self._outlets.to_customer(
                conversation_id, events.CUSTOMER_BOT_MESSAGE, widget_message
            )
        return answer

    async def append_call_notice(self, notice: Notice) -> None:
        """A call's transcript line (docs/calls.md 1.3.3): tracker, widget, then the consoles."""
        event = BotUttered(notice.text, data={}, metadata=notice.metadata)
        widget_message = events.call_notice(
            notice.text,
            notice.metadata.get(views.METADATA_MESSAGE_ID),
            notice.metadata.get(METADATA_CALL),
        )
        await self.append_bot_event(notice.conversation_id, event, widget_message)
        await self._outlets.to_consoles(
            events.console_message(notice.conversation_id, views.bot_message_json(event.as_dict())),
            team=notice.team,
        )

    async def resume_bot(self, conversation_id: str, intent: str) -> None:
        """Unpause the conversation and let the bot speak (CSAT, or "you're back")."""
        rasa_agent = self._rasa_agent()
        webchat = self._outlets.webchat
        if rasa_agent is None or rasa_agent.processor is None or webchat is None:
            logger.warning("desk.resume.unavailable conversation=%s", short(conversation_id))
            return
        output = webchat.get_output_channel()
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
            logger.exception("desk.resume.failed conversation=%s", short(conversation_id))
