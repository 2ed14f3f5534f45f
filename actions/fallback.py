"""When the bot doesn't understand: ask to rephrase, or offer a person when a signal says so.

The `repeated_fallback` rule of escalation.yml (by default: the second message
not understood) makes the offer here, in place of another rephrase prompt, so
the customer never gets both. A message that looked like an FAQ question, but
not clearly which one, gets the likeliest questions as buttons ("Did you mean…?",
`bot.faq_suggestions`) with the rephrase prompt.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionRequestHandoff
from actions.services import UsesServices
from actions.signals import offer_person, signal_decision
from bot.constants import (
    ACTION_ANSWER_HUMAN_OFFER,
    ACTION_HANDLE_FALLBACK,
    INTENT_AFFIRM,
    INTENT_OUT_OF_SCOPE,
    SLOT_HUMAN_OFFERED,
    UTTER_ANYTHING_ELSE,
    UTTER_ASK_REPHRASE,
    UTTER_DID_YOU_MEAN,
    UTTER_HUMAN_DECLINED,
    UTTER_OUT_OF_SCOPE,
)
from bot.escalation.signals import OFFER
from bot.faq_suggestions import faq_questions, suggested_questions


class ActionHandleFallback(UsesServices, Action):
    """A rephrase prompt, or an offer of a person when escalation.yml's signals call for one."""

    def name(self) -> str:
        return ACTION_HANDLE_FALLBACK

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        decision = signal_decision(self.services, tracker)
        if decision.action == OFFER:
            return offer_person(dispatcher, decision)
        suggestions = suggested_questions(
            tracker.latest_message, faq_questions(domain.get("responses") or {})
        )
        if suggestions:
            # The button sends the question itself: the bot answers it as if typed.
            buttons = [{"title": question, "payload": question} for question in suggestions]
            dispatcher.utter_message(response=UTTER_DID_YOU_MEAN, buttons=buttons)
            return [SlotSet(SLOT_HUMAN_OFFERED, False)]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        prompt = UTTER_OUT_OF_SCOPE if intent == INTENT_OUT_OF_SCOPE else UTTER_ASK_REPHRASE
        dispatcher.utter_message(response=prompt)
        return [SlotSet(SLOT_HUMAN_OFFERED, False)]


class ActionAnswerHumanOffer(UsesServices, Action):
    """ "Yes" or "no" right after a fallback: hand off if a person was offered and accepted."""

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
