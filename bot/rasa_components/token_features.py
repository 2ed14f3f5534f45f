"""Takes off the token-level features that no network of ours reads.

Every featurizer gives each message two kinds of features: one vector per token
(`sequence`) and one for the whole message (`sentence`). DIET and the
ResponseSelectors here have no transformer (config.yml), so nothing mixes the tokens:
each position goes through the same feed-forward layers on its own, and the intent or
answer is read off the last position alone, the one that holds the sentence features.
The token positions are computed, back-propagated through, and never affect a
prediction. Without them a message is parsed faster and the model is smaller; the
training time moved less than the arithmetic promised (DIET's epochs about as long as
before: docs/benchmarks.md, issue 20, session 17).

Rasa's networks need some token-level features to build their input layer, and the
dimensions of the token and the sentence features must stay equal, or Rasa inserts a
layer that unifies them and the network that decides changes. So `keep` names the
featurizers whose token features stay: the regex matches (a few columns) and MiniLM,
whose token vectors the nearest-examples vote and the handoff opinion average. What
reaches the last position, and so every prediction, is what it was.

Only the message text is trimmed: the selectors embed their answer labels from the
labels' own features, token positions included, and those stay as they were.

It runs on training examples and on every parsed message alike: a network trained
without these features must be given messages without them.
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class TokenFeatureRemover(GraphComponent):
    """Removes the text's token-level features of every featurizer not named in `keep`."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"keep": []}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TokenFeatureRemover:
        return cls(keep=config["keep"])

    def __init__(self, keep: Sequence[str]) -> None:
        if not isinstance(keep, (list, tuple)) or not all(isinstance(name, str) for name in keep):
            raise ValueError(
                f"TokenFeatureRemover: `keep` must be a list of featurizer names, got {keep!r}"
            )
        self._keep = frozenset(keep)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            message.features = [
                feature
                for feature in message.features
                if feature.attribute != TEXT
                or feature.type != FEATURE_TYPE_SEQUENCE
                or _made_by_one_of(feature.origin, self._keep)
            ]
        return messages


def _made_by_one_of(origin: str | List[str], featurizers: frozenset[str]) -> bool:
    """Rasa names a feature's featurizer, or several once features are combined."""
    if isinstance(origin, str):
        return origin in featurizers
    return all(name in featurizers for name in origin)
