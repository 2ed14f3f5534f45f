"""An NLU component that lets the nearest training examples vote on an FAQ answer.

The ResponseSelector learns to pick an answer from the training examples, and learns
them well: in cross-validation it is right about which FAQ a question asks 97 times in
100. On questions worded unlike any it trained on it is wrong more often, and the
held-out split is where the FAQ target was missed until this vote (docs/quality.md,
session 11: held-out FAQ top-1 0.891 → 0.920). MiniLM was
trained to put paraphrases close together, so the simplest use of it, "which training
questions is this one closest to?", carries over to new wordings without having been
fitted to the training data at all.

After the ResponseSelector, this component takes the mean of MiniLM's token vectors
of the message (unit length), finds the `k` training examples of the retrieval intent
with the highest cosine similarity, and gives each answer the share of their summed
similarity. The answer ranking becomes `(1 - weight) * selector confidence + weight *
vote share`, and the top answer, its confidence and its `utter_action` follow it, so
everything downstream (the answer check, "Did you mean…?", the answer action) reads
the blended ranking as it read the selector's.

It also records how close the nearest example is (`parse_data["nearest_example"]`):
a question far from every FAQ example ("how tall is the Eiffel Tower") is not ours,
whatever the selector ranks first, and `AnswerConfidenceFallback` can decline it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence

import numpy as np
from numpy.typing import NDArray
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.nlu.training_data.util import intent_response_key_to_template_key
from rasa.shared.utils.io import raise_warning

RETRIEVAL_INTENT = "retrieval_intent"
FEATURIZER = "featurizer"
NEIGHBOURS = "k"
WEIGHT = "weight"

# parse_data["nearest_example"]: {"retrieval_intent", "intent_response_key", "similarity"}.
NEAREST_EXAMPLE = "nearest_example"
SIMILARITY = "similarity"

VECTORS_FILE = "vectors.npy"
LABELS_FILE = "labels.json"


class NearestExamplesConfigError(ValueError):
    """config.yml gives the component a setting it cannot use."""


@dataclass(frozen=True)
class Vote:
    """What the nearest examples say about one message."""

    shares: Dict[str, float]  # answer key → share of the neighbours' summed similarity
    nearest_label: str
    nearest_similarity: float


def sentence_vector(message: Message, featurizer: str) -> NDArray[Any] | None:
    """The unit-length mean of the featurizer's token vectors of the message's text,
    or None when the message has no such features (an empty text)."""
    sequence, _ = message.get_dense_features(TEXT, [featurizer])
    if sequence is None or len(sequence.features) == 0:
        return None
    mean = np.asarray(sequence.features, dtype=np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else None


def vote(
    vector: NDArray[Any], vectors: NDArray[Any], labels: Sequence[str], neighbours: int
) -> Vote:
    """The `neighbours` most similar rows of `vectors` (unit length) vote for their labels,
    each with its cosine similarity to `vector`."""
    similarities = vectors @ vector
    count = min(neighbours, len(labels))
    nearest = np.argpartition(-similarities, count - 1)[:count]
    nearest = nearest[np.argsort(-similarities[nearest])]
    weights = np.clip(similarities[nearest], 0.0, None)
    total = float(weights.sum())
    shares: Dict[str, float] = {}
    for index, weight in zip(nearest, weights, strict=True):
        share = float(weight) / total if total > 0 else 1.0 / count
        shares[labels[index]] = shares.get(labels[index], 0.0) + share
    best = int(nearest[0])
    return Vote(
        shares=shares, nearest_label=labels[best], nearest_similarity=float(similarities[best])
    )


def blended_ranking(
    selector_ranking: Sequence[Dict[str, Any]], shares: Dict[str, float], weight: float
) -> List[Dict[str, Any]]:
    """The selector's answer ranking re-scored as `(1 - weight) * confidence + weight *
    share`, best first; an answer only the neighbours named is added to it."""
    scored: Dict[str, Dict[str, Any]] = {}
    for entry in selector_ranking:
        key = str(entry[INTENT_RESPONSE_KEY])
        confidence = (1 - weight) * float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        scored[key] = {**entry, PREDICTED_CONFIDENCE_KEY: confidence}
    for key, share in shares.items():
        entry = scored.setdefault(key, {INTENT_RESPONSE_KEY: key, PREDICTED_CONFIDENCE_KEY: 0.0})
        entry[PREDICTED_CONFIDENCE_KEY] += weight * share
    return sorted(scored.values(), key=lambda entry: -entry[PREDICTED_CONFIDENCE_KEY])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class NearestExamplesVote(GraphComponent):
    """Blends the nearest training examples' vote into a ResponseSelector's ranking."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {RETRIEVAL_INTENT: "faq", FEATURIZER: "minilm", NEIGHBOURS: 5, WEIGHT: 0.5}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NearestExamplesVote:
        return cls(config, model_storage, resource)

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vectors: NDArray[Any] | None = None,
        labels: Sequence[str] = (),
        responses: Dict[str, List[Dict[str, Any]]] | None = None,
    ) -> None:
        self._retrieval_intent = _checked_text(config, RETRIEVAL_INTENT)
        self._featurizer = _checked_text(config, FEATURIZER)
        neighbours = config.get(NEIGHBOURS)
        if not isinstance(neighbours, int) or isinstance(neighbours, bool) or neighbours < 1:
            raise NearestExamplesConfigError(
                f"NearestExamplesVote: '{NEIGHBOURS}' must be a whole number of at least 1, got "
                f"{neighbours!r}"
            )
        weight = config.get(WEIGHT)
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 <= weight <= 1:
            raise NearestExamplesConfigError(
                f"NearestExamplesVote: '{WEIGHT}' must be a number from 0 to 1, got {weight!r}"
            )
        self._neighbours = neighbours
        self._weight = float(weight)
        self._model_storage = model_storage
        self._resource = resource
        self._vectors = vectors if vectors is not None else np.zeros((0, 0), dtype=np.float32)
        self._labels = list(labels)
        self._responses = dict(responses or {})

    def train(self, training_data: TrainingData) -> Resource:
        vectors: List[NDArray[Any]] = []
        labels: List[str] = []
        examples = [
            message
            for message in training_data.intent_examples
            if message.get(INTENT) == self._retrieval_intent and message.get(INTENT_RESPONSE_KEY)
        ]
        for message in examples:
            vector = sentence_vector(message, self._featurizer)
            if vector is not None:
                vectors.append(vector)
                labels.append(str(message.get(INTENT_RESPONSE_KEY)))
        if examples and not labels:
            # A misspelt alias would otherwise train a vote that never votes.
            raise NearestExamplesConfigError(
                f"NearestExamplesVote: no '{self._retrieval_intent}' example has dense features "
                f"from '{self._featurizer}'; '{FEATURIZER}' must be the alias of a dense "
                "featurizer earlier in config.yml's pipeline"
            )
        if not examples:
            raise_warning(
                f"NearestExamplesVote found no '{self._retrieval_intent}' examples to vote; "
                "it will leave the ranking as it is."
            )
        self._vectors = np.vstack(vectors) if vectors else np.zeros((0, 0), dtype=np.float32)
        self._labels = labels
        prefix = intent_response_key_to_template_key(f"{self._retrieval_intent}/")
        self._responses = {
            key: value for key, value in training_data.responses.items() if key.startswith(prefix)
        }
        with self._model_storage.write_to(self._resource) as directory:
            np.save(directory / VECTORS_FILE, self._vectors)
            (directory / LABELS_FILE).write_text(
                json.dumps({"labels": labels, "responses": self._responses}), encoding="utf-8"
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> NearestExamplesVote:
        with model_storage.read_from(resource) as directory:
            vectors = np.load(directory / VECTORS_FILE)
            stored = json.loads((directory / LABELS_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, vectors, stored["labels"], stored["responses"])

    def process(self, messages: List[Message]) -> List[Message]:
        if not self._labels:
            return messages
        for message in messages:
            selector = (message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}).get(
                self._retrieval_intent
            )
            if not selector:
                continue
            vector = sentence_vector(message, self._featurizer)
            if vector is None:
                continue
            result = vote(vector, self._vectors, self._labels, self._neighbours)
            ranking = blended_ranking(
                selector.get(RESPONSE_SELECTOR_RANKING_KEY) or [], result.shares, self._weight
            )
            selector[RESPONSE_SELECTOR_RANKING_KEY] = ranking
            prediction = selector[RESPONSE_SELECTOR_PREDICTION_KEY]
            top = ranking[0]
            utter_action = intent_response_key_to_template_key(top[INTENT_RESPONSE_KEY])
            prediction[INTENT_RESPONSE_KEY] = top[INTENT_RESPONSE_KEY]
            prediction[PREDICTED_CONFIDENCE_KEY] = top[PREDICTED_CONFIDENCE_KEY]
            prediction[RESPONSE_SELECTOR_UTTER_ACTION_KEY] = utter_action
            prediction[RESPONSE_SELECTOR_RESPONSES_KEY] = self._responses.get(utter_action, [])
            message.set(
                NEAREST_EXAMPLE,
                {
                    RETRIEVAL_INTENT: self._retrieval_intent,
                    INTENT_RESPONSE_KEY: result.nearest_label,
                    SIMILARITY: round(result.nearest_similarity, 4),
                },
                add_to_output=True,
            )
        return messages


def _checked_text(config: Dict[str, Any], key: str) -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value:
        raise NearestExamplesConfigError(
            f"NearestExamplesVote: '{key}' must be a name, got {value!r}"
        )
    return value
