"""Scores of the frustration detector against a hand-labelled set.

The detector is `bot.sentiment.analyzer.SentimentAnalyzer().analyze(text).frustrated`,
imported only when it is used. Frustration is the positive class: precision is the
share of flagged messages that really are frustrated, recall the share of frustrated
messages flagged. Each category of the set (angry, sarcastic, neutral, ...) gets its
own confusion counts, so the report shows where the misses and false alarms are.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Sequence, Tuple

from bot.evaluation.frustration_set import LabelledMessage

Detector = Callable[[str], bool]


@dataclass(frozen=True)
class ConfusionCounts:
    """True/false positives and negatives; "positive" means frustrated."""

    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    true_negative: int = 0

    @property
    def messages(self) -> int:
        """How many messages were counted."""
        return self.true_positive + self.false_positive + self.false_negative + self.true_negative


@dataclass(frozen=True)
class FrustrationScores:
    """Precision, recall and F1 of the frustrated flag over one set, and its counts."""

    messages: int
    precision: float | None
    recall: float | None
    f1: float | None
    counts: ConfusionCounts
    by_category: Dict[str, ConfusionCounts] = field(default_factory=dict)


def _count(pairs: Sequence[tuple[bool, bool]]) -> ConfusionCounts:
    tally = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for truth, predicted in pairs:
        key = ("t" if truth == predicted else "f") + ("p" if predicted else "n")
        tally[key] += 1
    return ConfusionCounts(tally["tp"], tally["fp"], tally["fn"], tally["tn"])


def score_frustration(
    messages: Sequence[LabelledMessage], predicted: Sequence[bool]
) -> FrustrationScores:
    """Scores the detector's flags against the labels.

    Args:
        messages: The labelled messages.
        predicted: The detector's flag for each message, in the same order.

    Returns:
        The scores; precision is None when nothing was flagged, recall None when
        no message is labelled frustrated.

    Raises:
        ValueError: If there is not exactly one flag per message.
    """
    if len(messages) != len(predicted):
        raise ValueError(f"{len(predicted)} predictions for {len(messages)} messages")
    counts = _count([(m.frustrated, p) for m, p in zip(messages, predicted, strict=True)])
    grouped: Dict[str, List[tuple[bool, bool]]] = defaultdict(list)
    for message, flag in zip(messages, predicted, strict=True):
        grouped[message.category].append((message.frustrated, flag))
    flagged = counts.true_positive + counts.false_positive
    frustrated = counts.true_positive + counts.false_negative
    precision = counts.true_positive / flagged if flagged else None
    recall = counts.true_positive / frustrated if frustrated else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall > 0
        else (0.0 if precision is not None and recall is not None else None)
    )
    return FrustrationScores(
        messages=len(messages),
        precision=precision,
        recall=recall,
        f1=f1,
        counts=counts,
        by_category={category: _count(pairs) for category, pairs in sorted(grouped.items())},
    )


def misclassified(
    messages: Sequence[LabelledMessage], predicted: Sequence[bool]
) -> List[LabelledMessage]:
    """The messages whose flag disagrees with their label, in order."""
    return [m for m, flag in zip(messages, predicted, strict=True) if m.frustrated != flag]


def sentiment_detector() -> Detector:
    """The project's frustration detector (`bot.sentiment`), built once.

    Raises:
        ImportError: If `bot.sentiment.analyzer` is not available.
    """
    from bot.sentiment.analyzer import SentimentAnalyzer

    analyzer = SentimentAnalyzer()
    return lambda text: bool(analyzer.analyze(text).frustrated)


def writer_cross_validation() -> Tuple[List[LabelledMessage], List[bool]]:
    """The detector's leave-one-writer-out cross-validation over its training data.

    Each writer's messages (bot/sentiment/labelled/) judged by a model trained on the
    other writers', pooled.

    Raises:
        ImportError: If `bot.sentiment.classifier` is not available.
    """
    from bot.sentiment.classifier import cross_validate

    predictions = cross_validate().predictions
    messages = [
        LabelledMessage(p.message.text, p.message.category, p.message.frustrated)
        for p in predictions
    ]
    return messages, [p.frustrated for p in predictions]


def detect(messages: Sequence[LabelledMessage], detector: Detector) -> List[bool]:
    """The detector's flag for each message."""
    return [detector(message.text) for message in messages]
