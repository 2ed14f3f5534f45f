"""How well the bot decides on messages labelled only hand over / answer / decline.

Text written by others (`--external FILE.tsv`, evaluation/written_apart/) is labelled
with what the bot should do, not with Baton's exact intents, so it is scored on the
decisions, with the same functions as `make eval`'s held-out split
(bot.evaluation.nlu_metrics) and a 95 % interval beside each figure:

- request_human precision and recall (the handoff decision);
- out-of-scope messages declined (`out_of_scope` or `nlu_fallback`);
- `other` messages handed over to a person for nothing, and declined although ours;
- when the file says which messages are frustrated: the frustration detector's
  precision and recall;
- per `kind` tag: how many messages, and the share handed over and declined.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, List, Sequence

from bot.constants import INTENT_OUT_OF_SCOPE, INTENT_REQUEST_HUMAN
from bot.evaluation.examples import NluExample
from bot.evaluation.intervals import Proportion, wilson
from bot.evaluation.labelled_messages import LABEL_OTHER, LabelledCustomerMessage
from bot.evaluation.nlu_metrics import DECLINING_INTENTS
from bot.evaluation.predictions import Prediction


@dataclass(frozen=True)
class KindScores:
    """One `kind` tag's messages: how many, and what the bot did with them."""

    messages: int
    handed_over: float
    declined: float


@dataclass(frozen=True)
class DecisionScores:
    """The decision metrics of one labelled set, each with its 95 % interval."""

    messages: int
    request_human_precision: Proportion | None
    request_human_recall: Proportion | None
    out_of_scope_declined: Proportion | None
    other_handed_over: Proportion | None
    other_declined: Proportion | None
    frustration_precision: Proportion | None = None
    frustration_recall: Proportion | None = None
    by_kind: Dict[str, KindScores] = field(default_factory=dict)


def as_examples(messages: Sequence[LabelledCustomerMessage]) -> List[NluExample]:
    """The messages as NLU examples whose "intent" is their label (`other` matches none)."""
    return [NluExample(text=m.text, intent=m.label) for m in messages]


def score_decisions(
    messages: Sequence[LabelledCustomerMessage],
    predictions: Sequence[Prediction],
    frustration_flags: Sequence[bool] | None = None,
    runs: int = 1,
) -> DecisionScores:
    """Scores the predictions (one per message, in order) and, if given, the detector's
    flags. Several trainings' predictions are pooled by repeating the messages `runs`
    times; the intervals stay those of one run's messages (bot.evaluation.intervals)."""
    if len(messages) != len(predictions):
        raise ValueError(f"{len(messages)} messages but {len(predictions)} predictions")
    if runs < 1 or len(messages) % runs:
        raise ValueError(f"{len(messages)} messages cannot be {runs} runs of the same set")
    pairs = list(zip(messages, predictions, strict=True))
    handed = [p.intent == INTENT_REQUEST_HUMAN for _, p in pairs]
    wanted = [m.label == INTENT_REQUEST_HUMAN for m, _ in pairs]
    declined = [p.intent in DECLINING_INTENTS for _, p in pairs]
    oos = [m.label == INTENT_OUT_OF_SCOPE for m, _ in pairs]
    other = [m.label == LABEL_OTHER for m, _ in pairs]
    scores = DecisionScores(
        messages=len(messages) // runs,
        request_human_precision=_share(handed, wanted, runs),
        request_human_recall=_share(wanted, handed, runs),
        out_of_scope_declined=_share(oos, declined, runs),
        other_handed_over=_share(other, handed, runs),
        other_declined=_share(other, declined, runs),
        by_kind=_by_kind(messages, handed, declined),
    )
    if frustration_flags is None:
        return scores
    if len(frustration_flags) != len(messages):
        raise ValueError(f"{len(messages)} messages but {len(frustration_flags)} flags")
    labelled = [(m.frustrated, flag) for m, flag in zip(messages, frustration_flags, strict=True)]
    truth = [bool(t) for t, _ in labelled if t is not None]
    flags = [f for t, f in labelled if t is not None]
    if not truth:
        return scores
    return dataclasses.replace(
        scores,
        frustration_precision=_share(flags, truth, runs),
        frustration_recall=_share(truth, flags, runs),
    )


def _share(among: Sequence[bool], hit: Sequence[bool], runs: int) -> Proportion | None:
    """The share of the positions true in `among` that are also true in `hit`."""
    total = sum(1 for a in among if a)
    return wilson(sum(1 for a, h in zip(among, hit, strict=True) if a and h), total, runs)


def _by_kind(
    messages: Sequence[LabelledCustomerMessage], handed: Sequence[bool], declined: Sequence[bool]
) -> Dict[str, KindScores]:
    tally: Dict[str, List[int]] = defaultdict(lambda: [0, 0, 0])
    for message, handed_over, was_declined in zip(messages, handed, declined, strict=True):
        if not message.kind:
            continue
        counts = tally[message.kind]
        counts[0] += 1
        counts[1] += handed_over
        counts[2] += was_declined
    return {
        kind: KindScores(messages=n, handed_over=h / n, declined=d / n)
        for kind, (n, h, d) in sorted(tally.items())
    }


def render_decisions(title: str, scores: DecisionScores) -> List[str]:
    """The scores as report lines (no message texts: these sets are not for tuning)."""
    rows = [
        ("request_human precision", scores.request_human_precision),
        ("request_human recall", scores.request_human_recall),
        ("out of scope declined", scores.out_of_scope_declined),
        ("other handed to a person", scores.other_handed_over),
        ("other declined", scores.other_declined),
        ("frustration precision", scores.frustration_precision),
        ("frustration recall", scores.frustration_recall),
    ]
    lines = [f"{title}: {scores.messages} messages (value [95 % interval] (hits/total))"]
    for label, proportion in rows:
        shown = str(proportion) if proportion is not None else "not measured"
        lines.append(f"  {label:<26} {shown}")
    if scores.by_kind:
        lines.append("  by kind: messages, handed to a person, declined")
        for kind, counts in scores.by_kind.items():
            lines.append(
                f"    {kind:<24} {counts.messages:>5}  {counts.handed_over:>6.1%}  "
                f"{counts.declined:>6.1%}"
            )
    return lines
