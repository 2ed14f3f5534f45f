"""An NLU component that declines a retrieval answer its ResponseSelector is unsure of.

DIET decides *that* a message is an FAQ question, the ResponseSelector *which* one.
DIET is sure of many questions that are not ours at all ("how tall is the Eiffel
Tower" → `faq` at 1.00: it reads as a how-to question), and then the selector picks
the least unlikely topic, with low confidence, and the bot would answer with router
set-up instructions. In cross-validation (docs/quality.md) the selector's confidence
in its top answer told these apart: below 0.15 were 20 of 56 out-of-scope questions
answered as FAQs and 7 wrong answers, against 6 of 1,279 right answers.

With `min_similarity` set, a message is also declined when the nearest training
example of its retrieval intent (`parse_data["nearest_example"]`, from
`NearestExamplesVote`) is less similar than that: once the nearest examples vote on
the answer, the ranking's confidence is higher for questions that are not ours, and
the distance to the nearest example tells them apart better (docs/quality.md).

Below `threshold`, the intent becomes `nlu_fallback`, exactly as Rasa's
FallbackClassifier marks a message it is unsure of, so the bot asks the customer to
rephrase (and counts a fallback towards escalation) instead of answering the wrong
question. The selector's output stays in the parse data for the review export.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message

from bot.parse_data import selected_response
from bot.rasa_components.nearest_examples import NEAREST_EXAMPLE, RETRIEVAL_INTENT, SIMILARITY

THRESHOLD = "threshold"
MIN_SIMILARITY = "min_similarity"
# Why the intent was replaced, in the parse data, for debugging and the review export.
ANSWER_DECLINED = "answer_declined"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class AnswerConfidenceFallback(GraphComponent, IntentClassifier):
    """Replaces a retrieval intent by `nlu_fallback` when its selected answer is unsure."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {THRESHOLD: 0.15, MIN_SIMILARITY: None}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> AnswerConfidenceFallback:
        return cls(config)

    def __init__(self, config: Dict[str, Any]) -> None:
        threshold = config.get(THRESHOLD)
        if (
            not isinstance(threshold, (int, float))
            or isinstance(threshold, bool)
            or not 0 <= threshold <= 1
        ):
            raise ValueError(
                f"AnswerConfidenceFallback: '{THRESHOLD}' must be a number from 0 to 1, got "
                f"{threshold!r}"
            )
        self._threshold = float(threshold)
        min_similarity = config.get(MIN_SIMILARITY)
        if min_similarity is not None and (
            not isinstance(min_similarity, (int, float))
            or isinstance(min_similarity, bool)
            or not -1 <= min_similarity <= 1
        ):
            raise ValueError(
                f"AnswerConfidenceFallback: '{MIN_SIMILARITY}' must be a number from -1 to 1 "
                f"(a cosine similarity) or null, got {min_similarity!r}"
            )
        self._min_similarity = None if min_similarity is None else float(min_similarity)

    def _too_far(self, message: Message) -> float | None:
        """The nearest training example's similarity when it is below `min_similarity`."""
        if self._min_similarity is None:
            return None
        nearest = message.get(NEAREST_EXAMPLE) or {}
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if nearest.get(RETRIEVAL_INTENT) != intent or SIMILARITY not in nearest:
            return None
        similarity = float(nearest[SIMILARITY])
        return similarity if similarity < self._min_similarity else None

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            answer = selected_response(message.data)
            if answer is None:
                continue
            confidence = float(answer.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
            too_far = self._too_far(message)
            if confidence >= self._threshold and too_far is None:
                continue
            fallback = {
                INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME,
                PREDICTED_CONFIDENCE_KEY: self._threshold,
            }
            message.data[INTENT] = fallback
            message.data.setdefault(INTENT_RANKING_KEY, [])
            message.data[INTENT_RANKING_KEY].insert(0, dict(fallback))
            declined = {
                INTENT_RESPONSE_KEY: answer.get(INTENT_RESPONSE_KEY),
                "confidence": confidence,
                "threshold": self._threshold,
            }
            if too_far is not None:
                declined.update({SIMILARITY: too_far, MIN_SIMILARITY: self._min_similarity})
            message.set(ANSWER_DECLINED, declined, add_to_output=True)
        return messages
