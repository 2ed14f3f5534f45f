"""The learned frustration verdict: its training data, its training, the flattened model
and the leave-one-writer-out cross-validation, on the shipped files and small
constructed corpora (the full cross-validation is `python -m bot.sentiment.crossval`)."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest

from bot.sentiment import SentimentAnalyzer
from bot.sentiment.classifier import (
    CHOSEN,
    ModelSettings,
    Prediction,
    Scores,
    _fit,
    choose_threshold,
    cross_validate,
    read_all,
    score,
    train_classifier,
)
from bot.sentiment.crossval import render
from bot.sentiment.lexicon import load_lexicon
from bot.sentiment.rules import ABUSIVE, FrustrationRules
from bot.sentiment.training_data import (
    LabelledDataError,
    LabelledMessage,
    load_labelled,
    parse_labelled,
)
from bot.settings import PROJECT_ROOT

LABELLED = PROJECT_ROOT / "bot" / "sentiment" / "labelled"


@pytest.fixture(scope="module")
def rules() -> FrustrationRules:
    return FrustrationRules(load_lexicon())


# --- the labelled files -------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(LABELLED.glob("*.yml")), ids=lambda path: path.name)
def test_every_labelled_file_parses_and_has_both_labels(path: Path) -> None:
    messages = parse_labelled(path.read_text(encoding="utf-8"), writer=path.stem)
    assert len(messages) >= 100
    frustrated = sum(1 for message in messages if message.frustrated)
    assert 0 < frustrated < len(messages)
    assert all(message.writer == path.stem for message in messages)


def test_the_package_ships_one_file_per_writer_and_reads_them_in_name_order() -> None:
    messages = load_labelled()
    writers = [message.writer for message in messages]
    assert sorted(set(writers)) == sorted(path.stem for path in LABELLED.glob("*.yml"))
    assert len(set(writers)) >= 2
    # Each writer's messages together, writers in name order: the same order every time.
    assert writers == sorted(writers)


def test_the_labelled_files_are_package_data() -> None:
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"sentiment/labelled/*.yml"' in pyproject


VALID = """\
version: 1
messages:
  - text: "you lot are useless"
    category: angry
    frustrated: true
  - text: "my internet is down"
    category: neutral
    frustrated: false
