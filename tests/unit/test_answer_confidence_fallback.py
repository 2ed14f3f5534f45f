"""An FAQ answer the ResponseSelector is unsure of becomes `nlu_fallback`, nothing else does."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_components.answer_confidence_fallback import ANSWER_DECLINED, AnswerConfidenceFallback


def parsed(intent: str, selectors: dict, confidence: float = 0.98) -> Message:
    return Message(
        data={
            "text": "how tall is the Eiffel Tower",
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [
                {"name": intent, "confidence": confidence},
                {"name": "greet", "confidence": 0.01},
            ],
            "response_selector": {"all_retrieval_intents": ["faq", "chitchat"], **selectors},
        }
    )


def answer(key: str, confidence: float) -> dict:
    return {
        "response": {"intent_response_key": key, "confidence": confidence, "responses": []},
        "ranking": [],
    }


@pytest.mark.parametrize(
    ("intent", "selectors", "declined"),
    [
        # The selector of the message's own retrieval intent is unsure: declined.
        ("faq", {"faq": answer("faq/router_setup", 0.09)}, True),
        ("chitchat", {"chitchat": answer("chitchat/weather", 0.05)}, True),
        # One selector trained on every retrieval intent answers under "default".
        ("faq", {"default": answer("faq/roaming", 0.1)}, True),
        # Sure enough, or exactly at the threshold: answered.
        ("faq", {"faq": answer("faq/roaming", 0.62)}, False),
        ("faq", {"faq": answer("faq/roaming", 0.15)}, False),
        # Not a retrieval intent: another intent's unsure selector does not matter.
        ("greet", {"faq": answer("faq/roaming", 0.01)}, False),
        # The default selector's pick belongs to another retrieval intent.
        ("faq", {"default": answer("chitchat/joke", 0.01)}, False),
        # No selector output at all.
        ("faq", {}, False),
    ],
)
def test_an_unsure_answer_is_declined(intent, selectors, declined):
    message = parsed(intent, selectors)
    AnswerConfidenceFallback({"threshold": 0.15}).process([message])
    if declined:
        assert message.get("intent") == {"name": "nlu_fallback", "confidence": 0.15}
        assert [i["name"] for i in message.get("intent_ranking")] == [
            "nlu_fallback",
            intent,
            "greet",
        ]
        selected = next(iter(v for k, v in selectors.items()))["response"]
        assert message.get(ANSWER_DECLINED) == {
            "intent_response_key": selected["intent_response_key"],
            "confidence": selected["confidence"],
            "threshold": 0.15,
        }
        # The selector's pick stays in the parse data, for the review export.
        assert message.get("response_selector") == {
            "all_retrieval_intents": ["faq", "chitchat"],
            **selectors,
        }
    else:
        assert message.get("intent") == {"name": intent, "confidence": 0.98}
        assert message.get(ANSWER_DECLINED) is None


def test_the_declined_answer_is_in_the_parse_output():
    message = parsed("faq", {"faq": answer("faq/router_setup", 0.09)})
    AnswerConfidenceFallback({"threshold": 0.15}).process([message])
    assert message.as_dict_nlu()[ANSWER_DECLINED]["intent_response_key"] == "faq/router_setup"


def test_the_default_threshold_applies_when_none_is_configured():
    config = AnswerConfidenceFallback.get_default_config()
    message = parsed("faq", {"faq": answer("faq/router_setup", config["threshold"] - 0.01)})
    AnswerConfidenceFallback(config).process([message])
    assert message.get("intent")["name"] == "nlu_fallback"


@pytest.mark.parametrize("threshold", [-0.1, 1.5, "high", None, True])
def test_a_threshold_outside_zero_to_one_is_refused(threshold):
    with pytest.raises(ValueError, match="'threshold' must be a number from 0 to 1"):
        AnswerConfidenceFallback({"threshold": threshold})


def nearest(intent: str, similarity: float) -> dict:
    return {
        "retrieval_intent": intent,
        "intent_response_key": f"{intent}/x",
        "similarity": similarity,
    }


@pytest.mark.parametrize(
    ("intent", "nearest_example", "declined"),
    [
        # A sure answer, but the nearest FAQ training question is far away: not ours.
        ("faq", nearest("faq", 0.31), True),
        ("faq", nearest("faq", 0.45), False),
        ("faq", nearest("faq", 0.80), False),
        # The similarity is about FAQ examples; a chitchat message is not judged by it.
        ("chitchat", nearest("faq", 0.10), False),
        # Nothing voted (no features): the selector's confidence alone decides.
        ("faq", None, False),
    ],
)
def test_a_question_far_from_every_example_is_declined(intent, nearest_example, declined):
    message = parsed(intent, {intent: answer(f"{intent}/roaming", 0.9)})
    if nearest_example is not None:
        message.set("nearest_example", nearest_example)

    AnswerConfidenceFallback({"threshold": 0.15, "min_similarity": 0.45}).process([message])

    if declined:
        assert message.get("intent")["name"] == "nlu_fallback"
        assert message.get(ANSWER_DECLINED) == {
            "intent_response_key": f"{intent}/roaming",
            "confidence": 0.9,
            "threshold": 0.15,
            "similarity": nearest_example["similarity"],
            "min_similarity": 0.45,
        }
    else:
        assert message.get("intent")["name"] == intent
        assert message.get(ANSWER_DECLINED) is None


def test_without_min_similarity_the_nearest_example_is_not_consulted():
    message = parsed("faq", {"faq": answer("faq/roaming", 0.9)})
    message.set("nearest_example", nearest("faq", 0.01))
    AnswerConfidenceFallback(AnswerConfidenceFallback.get_default_config()).process([message])
    assert message.get("intent")["name"] == "faq"


@pytest.mark.parametrize("min_similarity", [-1.5, 2, "far", True])
def test_a_min_similarity_that_is_not_a_cosine_is_refused(min_similarity):
    with pytest.raises(ValueError, match="'min_similarity' must be a number from -1 to 1"):
        AnswerConfidenceFallback({"threshold": 0.15, "min_similarity": min_similarity})
