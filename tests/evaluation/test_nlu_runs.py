"""Held-out trainings with moved seeds, on a real (tiny) Rasa model.

One test, a few seconds of training per model: it shows that a seeded config trains
the same model twice and that a moved seed trains a different one, which is what
`make eval --trainings N` relies on to show the spread of a result.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation.examples import examples_of, load_training_data
from bot.evaluation.nlu_runs import train_and_predict_with_seeds

NLU = """\
version: "3.1"
nlu:
- intent: greet
  examples: |
    - hello
    - hi there
    - good morning
    - hey
    - hiya
    - morning all
- intent: request_human
  examples: |
    - let me talk to a person
    - I want a human
    - put me through to an agent
    - can I speak to someone real
    - get me a real person
    - transfer me to your team
- intent: ask_order_status
  examples: |
    - where is my order
    - has my parcel shipped
    - when will my order arrive
    - track my delivery
    - is my order on its way
    - my package has not come
"""

DOMAIN = """\
version: "3.1"
intents:
  - greet
  - request_human
  - ask_order_status
"""

# Small on purpose: DIET alone, a handful of epochs, no transformer.
CONFIG = """\
recipe: default.v1
language: en
assistant_id: baton-test
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 3
  - name: DIETClassifier
    epochs: 5
    entity_recognition: false
    number_of_transformer_layers: 0
    hidden_layers_sizes:
      text: [32]
    random_seed: 11
policies: []
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("project")
    (directory / "nlu.yml").write_text(NLU, encoding="utf-8")
    (directory / "domain.yml").write_text(DOMAIN, encoding="utf-8")
    (directory / "config.yml").write_text(CONFIG, encoding="utf-8")
    return directory


@pytest.mark.training
def test_the_same_seed_trains_the_same_model_and_the_next_seed_another(project: Path, monkeypatch):
    # No training cache: the second run must train again, not reuse the first's model.
    monkeypatch.setenv("RASA_MAX_CACHE_SIZE", "0")
    training_data = load_training_data(project / "nlu.yml")
    examples = examples_of(training_data)
    train = [i for i in range(len(examples)) if i % 3]
    test = [i for i in range(len(examples)) if i % 3 == 0]

    def run():
        return train_and_predict_with_seeds(
            training_data,
            examples,
            train,
            test,
            project / "config.yml",
            project / "domain.yml",
            trainings=2,
        )

    first, again = run(), run()
    confidences = [[p.confidence for p in predictions] for predictions in first]
    assert confidences[0] == [p.confidence for p in again[0]]
    assert confidences[1] == [p.confidence for p in again[1]]
    assert confidences[0] != confidences[1]
    assert [p.text for p in first[0]] == [examples[i].text for i in test]
