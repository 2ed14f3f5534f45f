"""Fallbacks: a rephrase prompt first, a person offered on the second miss in a row."""

from __future__ import annotations

import datetime as dt

import pytest
from rasa_sdk.events import ActionExecuted, ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionAnswerHumanOffer, ActionHandleFallback
from tests.services import build_services
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
    result = await ActionAnswerHumanOffer().run(
        dispatcher, tracker([user_event("no", "deny")], slots={"human_offered": True}), {}
    )
    assert [message["response"] for message in dispatcher.messages] == ["utter_human_declined"]
    assert result == [SlotSet("human_offered", False)]


async def test_accepting_the_offer_hands_off(database_url):
    # A Monday morning: Customer Care is open, and nobody is online yet.
    monday = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.timezone.utc)
    services = build_services(database_url, clock=lambda: monday)
    dispatcher = CollectingDispatcher()
    result = await ActionAnswerHumanOffer(services).run(
        dispatcher, tracker([user_event("yes please", "affirm")], slots={"human_offered": True}), {}
    )
    assert [message["response"] for message in dispatcher.messages] == ["utter_handoff_no_agents_online"]
    assert result[-2:] == [ActionExecuted("action_listen"), ConversationPaused()]
    ticket = services.tickets.ticket_by_reference(result[0]["value"])
    assert ticket.context["reason"] == "repeated_fallback"


@pytest.mark.parametrize("intent", ["affirm", "deny"])
async def test_yes_or_no_without_an_offer_answers_nothing(intent):
    dispatcher = CollectingDispatcher()
    result = await ActionAnswerHumanOffer().run(
        dispatcher, tracker([user_event("yes", intent)], slots={"human_offered": False}), {}
    )
    assert [message["response"] for message in dispatcher.messages] == ["utter_anything_else"]
    assert result == []
