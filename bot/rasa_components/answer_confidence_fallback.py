"""An NLU component that declines a retrieval answer its ResponseSelector is unsure of.

DIET decides *that* a message is an FAQ question, the ResponseSelector *which* one.
DIET is sure of many questions that are not ours at all ("how tall is the Eiffel
Tower" → `faq` at 1.00: it reads as a how-to question), and then the selector picks
the least unlikely topic, with low confidence, and the bot would answer with router
set-up instructions. In cross-validation (docs/quality.md) the selector's confidence
in its top answer told these apart: below 0.15 were 20 of 56 out-of-scope questions
answered as FAQs and 7 wrong answers, against 6 of 1,279 right answers.

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

THRESHOLD = "threshold"
# Why the intent was replaced, in the parse data, for debugging and the review export.
ANSWER_DECLINED = "answer_declined"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class AnswerConfidenceFallback(GraphComponent, IntentClassifier):
    """Replaces a retrieval intent by `nlu_fallback` when its selected answer is unsure."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {THRESHOLD: 0.15}

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
        if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0 <= threshold <= 1:
            raise ValueError(
                f"AnswerConfidenceFallback: '{THRESHOLD}' must be a number from 0 to 1, got {threshold!r}"
            )
        self._threshold = float(threshold)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            answer = selected_response(message.data)
            if answer is None:
                continue
            confidence = float(answer.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
            if confidence >= self._threshold:
                continue
            fallback = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: self._threshold}
            message.data[INTENT] = fallback
            message.data.setdefault(INTENT_RANKING_KEY, [])
            message.data[INTENT_RANKING_KEY].insert(0, dict(fallback))
            message.set(
                ANSWER_DECLINED,
                {
                    INTENT_RESPONSE_KEY: answer.get(INTENT_RESPONSE_KEY),
                    "confidence": confidence,
                    "threshold": self._threshold,
                },
                add_to_output=True,
            )
        return messages
