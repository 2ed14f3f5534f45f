"""Reading the bot's decision out of Rasa's parse data."""

from __future__ import annotations

from bot.evaluation.examples import NluExample, base_intent, is_retrieval_label
from bot.evaluation.predictions import prediction_from_parse, top_retrieval_intent


def _selector(key: str) -> dict:
    return {
        "response": {"intent_response_key": key, "confidence": 0.8, "utter_action": f"utter_{key}"},
        "ranking": [{"intent_response_key": key, "confidence": 0.8}],
    }


def test_the_shared_default_selector_gives_the_answer_key():
    parse = {
        "intent": {"name": "faq", "confidence": 0.97},
        "response_selector": {
            "all_retrieval_intents": ["faq", "chitchat"],
            "default": _selector("faq/returns"),
        },
    }
    prediction = prediction_from_parse(NluExample("returns?", "faq/returns"), parse)
    assert prediction.intent == "faq"
    assert prediction.confidence == 0.97
    assert prediction.retrieval_intent == "faq/returns"
    assert prediction.true_intent == "faq/returns"


def test_a_selector_of_the_predicted_intent_wins_over_the_default():
    parse = {
        "response_selector": {
            "chitchat": _selector("chitchat/joke"),
            "default": _selector("faq/esim"),
        }
    }
    assert top_retrieval_intent(parse, "chitchat") == "chitchat/joke"
    assert top_retrieval_intent(parse, "faq") == "faq/esim"


def test_the_fallback_intent_is_the_prediction_and_no_selector_means_no_answer():
    parse = {"intent": {"name": "nlu_fallback", "confidence": 0.5}, "entities": []}
    prediction = prediction_from_parse(NluExample("flibber", "greet"), parse)
    assert prediction.intent == "nlu_fallback"
    assert prediction.retrieval_intent is None


def test_a_parse_without_intent_is_an_empty_prediction():
    prediction = prediction_from_parse(NluExample("", "greet"), {"intent": None})
    assert (prediction.intent, prediction.confidence) == ("", 0.0)


def test_labels_collapse_to_their_base():
    assert base_intent("faq/returns") == "faq"
    assert base_intent("greet") == "greet"
    assert is_retrieval_label("chitchat/joke")
    assert not is_retrieval_label("request_human")


def test_a_shared_selector_answer_of_another_retrieval_intent_is_no_answer():
    parse = {"response_selector": {"default": _selector("chitchat/joke")}}
    assert top_retrieval_intent(parse, "faq") is None
    assert top_retrieval_intent(parse, "chitchat") == "chitchat/joke"


def test_a_declined_faq_question_carries_the_answers_it_is_offered():
    parse = {
        "intent": {"name": "nlu_fallback", "confidence": 0.15},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.15},
            {"name": "faq", "confidence": 0.9},
        ],
        "response_selector": {
            "faq": {
                "response": {"intent_response_key": "faq/delivery_time", "confidence": 0.12},
                "ranking": [
                    {"intent_response_key": "faq/delivery_time", "confidence": 0.12},
                    {"intent_response_key": "faq/shipping_cost", "confidence": 0.11},
                    {"intent_response_key": "faq/returns", "confidence": 0.1},
                ],
            }
        },
    }
    prediction = prediction_from_parse(NluExample("by saturday?", "faq/shipping_cost"), parse)
    assert prediction.suggested_answers == ("faq/delivery_time", "faq/shipping_cost")
    # An answered message is offered nothing.
    answered = {
        **parse,
        "intent": {"name": "faq", "confidence": 0.9},
        "intent_ranking": [{"name": "faq"}],
    }
    assert (
        prediction_from_parse(
            NluExample("by saturday?", "faq/shipping_cost"), answered
        ).suggested_answers
        == ()
    )
