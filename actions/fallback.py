"""When the bot doesn't understand: ask to rephrase once, then offer a person."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionRequestHandoff
from actions.services import UsesServices
from bot.constants import (
    ACTION_ANSWER_HUMAN_OFFER,
    ACTION_HANDLE_FALLBACK,
    FALLBACKS_BEFORE_OFFERING_HUMAN,
    INTENT_AFFIRM,
    INTENT_OUT_OF_SCOPE,
    SLOT_HUMAN_OFFERED,
    UTTER_ANYTHING_ELSE,
    UTTER_ASK_REPHRASE,
    UTTER_HUMAN_DECLINED,
    UTTER_OFFER_HUMAN,
    UTTER_OUT_OF_SCOPE,
)
from bot.handoff_context import consecutive_fallbacks


class ActionHandleFallback(Action):
    """A rephrase prompt for the first miss in a row, an offer of a person for the second."""

    def name(self) -> str:
        return ACTION_HANDLE_FALLBACK

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        if consecutive_fallbacks(tracker.events) >= FALLBACKS_BEFORE_OFFERING_HUMAN:
            dispatcher.utter_message(response=UTTER_OFFER_HUMAN)
            return [SlotSet(SLOT_HUMAN_OFFERED, True)]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        prompt = UTTER_OUT_OF_SCOPE if intent == INTENT_OUT_OF_SCOPE else UTTER_ASK_REPHRASE
        dispatcher.utter_message(response=prompt)
        return [SlotSet(SLOT_HUMAN_OFFERED, False)]


class ActionAnswerHumanOffer(UsesServices, Action):
    """"Yes" or "no" right after a fallback: hand off if a person was offered and accepted."""

    def name(self) -> str:
        return ACTION_ANSWER_HUMAN_OFFER

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        if not tracker.get_slot(SLOT_HUMAN_OFFERED):
            # The fallback only asked to rephrase; a bare "yes" or "no" answers nothing.
            dispatcher.utter_message(response=UTTER_ANYTHING_ELSE)
            return []
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == INTENT_AFFIRM:
            return await ActionRequestHandoff(self._services).run(dispatcher, tracker, domain)
        dispatcher.utter_message(response=UTTER_HUMAN_DECLINED)
        return [SlotSet(SLOT_HUMAN_OFFERED, False)]
