"""Reading Rasa NLU YAML into labelled examples (Rasa's reader; no model is trained)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation.examples import examples_of, load_training_data, subset

NLU = """\
version: "3.1"
nlu:
- intent: faq/returns
  examples: |
    - how do returns work
    - can I send a phone back
- intent: ask_order_status
  examples: |
    - where is order [BW-100234](order_number)
- intent: request_human
  examples: |
    - get me a real person NOW this bot is useless
- regex: order_number
  examples: |
    - \\bBW-\\d{6}\\b
"""


@pytest.fixture(scope="module")
def training_data(tmp_path_factory: pytest.TempPathFactory):
    path: Path = tmp_path_factory.mktemp("nlu") / "nlu.yml"
    path.write_text(NLU, encoding="utf-8")
    return load_training_data(path)


def test_retrieval_intents_keep_their_full_name_and_annotations_are_stripped(training_data):
    assert [(e.text, e.intent) for e in examples_of(training_data)] == [
        ("how do returns work", "faq/returns"),
        ("can I send a phone back", "faq/returns"),
        ("where is order BW-100234", "ask_order_status"),
        ("get me a real person NOW this bot is useless", "request_human"),
    ]


def test_a_subset_keeps_its_examples_with_their_entities_and_every_regex(
    training_data, tmp_path: Path
):
    part = subset(training_data, [2, 0])
    assert [e.intent for e in examples_of(part)] == ["ask_order_status", "faq/returns"]
    assert [r["name"] for r in part.regex_features] == ["order_number"]
    written = tmp_path / "part.yml"
    written.write_text(part.nlu_as_yaml(), encoding="utf-8")
    text = written.read_text(encoding="utf-8")
    assert "[BW-100234](order_number)" in text
    assert "intent: faq/returns" in text
    assert [e.intent for e in examples_of(load_training_data(written))] == [
        "ask_order_status",
        "faq/returns",
    ]
