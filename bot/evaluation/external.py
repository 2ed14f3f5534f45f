"""`python -m bot.evaluation --external FILE.tsv`: the trained model on anyone's messages.

Parses every message of the file (bot.evaluation.labelled_messages) with a trained
model (models/baton.tar.gz by default: what the bot serves), runs the frustration
detector where the file says which messages are frustrated, and prints the decision
scores with their 95 % intervals. Nothing is written: the file never enters the
repository or var/, and no message text is printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, List

from bot.evaluation.decision_scores import (
    DecisionScores,
    as_examples,
    render_decisions,
    score_decisions,
)
from bot.evaluation.frustration import Detector, sentiment_detector
from bot.evaluation.labelled_messages import file_sha256, load_labelled_messages
from bot.evaluation.nlu_model import NluParser
from bot.evaluation.predictions import prediction_from_parse

DEFAULT_MODEL = Path("models/baton.tar.gz")


class ModelMissing(FileNotFoundError):
    """The trained model to evaluate is not there."""


def evaluate_external(
    path: Path,
    model: Path = DEFAULT_MODEL,
    detector_factory: Callable[[], Detector] = sentiment_detector,
) -> DecisionScores:
    """The decision scores of `model` on the labelled messages of `path`.

    Raises:
        LabelledMessagesError: If the file cannot be read.
        ModelMissing: If there is no model at `model`.
    """
    messages = load_labelled_messages(path)
    if not model.is_file():
        raise ModelMissing(f"{model}: no trained model (run `make train` first)")
    parser = NluParser(model)
    examples = as_examples(messages)
    parsed = parser.parse_all([example.text for example in examples])
    predictions = [prediction_from_parse(e, p) for e, p in zip(examples, parsed, strict=True)]
    flags: List[bool] | None = None
    if any(message.frustrated is not None for message in messages):
        detector = detector_factory()
        flags = [detector(message.text) for message in messages]
    return score_decisions(messages, predictions, flags)


def render_external(path: Path, model: Path, scores: DecisionScores) -> str:
    """The report of an `--external` run."""
    lines = [
        f"Messages: {path} (sha256 {file_sha256(path)})",
        f"Model: {model}",
        *render_decisions("Decisions", scores),
    ]
    return "\n".join(lines)
