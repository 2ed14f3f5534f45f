"""What the model said about one test message, taken from Rasa's parse data.

The predicted intent is the one the bot acts on: when the FallbackClassifier finds
the classifier unsure it replaces the intent with `nlu_fallback`, and that is the
prediction scored. The retrieval intent is the ResponseSelector's top answer key
(`faq/returns`), read from `parse_data["response_selector"]` under the predicted
retrieval intent's own selector if there is one (Baton trains one per retrieval
intent), else under a shared `default` selector, as the bot reads it
(`bot.parse_data`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Tuple

from bot.evaluation.examples import NluExample
from bot.faq_suggestions import suggested_answers
from bot.parse_data import selected_response_for


@dataclass(frozen=True)
class Prediction:
    """A test message, its true label and what the model predicted.

    Attributes:
        text: The message text.
        true_intent: The full true label (`faq/returns`).
        intent: The predicted intent after the fallback threshold (`faq`, `nlu_fallback`).
        confidence: The predicted intent's confidence.
        retrieval_intent: The ResponseSelector's top key (`faq/returns`), if any.
        suggested_answers: The FAQ answers a declined message is offered as "Did you
            mean…?" buttons (`bot.faq_suggestions`), best first.
    """

    text: str
    true_intent: str
    intent: str
    confidence: float
    retrieval_intent: str | None = None
    suggested_answers: Tuple[str, ...] = ()


def top_retrieval_intent(parse_data: Mapping[str, Any], intent: str) -> str | None:
    """The ResponseSelector's top retrieval intent in Rasa parse data.

    Args:
        parse_data: The result of parsing a message.
        intent: The predicted intent, whose own selector is preferred.

    Returns:
        The full retrieval intent (`faq/returns`), or None when no selector gave an
        answer of `intent` (a shared selector can answer a chitchat key for `faq`).
    """
    response = selected_response_for(parse_data, intent)
    return str(response["intent_response_key"]) if response else None


def prediction_from_parse(example: NluExample, parse_data: Mapping[str, Any]) -> Prediction:
    """A Prediction from a test example and the model's parse of its text."""
    intent = parse_data.get("intent") or {}
    name = intent.get("name") or ""
    return Prediction(
        text=example.text,
        true_intent=example.intent,
        intent=name,
        confidence=float(intent.get("confidence") or 0.0),
        retrieval_intent=top_retrieval_intent(parse_data, name),
        suggested_answers=tuple(suggested_answers(parse_data)),
    )
