"""An NLU component that puts the customer's mood on every parsed message.

`parse_data["sentiment"]` = {"compound": -1…1, "label": negative|neutral|positive,
"frustrated": bool, "cues": [...]}, from bot/sentiment (VADER's lexicon, shipped
inside the vaderSentiment package, plus Baton's customer-service cues). Rasa
parses customer messages even while a conversation is paused, so the trend keeps
growing while the customer waits for or talks to an agent.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.sentiment.analyzer import SentimentAnalyzer, shared_analyzer

SENTIMENT = "sentiment"


# An extractor that needs no training: Rasa runs it on every message it parses,
# and never on the training data.
@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class SentimentAnnotator(GraphComponent):
    """Adds `sentiment` to each message's parse data."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentimentAnnotator:
        return cls(shared_analyzer())

    def __init__(self, analyzer: SentimentAnalyzer) -> None:
        self._analyzer = analyzer

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str):
                sentiment = self._analyzer.analyze(text).as_dict()
                message.set(SENTIMENT, sentiment, add_to_output=True)
        return messages
