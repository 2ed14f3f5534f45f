"""The trigger of an escalation: the customer's last message on a topic before the handoff."""

from __future__ import annotations

from bot.handoff_context import MAX_TRIGGER_TEXT, escalation_trigger
from tests.trackers import user_event


def bot_event(text: str) -> dict:
    return {"event": "bot", "text": text, "timestamp": 1.0}


def faq_event(text: str, retrieval: str) -> dict:
    event = user_event(text, "faq")
    event["parse_data"]["response_selector"] = {
        "default": {"response": {"intent_response_key": retrieval}}
    }
    return event


def test_the_topic_before_a_request_for_a_person_is_the_trigger():
    events = [
        user_event("hi", "greet"),
        faq_event("how long do refunds take", "faq/refunds"),
        bot_event("Refunds take 5 days."),
        user_event("that doesn't help, get me a human", "request_human"),
        user_event("yes", "affirm"),
    ]

    assert escalation_trigger(events) == {
        "intent": "faq/refunds",
        "text": "how long do refunds take",
    }


def test_a_misunderstood_message_is_a_trigger_too():
    events = [
        user_event("blorp the flux capacitor", "nlu_fallback"),
        user_event("agent", "request_human"),
    ]

    assert escalation_trigger(events)["intent"] == "nlu_fallback"


def test_button_payloads_are_not_the_customers_words():
    events = [
        user_event("my invoice is wrong", "ask_invoice"),
        user_event('/inform{"case_category": "billing"}', "inform"),
    ]

    assert escalation_trigger(events)["text"] == "my invoice is wrong"


def test_when_every_message_steers_the_last_one_stands():
    events = [user_event("hello", "greet"), user_event("a real person please", "request_human")]

    assert escalation_trigger(events) == {"intent": "request_human", "text": "a real person please"}


def test_no_customer_message_no_trigger_and_long_text_is_cut():
    assert escalation_trigger([bot_event("Hi!")]) == {"intent": None, "text": None}
    long = escalation_trigger([user_event("x" * 5000, "report_problem")])
    assert len(long["text"]) == MAX_TRIGGER_TEXT
