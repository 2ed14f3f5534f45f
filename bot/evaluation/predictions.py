"""What the model said about one test message, taken from Rasa's parse data.

The predicted intent is the one the bot acts on: when the FallbackClassifier finds
the classifier unsure it replaces the intent with `nlu_fallback`, and that is the
prediction scored. The retrieval intent is the ResponseSelector's top answer key
(`faq/returns`), read from `parse_data["response_selector"]` under the predicted
retrieval intent's own selector if there is one, else under the shared `default`
selector (Baton trains one selector for all retrieval intents).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from bot.evaluation.examples import NluExample
from bot.parse_data import DEFAULT_SELECTOR


@dataclass(frozen=True)
class Prediction:
    """A test message, its true label and what the model predicted.

    Attributes:
        text: The message text.
        true_intent: The full true label (`faq/returns`).
        intent: The predicted intent after the fallback threshold (`faq`, `nlu_fallback`).
        confidence: The predicted intent's confidence.
        retrieval_intent: The ResponseSelector's top key (`faq/returns`), if any.
    """

    text: str
    true_intent: str
    intent: str
    confidence: float
    retrieval_intent: str | None = None


def top_retrieval_intent(parse_data: Mapping[str, Any], intent: str) -> str | None:
    """The ResponseSelector's top retrieval intent in Rasa parse data.

    Args:
        parse_data: The result of parsing a message.
        intent: The predicted intent, whose own selector is preferred.

    Returns:
        The full retrieval intent (`faq/returns`), or None without a selector.
    """
    selectors = parse_data.get("response_selector") or {}
    selector = selectors.get(intent) or selectors.get(DEFAULT_SELECTOR)
    if not selector:
        return None
    response = selector.get("response") or {}
    return response.get("intent_response_key") or None


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
    )
