"""Which examples are held out, and the cross-validation folds.

The held-out split is decided by a stable hash of each example's own text, never by
its position or by the other examples: adding, removing or reordering examples never
moves an old example from one side to the other, so the held-out set stays held out
as the training data grows. Texts are normalised before hashing (case, punctuation,
spacing), so "What's the returns policy?" and "whats the returns policy" land on the
same side: a near-duplicate cannot sit in the training data while its twin is tested.

Hashing spreads every intent over both sides in proportion (about `test_fraction` of
each intent is held out) without any bookkeeping; an intent can still, by chance, end
up with no held-out example: `coverage_gaps` names such intents, so the report can
say so instead of silently skipping them.

The cross-validation folds are stratified by full intent label (`faq/returns`), with
a fixed seed, so each fold holds about the same share of every intent and a run is
repeatable.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Dict, Final, List, Sequence, Tuple

from bot.evaluation.examples import NluExample

DEFAULT_TEST_FRACTION = 0.2
DEFAULT_FOLDS = 5
# Any fixed number: the folds must be the same on every run.
FOLD_SEED = 20240601
_HASH_HEX_DIGITS: Final = 15
_PUNCTUATION = re.compile(r"[^\w\s]")


@dataclass(frozen=True)
class HoldoutSplit:
    """Positions of the training and held-out examples in the example list."""

    train: Tuple[int, ...]
    test: Tuple[int, ...]


@dataclass(frozen=True)
class CoverageGaps:
    """Intents missing from one side of a split.

    Attributes:
        untested: Intents with no held-out example (not measured on held-out data).
        untrained: Intents with no training example (the model cannot predict them).
    """

    untested: Tuple[str, ...]
    untrained: Tuple[str, ...]


def normalise_text(text: str) -> str:
    """The form of a text that is hashed: case-folded, punctuation dropped, spacing collapsed."""
    return " ".join(_PUNCTUATION.sub("", text.casefold()).split())


def text_position(text: str) -> float:
    """A stable position in [0, 1) for a text, the same on every machine and run.

    Args:
        text: An example's text.

    Returns:
        The first hex digits of the SHA-256 of the normalised text, as a fraction.
    """
    digest = hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()
    return int(digest[:_HASH_HEX_DIGITS], 16) / 16**_HASH_HEX_DIGITS


def is_held_out(text: str, test_fraction: float = DEFAULT_TEST_FRACTION) -> bool:
    """Whether an example with this text belongs to the held-out test set."""
    return text_position(text) < test_fraction


def holdout_split(
    examples: Sequence[NluExample], test_fraction: float = DEFAULT_TEST_FRACTION
) -> HoldoutSplit:
    """Splits examples into training and held-out test sets by the hash of their text.

    Args:
        examples: The labelled examples.
        test_fraction: The share of examples to hold out, between 0 and 1.

    Returns:
        The positions of the examples on each side, in their original order.

    Raises:
        ValueError: If `test_fraction` is not strictly between 0 and 1.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    train: List[int] = []
    test: List[int] = []
    for index, example in enumerate(examples):
        (test if is_held_out(example.text, test_fraction) else train).append(index)
    return HoldoutSplit(train=tuple(train), test=tuple(test))


def coverage_gaps(examples: Sequence[NluExample], split: HoldoutSplit) -> CoverageGaps:
    """The intents that have no example on one side of a split."""
    all_labels = {example.intent for example in examples}
    trained = {examples[i].intent for i in split.train}
    tested = {examples[i].intent for i in split.test}
    return CoverageGaps(
        untested=tuple(sorted(all_labels - tested)),
        untrained=tuple(sorted(all_labels - trained)),
    )


def label_counts(examples: Sequence[NluExample], indices: Sequence[int]) -> Dict[str, int]:
    """How many of the examples at `indices` carry each full label."""
    return dict(sorted(Counter(examples[i].intent for i in indices).items()))


def stratified_folds(
    labels: Sequence[str], folds: int = DEFAULT_FOLDS, seed: int = FOLD_SEED
) -> List[Tuple[List[int], List[int]]]:
    """K-fold train/test positions, stratified by label and repeatable.

    Args:
        labels: One label per example (full names: `faq/returns`).
        folds: The number of folds, at least 2.
        seed: The shuffle seed: the same seed gives the same folds.

    Returns:
        For each fold, the positions of its training and its test examples; every
        position is tested in exactly one fold.

    Raises:
        ValueError: If `folds` is below 2 or larger than the number of examples.
    """
    from sklearn.model_selection import StratifiedKFold

    if folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {folds}")
    if folds > len(labels):
        raise ValueError(f"{folds} folds need at least {folds} examples, got {len(labels)}")
    # A label with fewer examples than folds is simply absent from some test folds;
    # sklearn warns about it, the report lists small labels itself.
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    positions = list(range(len(labels)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return [
            (train.tolist(), test.tolist())
            for train, test in splitter.split(positions, list(labels))
        ]
