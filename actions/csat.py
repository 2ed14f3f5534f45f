"""The satisfaction survey once an agent resolved the conversation: checks and keeps the answers."""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.services import UsesServices
from bot import csat
from bot.constants import (
    ACTION_RECORD_CSAT,
    ACTION_VALIDATE_CSAT_FORM,
    ENTITY_CSAT_RATING,
    INTENT_CHITCHAT,
    INTENT_DENY,
    INTENT_FAQ,
    INTENT_GOODBYE,
    INTENT_REPORT_PROBLEM,
    INTENT_REQUEST_HUMAN,
    INTENT_STOP,
    INTENT_THANK,
    REQUESTED_SLOT,
    SLOT_CSAT_COMMENT,
    SLOT_CSAT_RATING,
    UTTER_CSAT_THANKS,
)
from bot.store.retry import StoreUnavailable

logger = logging.getLogger(__name__)

# At the rating question, a message without a rating and with one of these intents is
# not an answer: the form lets it go, and the rules of data/rules/csat.yml act on it.
NOT_A_RATING_INTENTS = (
    INTENT_DENY,
    INTENT_STOP,
    INTENT_THANK,
    INTENT_GOODBYE,
    INTENT_REQUEST_HUMAN,
    INTENT_REPORT_PROBLEM,
    INTENT_FAQ,
    INTENT_CHITCHAT,
)


def _intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _button_rating(tracker: Tracker) -> bool:
    return any(
        entity.get("entity") == ENTITY_CSAT_RATING
        for entity in tracker.latest_message.get("entities") or []
    )


class ValidateCsatForm(FormValidationAction):
    """Turns a button's value or a typed rating into 1-5, and tidies the comment."""

    def name(self) -> str:
        return ACTION_VALIDATE_CSAT_FORM

    async def extract_csat_rating(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """A typed answer to the rating question (the buttons fill the slot from their entity).

        A rating wins over the intent the NLU model saw ("the agent was great, 5" is
        a 5, not a request for a person). Without one, the intents that mean something
        else are left to the rules; anything else goes to validation, which says what fits.
        """
        if tracker.get_slot(REQUESTED_SLOT) != SLOT_CSAT_RATING or _button_rating(tracker):
            return {}
        text = tracker.latest_message.get("text") or ""
        try:
            return {SLOT_CSAT_RATING: str(csat.parse_rating(text))}
        except csat.InvalidRating:
            if _intent(tracker) in NOT_A_RATING_INTENTS:
                return {}
            return {SLOT_CSAT_RATING: text}

    def validate_csat_rating(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        try:
            return {SLOT_CSAT_RATING: str(csat.parse_rating(str(value)))}
        except csat.InvalidRating as problem:
            dispatcher.utter_message(text=str(problem))
            return {SLOT_CSAT_RATING: None}

    def validate_csat_comment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        if _button_rating(tracker):
            # A rating button clicked again: the rating changes, the comment is still asked.
            return {SLOT_CSAT_COMMENT: None}
        # Only the words decide (csat.SKIP_ANSWERS, the No comment button's /deny):
        # a real comment classified as `stop` or `deny` ("Robin sorted it out
        # quickly" was, by one training) must be kept, not dropped.
        return {SLOT_CSAT_COMMENT: csat.normalize_comment(str(value))}


class ActionRecordCsat(UsesServices, Action):
    """Keeps the answer for the conversation's resolved ticket, thanks the customer, ends it."""

    def name(self) -> str:
        return ACTION_RECORD_CSAT

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        services = self.services
        rating = tracker.get_slot(SLOT_CSAT_RATING)
        comment = csat.stored_comment(tracker.get_slot(SLOT_CSAT_COMMENT))
        try:
            recorded = services.tickets.record_csat(
                tracker.sender_id, csat.parse_rating(str(rating)), comment, services.clock()
            )
            logger.info("csat.answer recorded=%s", recorded)
        except csat.InvalidRating:
            # The form only finishes with a valid rating; a hand-built tracker may not.
            logger.warning("csat.answer.invalid_rating")
        except (StoreUnavailable, SQLAlchemyError):
            # The customer did their part: thank them all the same.
            logger.exception("csat.answer.failed")
        dispatcher.utter_message(response=UTTER_CSAT_THANKS)
        return [SlotSet(SLOT_CSAT_RATING, None), SlotSet(SLOT_CSAT_COMMENT, None)]
