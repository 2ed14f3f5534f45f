"""`python -m bot.sentiment.crossval`: how well the frustration verdict reads a new writer.

Trains on every labelled file but one (bot/sentiment/labelled/, one writer each), judges
the file left out, and prints precision, recall and F1 per writer and pooled, beside the
word lists' own verdict (rules only). Options:

- `--search`: cross-validate a grid of features, regularisation and decision rules, each
  at the threshold with the best pooled precision at recall >= 0.85, best first: how
  `classifier.CHOSEN` was picked;
- `--misses`: list the messages the held-out models got wrong (training data, fine to read).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import replace
from typing import List, Sequence

from bot.sentiment.classifier import (
    CHOSEN,
    PRECISION_AT_LEAST,
    RECALL_AT_LEAST,
    RULES_TUNED_ON,
    CrossValidation,
    ModelSettings,
    Scores,
    cross_validate,
    read_all,
    score,
    select,
)
from bot.sentiment.rules import (
    ABUSIVE,
    COMPLAINT,
    NEGATIVE_TONE_PHRASE,
    SARCASM,
    THREAT_TO_LEAVE,
)
from bot.sentiment.training_data import load_labelled

# Feature sets compared by --search: the n-grams alone, with the rule features at
# several strengths, and the chosen strength with other n-gram ranges.
SEARCH_FEATURES = (
    {"rule_features": False},
    {"rule_feature_scale": 1.0},
    {"rule_feature_scale": 0.1},
    {"rule_feature_scale": 0.03},
    {"rule_feature_scale": 0.01},
    {"rule_feature_scale": 0.03, "char_ngrams": None},
    {"rule_feature_scale": 0.03, "word_ngrams": None},
    {"rule_feature_scale": 0.03, "word_ngrams": (1, 3)},
    {"rule_feature_scale": 0.03, "char_ngrams": (3, 5)},
    {"rule_feature_scale": 0.03, "balanced": False},
)
SEARCH_C = (3.0, 10.0, 30.0, 100.0)
SEARCH_DECISIVE = (
    (),
    (ABUSIVE,),
    (ABUSIVE, NEGATIVE_TONE_PHRASE),
    (ABUSIVE, NEGATIVE_TONE_PHRASE, SARCASM),
    (ABUSIVE, THREAT_TO_LEAVE),
    (ABUSIVE, THREAT_TO_LEAVE, COMPLAINT),
)


def search_candidates() -> List[ModelSettings]:
    """The grid `--search` compares."""
    return [
        # The ignore: **features are ModelSettings' boolean fields, named by the grid at run time.
        replace(CHOSEN, c=c, decisive_evidence=decisive, **features)  # type: ignore[arg-type]
        for features, c, decisive in itertools.product(SEARCH_FEATURES, SEARCH_C, SEARCH_DECISIVE)
    ]


def _cells(scores: Scores | None) -> str:
    if scores is None:
        return "n/a"

    def number(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    return f"{number(scores.precision)} / {number(scores.recall)} / {number(scores.f1)}"


def render(result: CrossValidation) -> str:
    """The per-writer and pooled table of one cross-validation, rules only beside."""
    lines = [
        "Leave-one-writer-out cross-validation of the frustration verdict",
        f"model: {result.settings.describe()}",
        "",
        f"  {'held-out writer':<34}{'messages':>9}{'frustrated':>12}"
        f"   {'rules only P / R / F1':<25}{'learned P / R / F1':<25}",
    ]

    def row(name: str, learned: Scores | None, rules: Scores | None) -> str:
        assert learned is not None
        return (
            f"  {name:<34}{learned.messages:>9}{learned.frustrated:>12}"
            f"   {_cells(rules):<25}{_cells(learned):<25}"
        )

    for writer, scores in result.per_writer.items():
        marker = " *" if writer == RULES_TUNED_ON else ""
        lines.append(row(writer + marker, scores, result.rules_per_writer.get(writer)))
    lines.append(row("pooled", result.pooled, result.rules_pooled))
    others = [p for p in result.predictions if p.message.writer != RULES_TUNED_ON]
    if others and len(others) < len(result.predictions):
        labels = [p.message.frustrated for p in others]
        lines.append(
            row(
                f"pooled without {RULES_TUNED_ON}",
                score(labels, [p.frustrated for p in others]),
                score(labels, [p.rules_frustrated for p in others]),
            )
        )
        lines += [
            "",
            f"  * the word lists were tuned on {RULES_TUNED_ON}: its rules-only row and the",
            "    rule features of its fold flatter the detector; the other writers are fresh.",
        ]
    lines += [
        "",
        f"target on a new writer: recall >= {RECALL_AT_LEAST:.2f} "
        f"at precision >= {PRECISION_AT_LEAST:.2f}",
    ]
    return "\n".join(lines)


def render_search(results: Sequence[CrossValidation], limit: int) -> str:
    """The best `limit` candidates of a search, one line each."""
    lines = [
        f"{len(results)} candidates, each at the threshold with the best pooled precision "
        f"while every writer's recall is >= {RECALL_AT_LEAST:.2f}; best first "
        "(pooled P / R / F1, the worst writer's recall)",
    ]
    for result in results[:limit]:
        worst = min((s.recall or 0.0) for s in result.per_writer.values())
        lines.append(
            f"  {_cells(result.pooled):<24} worst R {worst:.3f}   {result.settings.describe()}"
        )
    return "\n".join(lines)


def render_misses(result: CrossValidation) -> str:
    """The held-out messages the learned verdict got wrong."""
    lines = ["", "misses (p = the held-out model's probability):"]
    for prediction in result.predictions:
        message = prediction.message
        if prediction.frustrated != message.frustrated:
            kind = "missed" if message.frustrated else "false alarm"
            lines.append(
                f"  {kind:<12}{prediction.probability:.2f}  {message.writer} [{message.category}]"
                f" {message.text}"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Prints the cross-validation; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.sentiment.crossval",
        description="Leave-one-writer-out cross-validation of the frustration verdict.",
    )
    parser.add_argument("--search", action="store_true", help="compare a grid of settings")
    parser.add_argument("--top", type=int, default=15, help="candidates shown by --search")
    parser.add_argument("--misses", action="store_true", help="list the misclassified messages")
    args = parser.parse_args(argv)

    started = time.monotonic()
    messages = load_labelled()
    readings = read_all(messages)
    if args.search:
        results = select(search_candidates(), messages, readings)
        print(render_search(results, args.top))
        print()
    result = cross_validate(messages, CHOSEN, readings)
    print(render(result))
    if args.misses:
        print(render_misses(result))
    print(f"\n({time.monotonic() - started:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
