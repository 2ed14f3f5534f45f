"""Reading the customer's turns from tracker events, as the signals see them."""

from __future__ import annotations

from typing import Any, Dict, List

from bot.escalation.signals import conversation_turns


def user(text: str, intent: str, **parse: Any) -> Dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}, **parse}}


def action(name: str) -> Dict[str, Any]:
    return {"event": "action", "name": name}


def event(kind: str, **fields: Any) -> Dict[str, Any]:
    return {"event": kind, **fields}


def test_retrieval_intents_are_read_from_the_intent_or_the_response_selector():
    turns = conversation_turns(
        [
            user(
                "how do I return it",
                "faq",
                response_selector={"faq": {"response": {"intent_response_key": "faq/returns"}}},
            ),
            {
                "event": "user",
                "text": "refund?",
                "parse_data": {
                    "intent": {"name": "faq", "full_retrieval_intent_name": "faq/refund_time"}
                },
            },
            # A selector trained on every retrieval intent answers under "default"…
            user(
                "roaming?",
                "faq",
                response_selector={"default": {"response": {"intent_response_key": "faq/roaming"}}},
            ),
            # …for every message, even one that is not a retrieval intent.
            user(
                "hi",
                "greet",
                response_selector={
                    "default": {"response": {"intent_response_key": "chitchat/joke"}}
                },
            ),
        ]
    )
    assert [turn.intent for turn in turns] == [
        "faq/returns",
        "faq/refund_time",
        "faq/roaming",
        "greet",
    ]


def test_an_answer_and_an_offer_are_noted_on_the_turn_they_follow():
    turns = conversation_turns(
        [
            user("asdf", "nlu_fallback"),
            action("action_handle_fallback"),
            action("action_listen"),
            user("where is my order", "ask_order_status"),
            action("action_account_answer"),
            action("action_offer_human"),
            event("slot", name="human_offered", value=True),
        ]
    )
    assert [(t.answered, t.offered_person, t.not_understood) for t in turns] == [
        (False, False, True),
        (True, True, False),
    ]


def test_only_the_turns_since_the_bot_last_took_the_conversation_count():
    events: List[Dict[str, Any]] = [
        user("this is useless", "inform"),
        event("pause"),
        user("hello?? anyone", "inform"),  # for the agent
        event("resume"),
        user("/handoff_returned", "handoff_returned"),  # the desk's, not the customer's
        action("utter_back_with_assistant"),
        user("how do I pay", "faq"),
    ]
    assert [turn.text for turn in conversation_turns(events)] == ["how do I pay"]
    assert conversation_turns(events + [event("session_started")]) == []


def test_the_recorded_sentiment_is_used_and_a_missing_one_is_scored_from_the_text():
    scored: List[str] = []

    def analyze(text: str) -> Dict[str, Any]:
        scored.append(text)
        return {"compound": -0.5, "frustrated": True, "cues": ["sarcasm"]}

    recorded = {"compound": 0.4, "label": "positive", "frustrated": False, "cues": []}
    turns = conversation_turns(
        [user("thanks!", "thank", sentiment=recorded), user("oh great, thanks a lot", "thank")],
        analyze,
    )
    assert scored == ["oh great, thanks a lot"]
    assert [(t.compound, t.frustrated, t.cues) for t in turns] == [
        (0.4, False, frozenset()),
        (-0.5, True, frozenset({"sarcasm"})),
    ]


def test_without_an_analyzer_an_unscored_turn_is_neutral():
    (turn,) = conversation_turns([user("grr", "inform")])
    assert (turn.compound, turn.frustrated, turn.cues) == (0.0, False, frozenset())
