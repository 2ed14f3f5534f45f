"""The frustration sets' loader and the detector's scores, on small constructed sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation.cli import evaluate_frustration
from bot.evaluation.frustration import misclassified, score_frustration
from bot.evaluation.frustration_set import (
    FrustrationSetError,
    LabelledMessage,
    load_frustration_set,
    parse_frustration_set,
)

VALID = """\
# a comment
version: 1
messages:
  - text: "you lot are useless"
    category: angry
    frustrated: true
  - text: "oh great, down AGAIN"
    category: sarcastic
    frustrated: true
  - text: "my internet is down"
    category: neutral
    frustrated: false
"""


def test_a_valid_set_is_read_in_order():
    assert parse_frustration_set(VALID) == [
        LabelledMessage("you lot are useless", "angry", True),
        LabelledMessage("oh great, down AGAIN", "sarcastic", True),
        LabelledMessage("my internet is down", "neutral", False),
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            VALID.replace("frustrated: false", 'frustrated: "no"'),
            r"sets\.yml:12: message 3: 'frustrated' is 'no'; allowed: true, false",
        ),
        (
            VALID.replace('text: "my internet is down"', 'text: ""'),
            r"sets\.yml:10: message 3: 'text' is missing",
        ),
        (
            VALID.replace("category: sarcastic", "category:"),
            r"sets\.yml:8: message 2: 'category' is missing",
        ),
        (
            VALID.replace("category: angry", "category: angry\n    mood: bad"),
            r"sets\.yml:6: message 1 has unknown keys \['mood'\]",
        ),
        ("version: 1\nitems: []\n", r"sets\.yml:1: no 'messages' list"),
        ("version: 1\nmessages: []\n", r"sets\.yml:2: 'messages' is empty"),
        ("messages:\n  - text: [unclosed\n", r"sets\.yml:\d+: not valid YAML"),
        ("messages:\n  - just a string\n", r"sets\.yml:2: message 1 is not a mapping"),
    ],
)
def test_a_malformed_set_names_the_file_and_line(content, expected):
    with pytest.raises(FrustrationSetError, match=expected):
        parse_frustration_set(content, source="sets.yml")


def test_a_set_file_is_loaded_from_disk(tmp_path: Path):
    path = tmp_path / "dev.yml"
    path.write_text(VALID, encoding="utf-8")
    assert len(load_frustration_set(path)) == 3


def _messages() -> list[LabelledMessage]:
    return [
        LabelledMessage("a", "angry", True),
        LabelledMessage("b", "angry", True),
        LabelledMessage("c", "sarcastic", True),
        LabelledMessage("d", "neutral", False),
        LabelledMessage("e", "neutral", False),
        LabelledMessage("f", "positive", False),
    ]


def test_scores_and_counts_per_category():
    flags = [True, True, False, True, False, False]
    scores = score_frustration(_messages(), flags)
    assert scores.messages == 6
    assert scores.precision == pytest.approx(2 / 3)
    assert scores.recall == pytest.approx(2 / 3)
    assert scores.f1 == pytest.approx(2 / 3)
    assert (scores.counts.true_positive, scores.counts.false_negative) == (2, 1)
    assert (scores.counts.false_positive, scores.counts.true_negative) == (1, 2)
    assert scores.by_category["angry"].true_positive == 2
    assert scores.by_category["sarcastic"].false_negative == 1
    assert scores.by_category["neutral"].false_positive == 1
    assert scores.by_category["neutral"].messages == 2
    assert list(scores.by_category) == ["angry", "neutral", "positive", "sarcastic"]
    assert [m.text for m in misclassified(_messages(), flags)] == ["c", "d"]


def test_a_detector_that_flags_nothing_has_no_precision_and_zero_recall():
    scores = score_frustration(_messages(), [False] * 6)
    assert scores.precision is None
    assert scores.recall == 0.0
    assert scores.f1 is None


def test_one_flag_per_message_is_required():
    with pytest.raises(ValueError, match="5 predictions for 6 messages"):
        score_frustration(_messages(), [True] * 5)


def _write_sets(directory: Path, names: tuple[str, ...]) -> None:
    for name in names:
        (directory / f"{name}.yml").write_text(VALID, encoding="utf-8")


def _writer_cv():
    messages = parse_frustration_set(VALID)
    return messages, [True, False, False]


def test_the_test_set_is_scored_and_the_writer_cv_kept_with_its_misses(tmp_path: Path):
    _write_sets(tmp_path, ("test",))
    sections = evaluate_frustration(tmp_path, lambda: lambda text: "useless" in text, _writer_cv)
    by_name = {s.name: s for s in sections}
    assert by_name["test"].scores.recall == pytest.approx(1 / 2)
    assert by_name["test"].misses == []
    assert by_name["writer-cv"].scores.recall == pytest.approx(1 / 2)
    assert [m.text for m in by_name["writer-cv"].misses] == ["oh great, down AGAIN"]


def test_a_missing_set_or_detector_is_reported_as_not_measured(tmp_path: Path):
    sections = evaluate_frustration(tmp_path, lambda: lambda text: True, _writer_cv)
    assert sections[0].name == "test" and "not found" in sections[0].not_measured
    assert sections[1].scores is not None

    def unavailable():
        raise ImportError("No module named 'bot.sentiment'")

    _write_sets(tmp_path, ("test",))
    sections = evaluate_frustration(tmp_path, unavailable, unavailable)
    assert all(s.scores is None for s in sections)
    assert all("detector is not available" in s.not_measured for s in sections)


def test_a_malformed_set_stops_the_evaluation(tmp_path: Path):
    (tmp_path / "test.yml").write_text("messages: []\n", encoding="utf-8")
    with pytest.raises(FrustrationSetError):
        evaluate_frustration(tmp_path, lambda: lambda text: True, _writer_cv)
