"""The text's token-level features come off unless kept, and a network without a
transformer predicts what it predicted with them (bot/rasa_components/token_features.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List

import numpy as np
import pytest
import scipy.sparse
from rasa.engine.graph import ExecutionContext
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.evaluation.examples import load_training_data
from bot.evaluation.nlu_model import train_nlu_model
from bot.rasa_components.token_features import TokenFeatureRemover
from tests.evaluation.test_nlu_runs import DOMAIN, NLU
from tests.unit.test_network_loading import rankings


def remover(keep: Any) -> TokenFeatureRemover:
    return TokenFeatureRemover.create(
        {"keep": keep}, None, None, ExecutionContext(None, node_name="token_features")
    )


def feature(kind: str, attribute: str, origin: Any) -> Features:
    return Features(scipy.sparse.coo_matrix(np.ones((1, 2))), kind, attribute, origin)


def described(message: Message) -> List[tuple]:
    return [(f.type, f.attribute, f.origin) for f in message.features]


def featurized_message() -> Message:
    message = Message(data={TEXT: "where is my parcel", INTENT: "ask_order_status"})
    for origin in ("regexes", "words", "minilm"):
        message.add_features(feature("sequence", TEXT, origin))
        message.add_features(feature("sentence", TEXT, origin))
    message.add_features(feature("sequence", INTENT, "words"))
    return message


def test_only_the_texts_token_features_of_featurizers_not_kept_come_off() -> None:
    message = featurized_message()

    remover(["regexes", "minilm"]).process([message])

    assert described(message) == [
        ("sequence", TEXT, "regexes"),
        ("sentence", TEXT, "regexes"),
        ("sentence", TEXT, "words"),
        ("sequence", TEXT, "minilm"),
        ("sentence", TEXT, "minilm"),
        # A label's features are the label's embedding: they stay whole.
        ("sequence", INTENT, "words"),
    ]


def test_training_examples_are_trimmed_as_parsed_messages_are() -> None:
    parsed = featurized_message()
    training_data = TrainingData(training_examples=[featurized_message()])

    remover(["regexes"]).process([parsed])
    processed = remover(["regexes"]).process_training_data(training_data)

    assert processed is training_data
    assert described(processed.training_examples[0]) == described(parsed)


def test_features_combined_from_several_featurizers_stay_only_if_all_are_kept() -> None:
    message = Message(data={TEXT: "hi"})
    message.add_features(feature("sequence", TEXT, ["regexes", "words"]))
    message.add_features(feature("sequence", TEXT, ["regexes", "minilm"]))

    remover(["regexes", "minilm"]).process([message])

    assert described(message) == [("sequence", TEXT, ["regexes", "minilm"])]


@pytest.mark.parametrize("keep", ["regexes", [1, "words"], None])
def test_a_keep_that_is_not_a_list_of_names_is_refused_with_the_value(keep: Any) -> None:
    with pytest.raises(ValueError, match="`keep` must be a list of featurizer names"):
        remover(keep)


# Two featurizers of the text; the remover keeps the characters' token features only.
CONFIG = """\
recipe: default.v1
language: en
assistant_id: baton-test
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
    alias: words
  - name: CountVectorsFeaturizer
    alias: characters
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 3
{remover}
  - name: DIETClassifier
    epochs: 5
    entity_recognition: false
    number_of_transformer_layers: 0
    hidden_layers_sizes:
      text: [32]
    random_seed: 11
policies: []
"""
REMOVER = """\
  - name: bot.rasa_components.token_features.TokenFeatureRemover
    keep: [characters]"""


def trained_model(project: Path, remover_lines: str) -> Path:
    project.mkdir()
    for name, text in (("nlu.yml", NLU), ("domain.yml", DOMAIN)):
        (project / name).write_text(text, encoding="utf-8")
    (project / "config.yml").write_text(CONFIG.format(remover=remover_lines), encoding="utf-8")
    return train_nlu_model(
        load_training_data(project / "nlu.yml"),
        project,
        project / "config.yml",
        project / "domain.yml",
    )


@pytest.mark.training
def test_without_the_token_features_diet_predicts_what_it_predicted_with_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RASA_MAX_CACHE_SIZE", "0")

    with_them = rankings(trained_model(tmp_path / "with", ""))
    without_them = rankings(trained_model(tmp_path / "without", REMOVER))

    # Every intent, every confidence: the same to the last bit.
    assert without_them == with_them
    assert len(with_them[0]) == 3
