"""Fallbacks: a rephrase prompt first, a person offered on the second miss (escalation.yml)."""

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
        # Not in a row: the bot has still failed this customer twice.
        (["nlu_fallback", "faq", "nlu_fallback"], "utter_offer_human", True),
        # A new session starts the count again.
        (["nlu_fallback", "session_started", "nlu_fallback"], "utter_ask_rephrase", False),
    ],
)
async def test_fallback_offers_a_person_on_the_second_miss(intents, expected_response, offered):
    events = []
    for intent in intents:
        if intent == "session_started":
            events.append({"event": "session_started", "timestamp": 1.0})
            continue
        events += [user_event("...", intent, confidence=0.3), bot_event("...")]
    dispatcher = CollectingDispatcher()
    result = await ActionHandleFallback().run(dispatcher, tracker(events), {})
    assert [message["response"] for message in dispatcher.messages] == [expected_response]
    expected = [SlotSet("human_offered", offered)]
    if offered:
        expected.append(SlotSet("human_offer_reason", "repeated_fallback"))
    assert result == expected


async def test_a_second_miss_right_after_declining_asks_to_rephrase():
    events = [
        user_event("asdf", "nlu_fallback", confidence=0.3),
        user_event("qwerty", "nlu_fallback", confidence=0.3),
        {"event": "slot", "name": "human_offered", "value": True, "timestamp": 2.0},
        user_event("no", "deny"),
        user_event("zxcv", "nlu_fallback", confidence=0.3),
    ]
    dispatcher = CollectingDispatcher()
    result = await ActionHandleFallback().run(dispatcher, tracker(events), {})
    assert [message["response"] for message in dispatcher.messages] == ["utter_ask_rephrase"]
    assert result == [SlotSet("human_offered", False)]


async def test_declining_the_offer_carries_on_with_the_bot():
    dispatcher = CollectingDispatcher()
    result = await ActionAnswerHumanOffer().run(
        dispatcher, tracker([user_event("no", "deny")], slots={"human_offered": True}), {}
    )
    assert [message["response"] for message in dispatcher.messages] == ["utter_human_declined"]
    assert result == [SlotSet("human_offered", False)]


async def test_accepting_the_offer_hands_off(migrated_url):
    # A Monday morning: Customer Care is open, and nobody is online yet.
    monday = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.timezone.utc)
    services = build_services(migrated_url, clock=lambda: monday)
    dispatcher = CollectingDispatcher()
    result = await ActionAnswerHumanOffer(services).run(
        dispatcher, tracker([user_event("yes please", "affirm")], slots={"human_offered": True}), {}
    )
    assert [message["response"] for message in dispatcher.messages] == [
        "utter_handoff_no_agents_online"
    ]
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


async def test_a_declined_faq_question_is_offered_the_likeliest_questions():
    event = user_event("could it get here by the weekend", "nlu_fallback", confidence=0.15)
    event["parse_data"]["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.15},
        {"name": "faq", "confidence": 0.9},
    ]
    event["parse_data"]["response_selector"] = {
        "faq": {
            "ranking": [
                {"intent_response_key": "faq/delivery_time", "confidence": 0.12},
                {"intent_response_key": "faq/shipping_cost", "confidence": 0.1},
            ]
        }
    }
    domain = {
        "responses": {
            "utter_faq/delivery_time": [
                {"text": "...", "metadata": {"question": "How long does delivery take?"}}
            ],
            "utter_faq/shipping_cost": [
                {"text": "...", "metadata": {"question": "How much does delivery cost?"}}
            ],
        }
    }
    dispatcher = CollectingDispatcher()
    result = await ActionHandleFallback().run(dispatcher, tracker([event]), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_did_you_mean"
    # Each button sends its question as if the customer had typed it.
    assert message["buttons"] == [
        {"title": "How long does delivery take?", "payload": "How long does delivery take?"},
        {"title": "How much does delivery cost?", "payload": "How much does delivery cost?"},
    ]
    assert result == [SlotSet("human_offered", False)]
