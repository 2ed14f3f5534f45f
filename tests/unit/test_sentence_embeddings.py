"""MiniLM sentence features: the bundled weights, offline loading, the same features in
training and parsing."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa_components.sentence_embeddings import (
    WEIGHTS_BYTES,
    WEIGHTS_FILE,
    SentenceEmbeddingFeaturizer,
    SentenceModelMissing,
    bundled_model_path,
    checked_model_folder,
)

# sentence-transformers/all-MiniLM-L6-v2, revision 1110a243, model.safetensors.
PUBLISHED_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


@pytest.fixture(scope="module")
def featurizer() -> SentenceEmbeddingFeaturizer:
    config = SentenceEmbeddingFeaturizer.get_default_config()
    return SentenceEmbeddingFeaturizer.create(
        config, None, None, ExecutionContext(None, node_name="minilm")
    )


@pytest.fixture(scope="module")
def tokenizer() -> WhitespaceTokenizer:
    return WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())


def featurized(
    text: str, featurizer: SentenceEmbeddingFeaturizer, tokenizer: WhitespaceTokenizer
) -> Message:
    message = Message(data={"text": text})
    tokenizer.process([message])
    featurizer.process([message])
    return message


def sentence_vector(message: Message) -> np.ndarray:
    _, sentence = message.get_dense_features("text")
    return sentence.features[0]


def cosine(first: np.ndarray, second: np.ndarray) -> float:
    return float(first @ second / (np.linalg.norm(first) * np.linalg.norm(second)))


def test_the_bundled_weights_are_the_published_all_minilm_l6_v2():
    weights = bundled_model_path() / WEIGHTS_FILE
    assert weights.stat().st_size == WEIGHTS_BYTES
    digest = hashlib.sha256()
    with weights.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    assert digest.hexdigest() == PUBLISHED_WEIGHTS_SHA256
    assert (bundled_model_path() / "vocab.txt").is_file()


def test_a_folder_without_the_weights_is_refused_before_anything_is_loaded(tmp_path):
    with pytest.raises(SentenceModelMissing, match="does not exist"):
        checked_model_folder(tmp_path)


def test_truncated_weights_are_refused(tmp_path):
    (tmp_path / WEIGHTS_FILE).write_bytes(b"\0" * 1024)
    with pytest.raises(SentenceModelMissing, match="1024 bytes"):
        checked_model_folder(tmp_path)


def test_a_configured_folder_without_weights_fails_with_the_reason(tmp_path):
    config = {**SentenceEmbeddingFeaturizer.get_default_config(), "model_weights": str(tmp_path)}
    with pytest.raises(SentenceModelMissing, match="make install"):
        SentenceEmbeddingFeaturizer.create(
            config, None, None, ExecutionContext(None, node_name="minilm")
        )


def test_each_word_gets_a_vector_and_the_message_one_sentence_vector(featurizer, tokenizer):
    message = featurized("my router keeps dropping the connection", featurizer, tokenizer)
    sequence, sentence = message.get_dense_features("text")
    assert sequence.features.shape == (6, 384)
    assert sentence.features.shape == (1, 384)


def test_paraphrases_are_closer_than_different_questions(featurizer, tokenizer):
    bill = sentence_vector(featurized("why is my bill higher this month", featurizer, tokenizer))
    paraphrase = sentence_vector(featurized("my invoice went up, how come?", featurizer, tokenizer))
    other = sentence_vector(featurized("how do I change my wifi password", featurizer, tokenizer))
    # Cosine, not the dot product: the [CLS] vectors are not of unit length (about 7).
    assert cosine(bill, paraphrase) > cosine(bill, other) + 0.15


def test_training_examples_get_the_features_a_parsed_message_gets(featurizer, tokenizer):
    # Training featurizes padded batches, shortest messages first, parsing one message
    # at a time: neither the padding nor the order may change a message's vector, or the
    # selector would learn other features.
    texts = ["can I keep my number if I switch to you from another network", "hi", "my bill"]
    alone = [sentence_vector(featurized(text, featurizer, tokenizer)) for text in texts]
    messages = [Message(data={"text": text, "intent": "faq"}) for text in texts]
    training_data = TrainingData(training_examples=messages)
    tokenizer.process_training_data(training_data)
    featurizer.process_training_data(training_data)
    for message, expected in zip(messages, alone, strict=True):
        assert sentence_vector(message) == pytest.approx(expected, abs=1e-5)
