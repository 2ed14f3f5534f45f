"""When the bot doesn't understand: ask to rephrase once, then offer a person."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.constants import (
    ACTION_DECLINE_HUMAN,
    ACTION_HANDLE_FALLBACK,
    FALLBACKS_BEFORE_OFFERING_HUMAN,
    INTENT_OUT_OF_SCOPE,
    SLOT_HUMAN_OFFERED,
    UTTER_ASK_REPHRASE,
    UTTER_HUMAN_DECLINED,
    UTTER_OFFER_HUMAN,
    UTTER_OUT_OF_SCOPE,
)
from bot.handoff_context import consecutive_fallbacks


class ActionHandleFallback(Action):
    """A rephrase prompt for the first miss in a row, an offer of a person for the second."""

    def name(self) -> Text:
        return ACTION_HANDLE_FALLBACK

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[Dict[Text, Any]]:
        if consecutive_fallbacks(tracker.events) >= FALLBACKS_BEFORE_OFFERING_HUMAN:
            dispatcher.utter_message(response=UTTER_OFFER_HUMAN)
            return [SlotSet(SLOT_HUMAN_OFFERED, True)]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        prompt = UTTER_OUT_OF_SCOPE if intent == INTENT_OUT_OF_SCOPE else UTTER_ASK_REPHRASE
        dispatcher.utter_message(response=prompt)
        return [SlotSet(SLOT_HUMAN_OFFERED, False)]


class ActionDeclineHuman(Action):
    """The customer said no to the offer of a person: carry on with the bot."""

    def name(self) -> Text:
        return ACTION_DECLINE_HUMAN

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response=UTTER_HUMAN_DECLINED)
        return [SlotSet(SLOT_HUMAN_OFFERED, False)]
