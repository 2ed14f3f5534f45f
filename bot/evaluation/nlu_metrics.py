"""Scores of NLU predictions: intents, asking for a person, FAQ answers, out of scope.

- Intent macro-F1 over the true intents, retrieval intents collapsed to their base
  (`faq/returns` → `faq`), the level the intent classifier works at. A fallback
  (`nlu_fallback`) is an error like any wrong intent.
- `request_human` precision and recall: a missed request leaves a customer stuck with
  the bot, a false one hands a conversation to an agent for nothing.
- FAQ top-1: a `faq/x` message is answered right iff the intent is `faq` and the
  ResponseSelector's top answer is `faq/x`. Beside it, the share answered right or
  declined with `faq/x` among the "Did you mean…?" buttons: one click from the answer.
- Out of scope: the share of `out_of_scope` messages the bot declines (predicted
  `out_of_scope` or `nlu_fallback`), and the share of in-scope messages it wrongly
  declines the same way.

A metric without any example to measure it on is None ("not measured"), never 0.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

from bot.constants import (
    INTENT_FAQ,
    INTENT_NLU_FALLBACK,
    INTENT_OUT_OF_SCOPE,
    INTENT_REQUEST_HUMAN,
)
from bot.evaluation.examples import base_intent
from bot.evaluation.predictions import Prediction

# What the bot does with these is decline: "sorry, I can't help with that".
DECLINING_INTENTS = frozenset({INTENT_NLU_FALLBACK, INTENT_OUT_OF_SCOPE})


@dataclass(frozen=True)
class IntentScore:
    """Precision, recall and F1 of one (base) intent, and how many true examples it has."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Confusion:
    """How many messages of one true label were predicted as another."""

    true: str
    predicted: str
    count: int


@dataclass(frozen=True)
class NluScores:
    """Every NLU metric of one set of predictions (a held-out set, or pooled folds)."""

    examples: int
    intent_accuracy: float | None
    intent_macro_f1: float | None
    request_human_precision: float | None
    request_human_recall: float | None
    request_human_support: int
    faq_top1: float | None
    faq_support: int
    faq_answered_or_suggested: float | None
    out_of_scope_declined: float | None
    out_of_scope_support: int
    in_scope_declined: float | None
    in_scope_support: int
    per_intent: Dict[str, IntentScore] = field(default_factory=dict)
    intent_confusions: List[Confusion] = field(default_factory=list)
    faq_confusions: List[Confusion] = field(default_factory=list)


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def intent_macro_f1(predictions: Sequence[Prediction]) -> float | None:
    """Macro-averaged F1 over the true base intents (None without predictions)."""
    from sklearn.metrics import f1_score

    if not predictions:
        return None
    truth = [base_intent(p.true_intent) for p in predictions]
    predicted = [p.intent for p in predictions]
    # Only true intents are classes: a predicted nlu_fallback lowers the recall of
    # the intent it missed, and is not a class of its own with an F1 of 0.
    labels = sorted(set(truth))
    return float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0))


def per_intent_scores(predictions: Sequence[Prediction]) -> Dict[str, IntentScore]:
    """Precision, recall, F1 and support of each true base intent."""
    from sklearn.metrics import precision_recall_fscore_support

    if not predictions:
        return {}
    truth = [base_intent(p.true_intent) for p in predictions]
    predicted = [p.intent for p in predictions]
    labels = sorted(set(truth))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    return {
        label: IntentScore(float(p), float(r), float(f), int(s))
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    }


def intent_precision_recall(
    predictions: Sequence[Prediction], intent: str
) -> tuple[float | None, float | None]:
    """Precision and recall of one base intent taken as a yes/no decision.

    Returns:
        (precision, recall); precision is None when the intent was never
        predicted, recall None when no message truly had it.
    """
    true_positive = sum(
        1 for p in predictions if p.intent == intent and base_intent(p.true_intent) == intent
    )
    predicted = sum(1 for p in predictions if p.intent == intent)
    actual = sum(1 for p in predictions if base_intent(p.true_intent) == intent)
    return _ratio(true_positive, predicted), _ratio(true_positive, actual)


def is_faq_answered(prediction: Prediction) -> bool:
    """Whether the bot gives the right FAQ answer: intent `faq` and the right answer key."""
    return prediction.intent == INTENT_FAQ and prediction.retrieval_intent == prediction.true_intent


