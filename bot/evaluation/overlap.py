"""Which messages of a test set are near a training example, as MiniLM sees them.

A set written apart measures reading text nobody here wrote only where it is unlike our
data. Independent writers still write "hi", "thanks" or "can I speak to someone" the same
way we did; those messages measure memory, not reading. `make eval` scores the set written
apart without every message whose MiniLM vector has a cosine similarity of at least
NEAR_TRAINING with a training example's (and says how many were left out). New training
data is kept further than that from the set (docs/quality.md).
"""

from __future__ import annotations

from typing import Any, Callable, List, Sequence

import numpy as np
from numpy.typing import NDArray

NEAR_TRAINING = 0.9
_BATCH = 256


Featurize = Callable[[List[Any]], List[Any]]


def minilm_featurizer() -> Featurize:
    """Tokenizes and featurizes Rasa messages in place with the bundled MiniLM under the
    alias the pipeline gives it ("minilm"), as the trained pipeline does before the
    components that read its vectors. Loading the weights takes seconds: build it once."""
    from rasa.engine.graph import ExecutionContext
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.rasa_components.sentence_embeddings import SentenceEmbeddingFeaturizer

    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    featurizer = SentenceEmbeddingFeaturizer.create(
        {**SentenceEmbeddingFeaturizer.get_default_config(), "alias": "minilm"},
        None,  # the featurizer stores nothing: no model storage, no resource
        None,
        ExecutionContext(None, node_name="minilm"),
    )

    def featurize(messages: List[Any]) -> List[Any]:
        # As training data: the featurizer then reads them in batches of similar length
        # (the vectors are those of parsing one at a time: tests/unit/test_sentence_
        # embeddings.py), several times faster than message by message.
        # Set, not passed: TrainingData's constructor drops repeated texts, and every
        # message here needs its vector.
        messages_as_data = TrainingData()
        messages_as_data.training_examples = list(messages)
        tokenizer.process_training_data(messages_as_data)
        featurizer.process_training_data(messages_as_data)
        return messages

    return featurize


def sentence_vectors(texts: Sequence[str], featurize: Featurize) -> NDArray[Any]:
    """The unit-length MiniLM sentence vector of each text, as the pipeline computes it,
    one row per text."""
    from rasa.shared.nlu.training_data.message import Message

    from bot.rasa_components.handoff_opinion import message_vectors

    rows: List[NDArray[Any]] = []
    for start in range(0, len(texts), _BATCH):
        messages = featurize(
            [Message(data={"text": text}) for text in texts[start : start + _BATCH]]
        )
        for message in messages:
            vectors = message_vectors(message, "minilm")
            rows.append(vectors[0] if vectors else np.zeros(384, dtype=np.float32))
    return np.vstack(rows) if rows else np.zeros((0, 384), dtype=np.float32)


def near_training(
    test_vectors: NDArray[Any], training_vectors: NDArray[Any], threshold: float = NEAR_TRAINING
) -> List[bool]:
    """For each test row, whether some training row has a cosine similarity of at least
    `threshold` with it (rows are unit length)."""
    if len(test_vectors) == 0 or len(training_vectors) == 0:
        return [False] * len(test_vectors)
    nearest = (test_vectors @ training_vectors.T).max(axis=1)
    return [bool(similarity >= threshold) for similarity in nearest]
