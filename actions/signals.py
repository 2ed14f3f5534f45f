"""Offering a person when the conversation's signals say so (escalation.yml `signals:`).

The dialogue policy (bot/rasa_components/signal_policy.py) decides *when*; these
helpers read the same decision again from the tracker to choose the words and
remember which rule made the offer, so an accepted offer's ticket names it.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.services import Services, UsesServices
from bot.constants import (
    ACTION_OFFER_HUMAN,
    SLOT_HUMAN_OFFER_REASON,
    SLOT_HUMAN_OFFERED,
    UTTER_OFFER_HUMAN,
    UTTER_OFFER_HUMAN_REPEATED,
    UTTER_OFFER_HUMAN_UPSET,
)
from bot.escalation.signals import (
    REPEATED_FALLBACK,
    REPEATED_QUESTION,
    SignalDecision,
    conversation_turns,
)

# How each kind of signal asks: "I'm not getting this right", "my answer didn't
# help", or, for the mood-based ones, "I'm sorry this has been frustrating".
OFFER_WORDING = {
    REPEATED_FALLBACK: UTTER_OFFER_HUMAN,
    REPEATED_QUESTION: UTTER_OFFER_HUMAN_REPEATED,
}


def signal_decision(services: Services, tracker: Tracker) -> SignalDecision:
    """What escalation.yml's signals say after the customer's latest message."""
    turns = conversation_turns(tracker.events, services.sentiment)
    return services.policy.signal_evaluator.decide(turns)


def offer_person(
    dispatcher: CollectingDispatcher, decision: SignalDecision
) -> List[Dict[str, Any]]:
    """Ask whether the customer wants a person, in the words that fit why."""
    deciding = decision.deciding[0] if decision.deciding else None
    rule_type = deciding.rule.type if deciding else REPEATED_FALLBACK
    dispatcher.utter_message(response=OFFER_WORDING.get(rule_type, UTTER_OFFER_HUMAN_UPSET))
    return [
        SlotSet(SLOT_HUMAN_OFFERED, True),
        SlotSet(SLOT_HUMAN_OFFER_REASON, deciding.rule.name if deciding else REPEATED_FALLBACK),
    ]


class ActionOfferHuman(UsesServices, Action):
    """Offers a person after the bot's answer, when an `offer` signal fired."""

    def name(self) -> str:
        return ACTION_OFFER_HUMAN

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        return offer_person(dispatcher, signal_decision(self.services, tracker))
