""" "Did you mean…?": which FAQ questions a declined message is offered."""

from __future__ import annotations

import pytest

from bot.faq_suggestions import faq_questions, suggested_questions

RESPONSES = {
    "utter_faq/delivery_time": [
        {"text": "3-5 days.", "metadata": {"question": "How long does delivery take?"}}
    ],
    "utter_faq/shipping_cost": [
        {"text": "£3.95.", "metadata": {"question": " How much does delivery cost? "}}
    ],
    "utter_faq/returns": [
        {"text": "30 days.", "metadata": {"question": "How do I return something?"}}
    ],
    # No question: never suggested.
    "utter_faq/esim": [{"text": "Yes."}],
    "utter_chitchat/joke": [{"text": "Ha.", "metadata": {"question": "Tell me a joke"}}],
    "utter_greet": [{"text": "Hi!", "metadata": {"question": "Hello?"}}],
}


def parse(intent, ranking, answers):
    return {
        "intent": {"name": intent, "confidence": 0.4},
        "intent_ranking": [{"name": name, "confidence": 0.4} for name in ranking],
        "response_selector": {
            "faq": {"ranking": [{"intent_response_key": key, "confidence": 0.1} for key in answers]}
        },
    }


def test_only_faq_answers_with_a_question_are_suggestable():
    assert faq_questions(RESPONSES) == {
        "faq/delivery_time": "How long does delivery take?",
        "faq/shipping_cost": "How much does delivery cost?",
        "faq/returns": "How do I return something?",
    }


@pytest.mark.parametrize(
    "intent, ranking, answers, expected",
    [
        # Declined, and the classifier's own guess was an FAQ question: the top two.
        (
            "nlu_fallback",
            ["nlu_fallback", "faq", "report_problem"],
            ["faq/delivery_time", "faq/shipping_cost", "faq/returns"],
            ["How long does delivery take?", "How much does delivery cost?"],
        ),
        # An answer without a question is skipped, not counted.
        (
            "nlu_fallback",
            ["nlu_fallback", "faq"],
            ["faq/esim", "faq/returns", "faq/shipping_cost"],
            ["How do I return something?", "How much does delivery cost?"],
        ),
        # The classifier's guess was something else: no FAQ to suggest.
        ("nlu_fallback", ["nlu_fallback", "report_problem", "faq"], ["faq/returns"], []),
        # Not declined: the bot answers, nothing to suggest.
        ("faq", ["faq"], ["faq/returns", "faq/delivery_time"], []),
        ("out_of_scope", ["out_of_scope", "faq"], ["faq/returns"], []),
        # Declined, but the selector ranked nothing.
        ("nlu_fallback", ["nlu_fallback", "faq"], [], []),
    ],
)
def test_suggestions(intent, ranking, answers, expected):
    assert (
        suggested_questions(parse(intent, ranking, answers), faq_questions(RESPONSES)) == expected
    )


def test_parse_data_without_a_selector_suggests_nothing():
    parse_data = {"intent": {"name": "nlu_fallback"}, "intent_ranking": [{"name": "faq"}]}
    assert suggested_questions(parse_data, faq_questions(RESPONSES)) == []
