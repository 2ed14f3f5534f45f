"""Handing the conversation to a person: record the request with its context, tell the customer."""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.services import UsesServices, latest_metadata, verified_customer
from bot import handoff_context
from bot.constants import (
    ACTION_REQUEST_HANDOFF,
    INTENT_REQUEST_HUMAN,
    SLOT_CASE_CATEGORY,
    SLOT_CASE_DESCRIPTION,
    SLOT_CASE_URGENCY,
    SLOT_CONTACT_EMAIL,
    SLOT_HANDOFF_REFERENCE,
    SLOT_HUMAN_OFFERED,
    SLOT_ORDER_NUMBER,
    UTTER_HANDOFF_FAILED,
    UTTER_HANDOFF_QUEUED,
)

logger = logging.getLogger(__name__)

CASE_SLOTS = (
    SLOT_CASE_CATEGORY,
    SLOT_CASE_DESCRIPTION,
    SLOT_ORDER_NUMBER,
    SLOT_CONTACT_EMAIL,
    SLOT_CASE_URGENCY,
)
REASON_CUSTOMER_REQUEST = "customer_request"
REASON_BOT_FAILED = "repeated_fallback"
REASON_CASE_SUBMITTED = "case_submitted"


def handoff_reason(tracker: Tracker) -> str:
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if intent == INTENT_REQUEST_HUMAN:
        return REASON_CUSTOMER_REQUEST
    if tracker.get_slot(SLOT_HUMAN_OFFERED):
        return REASON_BOT_FAILED
    return REASON_CASE_SUBMITTED


class ActionRequestHandoff(UsesServices, Action):
    """Records the handoff request with everything collected, and says what happens next."""

    def name(self) -> str:
        return ACTION_REQUEST_HANDOFF

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        events = tracker.events
        customer = verified_customer(tracker, self.services.settings)
        context = {
            "conversation_id": tracker.sender_id,
            "channel": latest_metadata(tracker).get("channel") or tracker.get_latest_input_channel(),
            "customer": {
                "verified": customer is not None,
                "customer_id": customer.customer_id if customer else None,
            },
            "details": handoff_context.collected_details(tracker.slots, CASE_SLOTS),
            "transcript": handoff_context.transcript(events),
            "fallback_count": handoff_context.fallback_count(events),
        }
        reason = handoff_reason(tracker)
        turn_key = handoff_context.latest_user_turn_key(events) or "start"
        try:
            recorded = self.services.handoffs.record(
                conversation_id=tracker.sender_id,
                turn_key=turn_key,
                reason=reason,
                context={**context, "reason": reason},
                customer_id=customer.customer_id if customer else None,
            )
        except SQLAlchemyError:
            logger.exception("handoff.request.failed conversation=%s", tracker.sender_id)
            dispatcher.utter_message(response=UTTER_HANDOFF_FAILED)
            return []
        logger.info(
            "handoff.request.recorded reference=%s reason=%s created=%s",
            recorded.reference,
            reason,
            recorded.created,
        )
        dispatcher.utter_message(
            response=UTTER_HANDOFF_QUEUED, handoff_reference=recorded.reference
        )
        return [
            SlotSet(SLOT_HANDOFF_REFERENCE, recorded.reference),
            SlotSet(SLOT_HUMAN_OFFERED, False),
            *[SlotSet(name, None) for name in CASE_SLOTS],
        ]
