"""A new conversation session, as Rasa starts one, that keeps a handed-off conversation paused.

Rasa starts a new session when a customer writes after `session_expiration_time`
(domain.yml), and its `SessionStarted` resets the tracker, pause included. A
customer who waits for a person longer than that would then be answered by the
bot again while the conversation is still queued or with an agent. This action
replaces Rasa's default `action_session_start` (the same events) and pauses the
new session again while the desk has the conversation.

The first session of a conversation also records it in the store (with its
channel): the escalation metrics count every conversation, escalated or not.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.services import UsesServices
from bot.constants import ACTION_SESSION_START, METADATA_CHANNEL
from bot.store.retry import StoreUnavailable
from bot.tickets.states import HANDED_OFF_STATES

logger = logging.getLogger(__name__)

ACTION_LISTEN = "action_listen"
# Rasa's slot with the metadata of the message that started the session.
SESSION_STARTED_METADATA = "session_started_metadata"


class ActionSessionStart(UsesServices, Action):
    """Rasa's session start (slots carried over if the domain says so), paused while handed off."""

    def name(self) -> str:
        return ACTION_SESSION_START

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        events: List[Dict[str, Any]] = [SessionStarted()]
        if (domain.get("session_config") or {}).get("carry_over_slots_to_new_session"):
            # As Rasa's default does: the new session starts with the old one's slots.
            events += [
                SlotSet(name, value) for name, value in tracker.slots.items() if value is not None
            ]
        events.append(ActionExecuted(ACTION_LISTEN))
        metadata = tracker.get_slot(SESSION_STARTED_METADATA) or {}
        channel = metadata.get(METADATA_CHANNEL) or tracker.get_latest_input_channel()
        try:
            state = self.services.tickets.record_conversation_start(
                tracker.sender_id, channel, self.services.clock()
            )
        except (StoreUnavailable, SQLAlchemyError):
            # Unknown: a bot that answers is better than a session that never starts.
            logger.exception("session.start.state_unknown")
            return events
        if state in HANDED_OFF_STATES:
            logger.info("session.start.paused state=%s", state)
            events.append(ConversationPaused())
        return events
