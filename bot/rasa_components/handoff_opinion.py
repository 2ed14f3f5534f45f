"""A second opinion on the decision that matters most: does the customer want a person?

DIET reads words and word pieces it was trained on; people ask for a person in words
it never saw ("someone else", "an actual human being", "ring me back"), in the middle of
a long message, or with typos, and it misses them (docs/quality.md, text written
apart: recall 0.67). It also hears a handoff in "help me buy a phone". MiniLM was
trained to put sentences of the same meaning close together, so a small linear
classifier on the MiniLM vector the pipeline already computes (no second encoder)
carries over to wordings the training data lacks.

Trained with the rest of the pipeline: a logistic regression (scikit-learn, weights
balanced between the two classes) on the unit-length mean of MiniLM's token vectors of
every training example, `request_human` against everything else. At parse time it
scores the whole message and each of its clauses (split at . ? ! ; and line breaks,
each the mean of its own tokens' vectors, which MiniLM computed in the context of the
whole message), and takes the highest: "My bill is wrong again. Can I speak to
someone?" is a request for a person although most of it is about a bill.

Then, at the end of the NLU pipeline:
- the intent is not `request_human` (a fallback included) and the probability is at
  least `promote_at`: the intent becomes `request_human` with that confidence;
- the intent is `request_human` and the probability is below `demote_below`: the next
  intent of the ranking takes its place, or `nlu_fallback` when that one is less sure
  than `fallback_threshold` (the FallbackClassifier's own threshold);
- either way `parse_data["handoff_opinion"]` says the probability and what changed.
The thresholds were chosen in cross-validation (docs/decisions/0010).
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
from numpy.typing import NDArray
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
    TEXT_TOKENS,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.constants import INTENT_NLU_FALLBACK, INTENT_REQUEST_HUMAN

FEATURIZER = "featurizer"
PROMOTE_AT = "promote_at"
DEMOTE_BELOW = "demote_below"
FALLBACK_THRESHOLD = "fallback_threshold"
REGULARISATION = "regularisation"

# parse_data["handoff_opinion"]: {"probability", "changed"} — changed is one of these.
HANDOFF_OPINION = "handoff_opinion"
PROMOTED, DEMOTED, UNCHANGED = "promoted", "demoted", "unchanged"

WEIGHTS_FILE = "weights.json"
# Where one clause ends and another begins in what a customer types.
CLAUSE_END = re.compile(r"[.?!;\n]")
# A clause of one word ("please", "thanks") says too little to be scored alone.
MIN_CLAUSE_TOKENS = 2


class HandoffOpinionConfigError(ValueError):
    """config.yml gives the component a setting it cannot use."""


def unit_mean(vectors: NDArray[Any]) -> NDArray[Any] | None:
    """The unit-length mean of some token vectors, or None for none (or a zero mean)."""
    if len(vectors) == 0:
        return None
    mean = np.asarray(vectors, dtype=np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else None


def clause_spans(text: str, token_spans: Sequence[Tuple[int, int]]) -> List[Tuple[int, int]]:
    """The token index ranges [start, end) of each clause of `text` with at least
    MIN_CLAUSE_TOKENS tokens; a clause ends where the text between two tokens (or inside
    a token's end, "someone?") holds a clause-ending mark."""
    spans: List[Tuple[int, int]] = []
    start = 0
    for index, (_, token_end) in enumerate(token_spans):
        following = token_spans[index + 1][0] if index + 1 < len(token_spans) else len(text)
        # From the token's last character: a tokenizer may keep "again." whole.
        if CLAUSE_END.search(text[token_end - 1 : following]) or index == len(token_spans) - 1:
            if index + 1 - start >= MIN_CLAUSE_TOKENS:
                spans.append((start, index + 1))
            start = index + 1
    return spans


def message_vectors(message: Message, featurizer: str) -> List[NDArray[Any]]:
    """The whole message's vector, then each clause's when there are several clauses."""
    sequence, _ = message.get_dense_features(TEXT, [featurizer])
    if sequence is None or len(sequence.features) == 0:
        return []
    tokens = np.asarray(sequence.features, dtype=np.float32)
    whole = unit_mean(tokens)
    vectors = [whole] if whole is not None else []
    text_tokens = message.get(TEXT_TOKENS) or []
    if len(text_tokens) != len(tokens):
        return vectors
    spans = clause_spans(message.get(TEXT) or "", [(t.start, t.end) for t in text_tokens])
    if len(spans) > 1:
        for start, end in spans:
            clause = unit_mean(tokens[start:end])
            if clause is not None:
                vectors.append(clause)
    return vectors


def probability(vectors: Sequence[NDArray[Any]], weights: NDArray[Any], bias: float) -> float:
    """The highest request-for-a-person probability among the vectors (0 for none)."""
    if not vectors:
        return 0.0
    scores = np.vstack(vectors) @ weights + bias
    return float(1.0 / (1.0 + np.exp(-scores.max())))


def revised_intent(
    intent: Dict[str, Any],
    ranking: Sequence[Dict[str, Any]],
    chance: float,
    promote_at: float,
    demote_below: float,
    fallback_threshold: float,
) -> Tuple[Dict[str, Any], str]:
    """The intent after the second opinion, and what changed."""
    name = intent.get(INTENT_NAME_KEY)
    if name != INTENT_REQUEST_HUMAN and chance >= promote_at:
        return {INTENT_NAME_KEY: INTENT_REQUEST_HUMAN, PREDICTED_CONFIDENCE_KEY: chance}, PROMOTED
    if name == INTENT_REQUEST_HUMAN and chance < demote_below:
        others = [
            entry
            for entry in ranking
            if entry.get(INTENT_NAME_KEY) not in (INTENT_REQUEST_HUMAN, INTENT_NLU_FALLBACK)
        ]
        if others and float(others[0].get(PREDICTED_CONFIDENCE_KEY) or 0) >= fallback_threshold:
            best = others[0]
            return {
                INTENT_NAME_KEY: best[INTENT_NAME_KEY],
                PREDICTED_CONFIDENCE_KEY: float(best[PREDICTED_CONFIDENCE_KEY]),
            }, DEMOTED
        return {
            INTENT_NAME_KEY: INTENT_NLU_FALLBACK,
            PREDICTED_CONFIDENCE_KEY: fallback_threshold,
        }, DEMOTED
    return intent, UNCHANGED


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class HandoffSecondOpinion(GraphComponent):
    """Promotes or demotes `request_human` on a classifier of MiniLM's sentence vector."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            FEATURIZER: "minilm",
            PROMOTE_AT: 0.9,
            DEMOTE_BELOW: 0.1,
            FALLBACK_THRESHOLD: 0.45,
            REGULARISATION: 1.0,
        }

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> HandoffSecondOpinion:
        return cls(config, model_storage, resource)

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        weights: NDArray[Any] | None = None,
        bias: float = 0.0,
    ) -> None:
        featurizer = config.get(FEATURIZER)
        if not isinstance(featurizer, str) or not featurizer:
            raise HandoffOpinionConfigError(
                f"HandoffSecondOpinion: '{FEATURIZER}' must be a name, got {featurizer!r}"
            )
        self._featurizer = featurizer
        self._promote_at = _share(config, PROMOTE_AT)
        self._demote_below = _share(config, DEMOTE_BELOW)
        self._fallback_threshold = _share(config, FALLBACK_THRESHOLD)
        if self._demote_below >= self._promote_at:
            raise HandoffOpinionConfigError(
                f"HandoffSecondOpinion: '{DEMOTE_BELOW}' ({self._demote_below}) must be below "
                f"'{PROMOTE_AT}' ({self._promote_at})"
            )
        regularisation = config.get(REGULARISATION)
        if not isinstance(regularisation, (int, float)) or regularisation <= 0:
            raise HandoffOpinionConfigError(
                f"HandoffSecondOpinion: '{REGULARISATION}' must be a positive number, "
                f"got {regularisation!r}"
            )
        self._regularisation = float(regularisation)
        self._model_storage = model_storage
        self._resource = resource
        self._weights = weights
        self._bias = bias

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        vectors: List[NDArray[Any]] = []
        wanted: List[bool] = []
        for message in training_data.intent_examples:
            found = message_vectors(message, self._featurizer)
            if found:
                vectors.append(found[0])
                wanted.append(message.get(INTENT) == INTENT_REQUEST_HUMAN)
        if len(set(wanted)) < 2:
            raise HandoffOpinionConfigError(
                "HandoffSecondOpinion needs examples of request_human and of other intents "
                f"with dense features from '{self._featurizer}' (an alias of a dense "
                "featurizer earlier in config.yml's pipeline)"
            )
        classifier = LogisticRegression(
            C=self._regularisation, class_weight="balanced", max_iter=2000
        )
        classifier.fit(np.vstack(vectors), np.asarray(wanted))
        self._weights = classifier.coef_[0].astype(np.float32)
        self._bias = float(classifier.intercept_[0])
        with self._model_storage.write_to(self._resource) as directory:
            (directory / WEIGHTS_FILE).write_text(
                json.dumps({"weights": self._weights.tolist(), "bias": self._bias}),
                encoding="utf-8",
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
    ) -> HandoffSecondOpinion:
        with model_storage.read_from(resource) as directory:
            stored = json.loads((directory / WEIGHTS_FILE).read_text(encoding="utf-8"))
        weights = np.asarray(stored["weights"], dtype=np.float32)
        return cls(config, model_storage, resource, weights, float(stored["bias"]))

    def process(self, messages: List[Message]) -> List[Message]:
        if self._weights is None:
            return messages
        for message in messages:
            intent = message.get(INTENT)
            if not intent:
                continue
            chance = probability(
                message_vectors(message, self._featurizer), self._weights, self._bias
            )
            ranking = message.get(INTENT_RANKING_KEY) or []
            revised, changed = revised_intent(
                intent,
                ranking,
                chance,
                self._promote_at,
                self._demote_below,
                self._fallback_threshold,
            )
            if changed != UNCHANGED:
                message.set(INTENT, revised, add_to_output=True)
                rest = [e for e in ranking if e.get(INTENT_NAME_KEY) != revised[INTENT_NAME_KEY]]
                message.set(INTENT_RANKING_KEY, [revised, *rest], add_to_output=True)
            message.set(
                HANDOFF_OPINION,
                {"probability": round(chance, 4), "changed": changed},
                add_to_output=True,
            )
        return messages


def _share(config: Dict[str, Any], key: str) -> float:
    value = config.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
        raise HandoffOpinionConfigError(
            f"HandoffSecondOpinion: '{key}' must be a number from 0 to 1, got {value!r}"
        )
    return float(value)
