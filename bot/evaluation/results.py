"""One evaluation run's results, the target checks, and their JSON form.

`var/eval/results.json` is `dataclasses.asdict` of `EvaluationResults`: the held-out
split and frustration test set contribute scores and confusion counts only; example
texts of errors are kept for cross-validation (what the data work looks at) and the
frustration detector's leave-one-writer-out cross-validation over its training data.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, List, Tuple, Union

from bot.evaluation.decision_scores import DecisionScores
from bot.evaluation.frustration import FrustrationScores
from bot.evaluation.frustration_set import LabelledMessage
from bot.evaluation.nlu_metrics import NluScores
from bot.evaluation.predictions import Prediction
from bot.evaluation.targets import (
    FRUSTRATION_TARGETS,
    NLU_TARGETS,
    PERTURBED_TARGETS,
    WRITTEN_APART_TARGETS,
    Target,
    Verdict,
)

HELD_OUT = "held-out"
# The held-out split typed as customers might (bot.evaluation.perturb).
PERTURBED = "held-out perturbed"
# evaluation/written_apart/messages.tsv (bot.evaluation.written_apart).
WRITTEN_APART = "written apart"
CROSS_VALIDATION = "cross-validation"
FRUSTRATION_TEST = "test"
# The frustration detector tested on each writer of its training data by a model trained
# on the other writers (bot.sentiment.classifier.cross_validate).
FRUSTRATION_WRITER_CV = "writer-cv"


@dataclass(frozen=True)
class DataSummary:
    """The NLU data evaluated and how it was divided."""

    path: str
    examples: int
    labels: int
    train_examples: int
    held_out_examples: int
    test_fraction: float
    folds: int | None
    untested_labels: Tuple[str, ...] = ()
    untrained_labels: Tuple[str, ...] = ()


@dataclass(frozen=True)
class TrainingScores:
    """The headline scores of one of several trainings on the same split."""

    seed_offset: int
    intent_macro_f1: float | None
    request_human_precision: float | None
    request_human_recall: float | None
    faq_top1: float | None
    in_scope_declined: float | None

    @classmethod
    def of(cls, seed_offset: int, scores: NluScores) -> TrainingScores:
        """The headline scores picked out of one training's full scores."""
        return cls(
            seed_offset,
            scores.intent_macro_f1,
            scores.request_human_precision,
            scores.request_human_recall,
            scores.faq_top1,
            scores.in_scope_declined,
        )


@dataclass(frozen=True)
class FamilyScores:
    """The headline scores of the perturbed messages that drew one noise family."""

    family: str
    examples: int
    request_human_precision: float | None
    request_human_recall: float | None
    faq_top1: float | None
    in_scope_declined: float | None

    @classmethod
    def of(cls, family: str, examples: int, scores: NluScores) -> FamilyScores:
        return cls(
            family,
            examples,
            scores.request_human_precision,
            scores.request_human_recall,
            scores.faq_top1,
            scores.in_scope_declined,
        )


@dataclass(frozen=True)
class NluSection:
    """The NLU scores of one evaluation (held-out split or pooled folds).

    Attributes:
        test_examples: Distinct examples tested (each once per training).
        scores: Scored over the predictions of every training pooled: with the same
            test examples in each, a ratio pooled this way is the trainings' mean
            weighted by its denominator.
        per_training: Each training's headline scores, when there were several.
    """

    name: str
    train_examples: int
    test_examples: int
    scores: NluScores
    trainings: int = 1
    per_training: List[TrainingScores] = field(default_factory=list)


@dataclass(frozen=True)
class FrustrationSection:
    """The frustration scores on one labelled set, or why it was not measured."""

    name: str
    path: str
    scores: FrustrationScores | None = None
    not_measured: str | None = None
    misses: List[LabelledMessage] = field(default_factory=list)


@dataclass(frozen=True)
class DecisionSection:
    """The decisions on messages labelled only hand over / answer / decline, or why not."""

    name: str
    path: str
    sha256: str = ""
    scores: DecisionScores | None = None
    not_measured: str | None = None
    # Messages within the MiniLM similarity bar of a training example, not scored.
    left_out_as_near: int = 0


@dataclass(frozen=True)
class TargetCheck:
    """One target checked against the set it is judged on."""

    label: str
    metric: str
    judged_on: str
    minimum: float
    value: float | None
    verdict: Verdict


@dataclass(frozen=True)
class EvaluationResults:
    """Everything one `python -m bot.evaluation` run measured."""

    date: str
    command: str
    duration_seconds: float
    data: DataSummary
    held_out: NluSection | None
    cross_validation: NluSection | None
    frustration: List[FrustrationSection]
    checks: List[TargetCheck]
    cross_validation_errors: List[Prediction] = field(default_factory=list)
    perturbed: NluSection | None = None
    # The perturbed copy's scores per noise family (a message with two counts in both).
    perturbed_by_family: List[FamilyScores] = field(default_factory=list)
    written_apart: DecisionSection | None = None

    @property
    def missed(self) -> List[TargetCheck]:
        """The checks that did not pass (failed or not measured)."""
        return [check for check in self.checks if check.verdict is not Verdict.PASS]


def check_targets(
    held_out: NluScores | None,
    frustration_test: FrustrationScores | None,
    perturbed: NluScores | None = None,
    written_apart: DecisionScores | None = None,
) -> List[TargetCheck]:
    """Checks every target on the set it is judged on.

    Args:
        held_out: The NLU scores on the held-out split, None if not run.
        frustration_test: The frustration scores on the TEST set, None if not measured.
        perturbed: The NLU scores on the perturbed held-out split, None if not run.
        written_apart: The decisions on the set written apart, None if not measured.

    Returns:
        One check per target: the held-out split's, the frustration test set's, the
        perturbed split's, then the set written apart's.
    """
    checks = [_check(t, HELD_OUT, _value(held_out, t.metric)) for t in NLU_TARGETS]
    checks += [
        _check(t, f"frustration {FRUSTRATION_TEST}", _value(frustration_test, t.metric))
        for t in FRUSTRATION_TARGETS
    ]
    checks += [_check(t, PERTURBED, _value(perturbed, t.metric)) for t in PERTURBED_TARGETS]
    checks += [
        _check(t, WRITTEN_APART, _value(written_apart, t.metric)) for t in WRITTEN_APART_TARGETS
    ]
    return checks


def _value(scores: Any, metric: str) -> float | None:
    """A metric of a set of scores, as a plain number (a Proportion's value), or None."""
    value = getattr(scores, metric) if scores is not None else None
    if value is None or isinstance(value, float):
        return value
    return float(value.value)


def _check(target: Target, judged_on: str, value: float | None) -> TargetCheck:
    return TargetCheck(
        target.label, target.metric, judged_on, target.minimum, value, target.check(value)
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def to_json(results: EvaluationResults) -> str:
    """The results as indented JSON (floats rounded to 4 places)."""
    return json.dumps(_plain(dataclasses.asdict(results)), indent=2, ensure_ascii=False) + "\n"


def write_results(results: EvaluationResults, path: Union[str, Path]) -> Path:
    """Writes the results as JSON, creating the directory; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_json(results), encoding="utf-8")
    return path