def faq_top1(predictions: Sequence[Prediction]) -> float | None:
    """The share of true `faq/*` messages answered with their own FAQ answer."""
    faq = [p for p in predictions if base_intent(p.true_intent) == INTENT_FAQ]
    return _ratio(sum(1 for p in faq if is_faq_answered(p)), len(faq))


def faq_answered_or_suggested(predictions: Sequence[Prediction]) -> float | None:
    """The share of true `faq/*` messages answered right, or declined with their own
    answer among the "Did you mean…?" suggestions."""
    faq = [p for p in predictions if base_intent(p.true_intent) == INTENT_FAQ]
    reached = sum(1 for p in faq if is_faq_answered(p) or p.true_intent in p.suggested_answers)
    return _ratio(reached, len(faq))


def out_of_scope_declined(predictions: Sequence[Prediction]) -> float | None:
    """The share of true `out_of_scope` messages the bot declines."""
    oos = [p for p in predictions if p.true_intent == INTENT_OUT_OF_SCOPE]
    return _ratio(sum(1 for p in oos if p.intent in DECLINING_INTENTS), len(oos))


def in_scope_declined(predictions: Sequence[Prediction]) -> float | None:
    """The share of in-scope messages wrongly declined (out_of_scope or nlu_fallback)."""
    in_scope = [p for p in predictions if p.true_intent != INTENT_OUT_OF_SCOPE]
    return _ratio(sum(1 for p in in_scope if p.intent in DECLINING_INTENTS), len(in_scope))


def predicted_label(prediction: Prediction) -> str:
    """What the bot would do, at the level of the true label: `faq/x` for an FAQ answer."""
    if prediction.intent == INTENT_FAQ and prediction.retrieval_intent:
        return prediction.retrieval_intent
    return prediction.intent


def is_error(prediction: Prediction) -> bool:
    """Whether the bot gets this message wrong: wrong intent, or the wrong FAQ answer."""
    if base_intent(prediction.true_intent) == INTENT_FAQ:
        return not is_faq_answered(prediction)
    return base_intent(prediction.true_intent) != prediction.intent


def intent_confusions(predictions: Sequence[Prediction]) -> List[Confusion]:
    """Counts of (true base intent, different predicted intent), most frequent first."""
    counts = Counter(
        (base_intent(p.true_intent), p.intent)
        for p in predictions
        if base_intent(p.true_intent) != p.intent
    )
    return _sorted_confusions(counts)


def faq_confusions(predictions: Sequence[Prediction]) -> List[Confusion]:
    """Counts of (true `faq/x`, what the bot did instead), most frequent first."""
    counts = Counter(
        (p.true_intent, predicted_label(p))
        for p in predictions
        if base_intent(p.true_intent) == INTENT_FAQ and not is_faq_answered(p)
    )
    return _sorted_confusions(counts)


def _sorted_confusions(counts: Counter[Tuple[str, str]]) -> List[Confusion]:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [Confusion(true=true, predicted=predicted, count=n) for (true, predicted), n in ordered]


def score_nlu(predictions: Sequence[Prediction]) -> NluScores:
    """Every NLU metric of a set of predictions."""
    precision, recall = intent_precision_recall(predictions, INTENT_REQUEST_HUMAN)
    correct = sum(1 for p in predictions if base_intent(p.true_intent) == p.intent)
    return NluScores(
        examples=len(predictions),
        intent_accuracy=_ratio(correct, len(predictions)),
        intent_macro_f1=intent_macro_f1(predictions),
        request_human_precision=precision,
        request_human_recall=recall,
        request_human_support=sum(
            1 for p in predictions if base_intent(p.true_intent) == INTENT_REQUEST_HUMAN
        ),
        faq_top1=faq_top1(predictions),
        faq_support=sum(1 for p in predictions if base_intent(p.true_intent) == INTENT_FAQ),
        faq_answered_or_suggested=faq_answered_or_suggested(predictions),
        out_of_scope_declined=out_of_scope_declined(predictions),
        out_of_scope_support=sum(1 for p in predictions if p.true_intent == INTENT_OUT_OF_SCOPE),
        in_scope_declined=in_scope_declined(predictions),
        in_scope_support=sum(1 for p in predictions if p.true_intent != INTENT_OUT_OF_SCOPE),
        per_intent=per_intent_scores(predictions),
        intent_confusions=intent_confusions(predictions),
        faq_confusions=faq_confusions(predictions),
    )
