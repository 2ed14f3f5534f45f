"""Handing the conversation to a person: the Rasa side of bot/tickets/handoff.py.

The use case opens the ticket and words the answer; this action gives it what the
tracker holds and turns its result into messages and events. Once the ticket is
ready the bot pauses (Rasa's `ConversationPaused`): while the conversation is
queued or with an agent, Rasa still parses customer messages and writes them to the
tracker, but predicts and runs no action (`MessageProcessor._should_handle_message`),
so the bot stays silent. The desk resumes it when the agent resolves the
conversation or hands it back to the bot.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.services import Services, UsesServices, latest_metadata, verified_customer
from bot.constants import (
    ACTION_REQUEST_HANDOFF,
    SLOT_CSAT_COMMENT,
    SLOT_CSAT_RATING,
    SLOT_HANDOFF_REFERENCE,
    SLOT_HUMAN_OFFER_REASON,
    SLOT_HUMAN_OFFERED,
)
from bot.tickets.handoff import CASE_SLOTS, HandoffRequest, HandoffResult, RequestHandoff

__all__ = ["CASE_SLOTS", "ActionRequestHandoff"]

# Cleared with each handoff: a survey left half-answered must not answer the next one.
CSAT_SLOTS = (SLOT_CSAT_RATING, SLOT_CSAT_COMMENT)
ACTION_LISTEN = "action_listen"


def handoff_request(tracker: Tracker, services: Services) -> HandoffRequest:
    """What the tracker holds that the use case needs."""
    verified = verified_customer(tracker, services.settings)
    return HandoffRequest(
        sender_id=tracker.sender_id,
        events=tracker.events,
        slots=tracker.slots,
        latest_intent=(tracker.latest_message.get("intent") or {}).get("name"),
        channel=latest_metadata(tracker).get("channel") or tracker.get_latest_input_channel(),
        customer_id=verified.customer_id if verified else None,
    )


def handed_off_events(result: HandoffResult) -> List[Dict[str, Any]]:
    """The ticket's reference kept, the case and survey cleared, the bot paused; none on failure."""
    if result.ticket is None:
        return []
    return [
        SlotSet(SLOT_HANDOFF_REFERENCE, result.ticket.reference),
        SlotSet(SLOT_HUMAN_OFFERED, False),
        SlotSet(SLOT_HUMAN_OFFER_REASON, None),
        *[SlotSet(name, None) for name in (*CASE_SLOTS, *CSAT_SLOTS)],
        # The bot now listens, as after any turn: Rasa predicts nothing once the
        # conversation is paused, so without this the intent the desk triggers on
        # resuming (handoff_resolved, handoff_returned) would follow this action
        # instead of a listen, and match none of the rules written for it.
        ActionExecuted(ACTION_LISTEN),
        ConversationPaused(),
    ]


class ActionRequestHandoff(UsesServices, Action):
    """Opens one ticket per escalation with everything collected, and says what happens next."""

    def name(self) -> str:
        return ACTION_REQUEST_HANDOFF

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        services = self.services
        request_handoff = RequestHandoff(
            services.accounts,
            services.tickets,
            services.policy,
            services.average_handling_minutes,
            services.sentiment,
        )
        result = request_handoff(handoff_request(tracker, services), services.clock())
        for message in result.messages:
            dispatcher.utter_message(**message)
        return handed_off_events(result)