"""


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            VALID.replace("frustrated: false", "frustrated: maybe"),
            r"w\.yml:6: message 2: 'frustrated' is 'maybe'",
        ),
        (
            VALID.replace('text: "my internet is down"', 'text: ""'),
            r"w\.yml:6: message 2: 'text' is ''",
        ),
        (
            VALID.replace("category: angry", "category: angry\n    mood: bad"),
            r"w\.yml:3: message 1 has unknown keys \['mood'\]",
        ),
        ("version: 1\nitems: []\n", r"w\.yml:1: no 'messages' list"),
        ("version: 1\nmessages: []\n", r"w\.yml:2: 'messages' is empty"),
        ("messages:\n  - text: [unclosed\n", r"w\.yml:\d+: not valid YAML"),
    ],
)
def test_a_malformed_labelled_file_names_file_and_line(content: str, expected: str) -> None:
    with pytest.raises(LabelledDataError, match=expected):
        parse_labelled(content, writer="w", source="w.yml")


def test_a_directory_without_labelled_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LabelledDataError, match="no labelled"):
        load_labelled(tmp_path)


# --- training ---------------------------------------------------------------------------


def test_training_is_deterministic(analyzer: SentimentAnalyzer) -> None:
    texts = [message.text for message in load_labelled()]
    again = SentimentAnalyzer()
    assert [analyzer.analyze(text) for text in texts] == [again.analyze(text) for text in texts]


def test_the_flattened_model_scores_as_scikit_learn_does(rules: FrustrationRules) -> None:
    messages = load_labelled()
    readings = read_all(messages, rules)
    fitted = _fit(messages, readings, CHOSEN)
    texts = [message.text for message in messages]
    expected = fitted.model.decision_function(fitted.matrix(texts, readings))
    flattened = fitted.flattened()
    for text, reading, decision in zip(texts, readings, expected, strict=True):
        assert flattened.decision(text, reading) == pytest.approx(decision, abs=1e-9)


def test_the_verdict_fits_its_training_data(analyzer: SentimentAnalyzer) -> None:
    messages = load_labelled()
    scores = score(
        (message.frustrated for message in messages),
        (analyzer.analyze(message.text).frustrated for message in messages),
    )
    assert scores.precision is not None and scores.precision >= 0.9
    assert scores.recall is not None and scores.recall >= 0.9


def test_training_needs_both_labels(rules: FrustrationRules) -> None:
    calm = [LabelledMessage("hi there", "neutral", False, "w")] * 3
    with pytest.raises(ValueError, match="both"):
        train_classifier(calm, read_all(calm, rules))


def test_decisive_evidence_makes_a_message_frustrated_whatever_the_model_says(
    rules: FrustrationRules,
) -> None:
    messages = _tiny_corpus()
    readings = read_all(messages, rules)
    # A probability never reaches 1.5: only the evidence can make a message frustrated.
    settings = ModelSettings(threshold=1.5, decisive_evidence=(ABUSIVE,))
    classifier = train_classifier(messages, readings, settings)
    insult = "you useless idiots"
    assert classifier.is_frustrated(insult, rules.read(insult))
    calm = "what time do you open"
    assert not classifier.is_frustrated(calm, rules.read(calm))


# --- scores and cross-validation ---------------------------------------------------------


def test_scores() -> None:
    scores = score([True, True, True, False, False], [True, True, False, True, False])
    assert scores == Scores(messages=5, frustrated=3, flagged=3, true_positive=2)
    assert scores.precision == pytest.approx(2 / 3)
    assert scores.recall == pytest.approx(2 / 3)
    assert scores.f1 == pytest.approx(2 / 3)
    nothing = score([True, False], [False, False])
    assert (nothing.precision, nothing.recall, nothing.f1) == (None, 0.0, None)


def _tiny_corpus() -> List[LabelledMessage]:
    angry = [
        "this is ridiculous, still no internet",
        "fed up with you lot, sort it out",
        "third time I've asked, absolutely useless",
        "I'm fuming, nobody ever calls back",
        "worst service ever, I'm leaving",
        "why is this STILL broken?!",
    ]
    calm = [
        "what time does the shop open",
        "can I add a second SIM",
        "thanks, that worked",
        "how do I change my payment date",
        "my router light is orange, what does it mean",
        "lovely, cheers for the help",
    ]
    return [
        LabelledMessage(
            text, "angry" if frustrated else "neutral", frustrated, f"writer{index % 3}"
        )
        for texts, frustrated in ((angry, True), (calm, False))
        for index, text in enumerate(texts)
    ]


def test_cross_validation_tests_each_writer_on_a_model_that_never_saw_them(
    rules: FrustrationRules,
) -> None:
    messages = _tiny_corpus()
    result = cross_validate(messages, ModelSettings(c=1.0), read_all(messages, rules))
    assert sorted(result.per_writer) == ["writer0", "writer1", "writer2"]
    assert [p.message for p in result.predictions] == messages
    assert all(0.0 <= p.probability <= 1.0 for p in result.predictions)
    pooled = result.pooled
    assert pooled is not None
    assert pooled.messages == 12 and pooled.frustrated == 6
    assert sum(s.messages for s in result.per_writer.values()) == 12
    assert sum(s.true_positive for s in result.per_writer.values()) == pooled.true_positive
    for scores in (pooled, result.rules_pooled, *result.per_writer.values()):
        assert scores is not None
        for value in (scores.precision, scores.recall, scores.f1):
            assert value is None or 0.0 <= value <= 1.0
    # Obvious anger and calm, even from a writer the model has not read.
    assert pooled.recall is not None and pooled.recall >= 0.5
    assert "pooled" in render(result)


def test_cross_validation_needs_two_writers(rules: FrustrationRules) -> None:
    messages = [m for m in _tiny_corpus() if m.writer == "writer0"]
    with pytest.raises(ValueError, match="two writers"):
        cross_validate(messages, CHOSEN, read_all(messages, rules))


def _prediction(writer: str, frustrated: bool, probability: float, evidence=()) -> Prediction:
    message = LabelledMessage(f"{writer} {probability}", "x", frustrated, writer)
    return Prediction(message, probability, probability >= 0.5, False, tuple(evidence))


def test_the_threshold_reaches_the_recall_for_every_writer_with_the_best_precision() -> None:
    predictions = [
        _prediction("a", True, 0.9),
        _prediction("a", True, 0.8),
        _prediction("a", False, 0.7),
        _prediction("b", True, 0.6),
        _prediction("b", False, 0.5),
        _prediction("b", True, 0.4),
        _prediction("b", False, 0.1),
    ]
    # Pooled recall 3/4 is reached at 0.6, but writer b's only at 0.4.
    assert choose_threshold(predictions, recall_at_least=0.75) == 0.4
    assert choose_threshold(predictions, recall_at_least=0.5) == 0.6
    # Decisive evidence flags b's 0.4 whatever the threshold.
    forced = predictions[:5] + [_prediction("b", True, 0.4, [ABUSIVE]), predictions[6]]
    assert choose_threshold(forced, decisive_evidence=[ABUSIVE], recall_at_least=0.75) == 0.6
