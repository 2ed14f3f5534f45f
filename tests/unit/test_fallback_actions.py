"""Fallbacks: a rephrase prompt first, a person offered on the second miss in a row."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionDeclineHuman, ActionHandleFallback
from tests.trackers import bot_event, tracker, user_event


@pytest.mark.parametrize(
    "intents, expected_response, offered",
    [
        (["nlu_fallback"], "utter_ask_rephrase", False),
        (["out_of_scope"], "utter_out_of_scope", False),
        (["greet", "nlu_fallback"], "utter_ask_rephrase", False),
        (["nlu_fallback", "nlu_fallback"], "utter_offer_human", True),
        (["out_of_scope", "nlu_fallback"], "utter_offer_human", True),
        (["nlu_fallback", "faq", "nlu_fallback"], "utter_ask_rephrase", False),
    ],
)
async def test_fallback_escalates_on_the_second_miss_in_a_row(intents, expected_response, offered):
    events = []
    for intent in intents:
        events += [user_event("...", intent, confidence=0.3), bot_event("...")]
    dispatcher = CollectingDispatcher()
    result = await ActionHandleFallback().run(dispatcher, tracker(events), {})
    assert [message["response"] for message in dispatcher.messages] == [expected_response]
    assert result == [SlotSet("human_offered", offered)]


async def test_declining_the_offer_carries_on_with_the_bot():
    dispatcher = CollectingDispatcher()
    result = await ActionDeclineHuman().run(dispatcher, tracker([user_event("no", "deny")]), {})
    assert [message["response"] for message in dispatcher.messages] == ["utter_human_declined"]
    assert result == [SlotSet("human_offered", False)]
