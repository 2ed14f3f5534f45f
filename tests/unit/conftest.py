"""Fixtures shared by the unit tests of the Rasa components."""

from __future__ import annotations

from typing import Callable, List

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_components.sentence_embeddings import SentenceEmbeddingFeaturizer


@pytest.fixture(scope="session")
def featurize() -> Callable[[List[Message]], List[Message]]:
    """Tokenizes and featurizes messages with the bundled MiniLM, under the alias the
    pipeline gives it ("minilm"), as the trained pipeline would before the components
    that read its vectors. Loaded once per session: the weights take seconds to load."""
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    featurizer = SentenceEmbeddingFeaturizer.create(
        {**SentenceEmbeddingFeaturizer.get_default_config(), "alias": "minilm"},
        None,
        None,
        ExecutionContext(None, node_name="minilm"),
    )

    def run(messages: List[Message]) -> List[Message]:
        tokenizer.process(messages)
        featurizer.process(messages)
        return messages

    return run
