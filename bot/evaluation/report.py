"""The evaluation results as a plain-text report: a table per part, each target's
verdict, then the most frequent confusions.

The verdict column judges the held-out split (NLU) and the frustration TEST set;
the cross-validation and writer-cv (the frustration detector tested on each writer of
its training data) columns are for reference. Error texts are shown for those only,
and the held-out confusion pairs only when asked for. With several held-out trainings
the table shows their pooled scores, and a second table each training's.
"""

from __future__ import annotations

from typing import Dict, List, Sequence

from bot.evaluation.decision_scores import render_decisions
from bot.evaluation.frustration import FrustrationScores
from bot.evaluation.nlu_metrics import Confusion, NluScores, predicted_label
from bot.evaluation.overlap import NEAR_TRAINING
from bot.evaluation.results import (
    FRUSTRATION_TEST,
    FRUSTRATION_WRITER_CV,
    HELD_OUT,
    DecisionSection,
    EvaluationResults,
    FamilyScores,
    FrustrationSection,
    NluSection,
    TargetCheck,
)
from bot.evaluation.targets import FRUSTRATION_TARGETS, NLU_TARGETS, Target, Verdict

NOT_MEASURED = "n/a"
_LABEL_WIDTH = 30
_COLUMN_WIDTH = 24


def score(value: float | None) -> str:
    """A score with three decimals, or `n/a` when not measured."""
    return NOT_MEASURED if value is None else f"{value:.3f}"


def _row(label: str, target: str, cells: Sequence[str], verdict: str = "") -> str:
    line = f"  {label:<{_LABEL_WIDTH}}{target:<10}" + "".join(
        f"{c:<{_COLUMN_WIDTH}}" for c in cells
    )
    return (line + verdict).rstrip()


def _target_text(target: Target | None) -> str:
    return f">= {target.minimum:.2f}" if target else "-"


def _find(targets: Sequence[Target], metric: str) -> Target | None:
    return next((t for t in targets if t.metric == metric), None)


def _with_support(value: float | None, support: int) -> str:
    return f"{score(value)} (n={support})"


def _nlu_table(results: EvaluationResults, checks: Dict[str, TargetCheck]) -> List[str]:
    sections: List[NluSection] = []
    headers: List[str] = []
    if results.cross_validation:
        sections.append(results.cross_validation)
        headers.append(f"cross-val ({results.data.folds} folds)")
    if results.held_out:
        sections.append(results.held_out)
        trainings = results.held_out.trainings
        headers.append(f"held-out ({trainings} trainings)" if trainings > 1 else "held-out")
    if results.perturbed:
        sections.append(results.perturbed)
        headers.append("held-out perturbed")
    sets: List[NluScores] = [section.scores for section in sections]

    def metric_row(label: str, metric: str, support: str | None = None) -> str:
        target = _find(NLU_TARGETS, metric)
        cells = []
        for scores in sets:
            value = getattr(scores, metric)
            cells.append(
                _with_support(value, getattr(scores, support)) if support else score(value)
            )
        check = checks.get(metric)
        return _row(label, _target_text(target), cells, check.verdict.value if check else "")

    lines = [
        _row("NLU", "target", headers, "verdict"),
        _row("examples tested", "", [str(section.test_examples) for section in sections]),
    ]
    lines += [
        metric_row("intent macro-F1", "intent_macro_f1"),
        metric_row("intent accuracy", "intent_accuracy"),
        metric_row("request_human precision", "request_human_precision"),
        metric_row("request_human recall", "request_human_recall", "request_human_support"),
        metric_row("FAQ top-1 accuracy", "faq_top1", "faq_support"),
        metric_row("FAQ answered or suggested", "faq_answered_or_suggested", "faq_support"),
        metric_row("out_of_scope declined", "out_of_scope_declined", "out_of_scope_support"),
        metric_row("in-scope wrongly declined", "in_scope_declined", "in_scope_support"),
    ]
    return lines


def _per_training_table(section: NluSection) -> List[str]:
    """Each held-out training's headline scores: the spread the pooled figures hide."""
    columns = (
        ("macro-F1", "intent_macro_f1"),
        ("rh precision", "request_human_precision"),
        ("rh recall", "request_human_recall"),
        ("FAQ top-1", "faq_top1"),
        ("declined", "in_scope_declined"),
    )
    lines = [
        f"  {section.name}, each training (seeds moved on by the offset):",
        "    " + f"{'seed offset':<13}" + "".join(f"{label:>14}" for label, _ in columns),
    ]
    for training in section.per_training:
        lines.append(
            "    "
            + f"{'+' + str(training.seed_offset):<13}"
            + "".join(f"{score(getattr(training, metric)):>14}" for _, metric in columns)
        )
    return lines


def _family_table(families: Sequence[FamilyScores]) -> List[str]:
    """The perturbed copy per noise family: which kind of noise costs what."""
    columns = (
        ("rh precision", "request_human_precision"),
        ("rh recall", "request_human_recall"),
        ("FAQ top-1", "faq_top1"),
        ("declined", "in_scope_declined"),
    )
    lines = [
        "  held-out perturbed, by noise family (a message with two counts in both):",
        "    " + f"{'family':<16}{'messages':>9}" + "".join(f"{label:>14}" for label, _ in columns),
    ]
    for family in families:
        lines.append(
            "    "
            + f"{family.family:<16}{family.examples:>9}"
            + "".join(f"{score(getattr(family, metric)):>14}" for _, metric in columns)
        )
    return lines


def _frustration_table(
    sections: Sequence[FrustrationSection], checks: Dict[str, TargetCheck]
) -> List[str]:
    ordered = sorted(sections, key=lambda s: s.name != FRUSTRATION_TEST)
    headers = [s.name for s in ordered]
    lines = [_row("Frustration (bot.sentiment)", "target", headers, "verdict")]
    for section in ordered:
        if section.not_measured:
            lines.append(f"  {section.name}: not measured: {section.not_measured}")
    measured = [s.scores for s in ordered]

    def cells(metric: str) -> List[str]:
        return [score(getattr(s, metric)) if s else NOT_MEASURED for s in measured]

    lines.append(_row("messages", "", [str(s.messages) if s else NOT_MEASURED for s in measured]))
    for label, metric in (("precision", "precision"), ("recall", "recall"), ("F1", "f1")):
        check = checks.get(f"frustration:{metric}")
        lines.append(
            _row(
                label,
                _target_text(_find(FRUSTRATION_TARGETS, metric)),
                cells(metric),
                check.verdict.value if check else "",
            )
        )
    for section in ordered:
        if section.scores:
            lines += [""] + _category_table(section.name, section.scores)
    return lines


def _category_table(name: str, scores: FrustrationScores) -> List[str]:
    title = f"by category ({name})"
    lines = [f"  {title:<34}{'messages':>8}{'flagged':>9}{'TP':>5}{'FN':>5}{'FP':>5}{'TN':>5}"]
    for category, counts in scores.by_category.items():
        flagged = counts.true_positive + counts.false_positive
        lines.append(
            f"    {category:<32}{counts.messages:>8}{flagged:>9}{counts.true_positive:>5}"
            f"{counts.false_negative:>5}{counts.false_positive:>5}{counts.true_negative:>5}"
        )
    return lines


def _written_apart_lines(section: DecisionSection | None) -> List[str]:
    """The decisions on the set written apart, with 95 % intervals (no texts)."""
    if section is None:
        return []
    if section.scores is None:
        return [f"Written apart ({section.path}): not measured: {section.not_measured}", ""]
    title = f"Written apart ({section.path}, sha256 {section.sha256[:12]}…)"
    left_out = (
        f"  {section.left_out_as_near} messages left out: within MiniLM cosine "
        f"{NEAR_TRAINING} of a training example"
    )
    return render_decisions(title, section.scores) + [left_out, ""]


def _confusions(title: str, confusions: Sequence[Confusion], limit: int) -> List[str]:
    if not confusions:
        return [f"  {title}: none"]
    lines = [f"  {title}:"]
    lines += [f"    {c.count:>3} x  {c.true} -> {c.predicted}" for c in confusions[:limit]]
    if len(confusions) > limit:
        lines.append(f"    ... {len(confusions) - limit} more pairs in the JSON")
    return lines


def _verdict_lines(results: EvaluationResults) -> List[str]:
    passed = sum(1 for c in results.checks if c.verdict is Verdict.PASS)
    lines = [f"Targets: {passed} of {len(results.checks)} met."]
    for check in results.missed:
        lines.append(
            f"  {check.verdict.value}: {check.label} on {check.judged_on}: "
            f"{score(check.value)} (target >= {check.minimum:.2f})"
        )
    return lines


def render_report(
    results: EvaluationResults,
    confusion_limit: int = 8,
    error_limit: int = 15,
    show_held_out_confusions: bool = False,
) -> str:
    """The whole report as text.

    Args:
        results: One run's results.
        confusion_limit: How many confusion pairs to list per set.
        error_limit: How many cross-validation error texts to show.
        show_held_out_confusions: Whether to list the held-out confusion pairs too
            (summed over its trainings). Off by default, so that data work is
            steered by cross-validation, not by the split that judges it.
    """
    data = results.data
    checks = {c.metric: c for c in results.checks if c.judged_on == HELD_OUT}
    checks.update(
        {
            f"frustration:{c.metric}": c
            for c in results.checks
            if c.judged_on.startswith("frustration")
        }
    )
    minutes, seconds = divmod(round(results.duration_seconds), 60)
    lines = [
        f"Baton quality report, {results.date}, {minutes} min {seconds} s",
        f"Command: {results.command}",
        f"NLU data: {data.path}: {data.examples} examples, {data.labels} labels; "
        f"{data.train_examples} train / {data.held_out_examples} held out "
        f"({data.test_fraction:.0%} by hash of text)"
        + (
            f"; cross-validation over the {data.train_examples} train examples"
            if data.folds
            else ""
        ),
    ]
    if data.untested_labels:
        lines.append(
            f"  no held-out example (not measured there): {', '.join(data.untested_labels)}"
        )
    if data.untrained_labels:
        lines.append(
            f"  no training example (cannot be predicted): {', '.join(data.untrained_labels)}"
        )
    lines += [""] + _nlu_table(results, checks) + [""]
    if results.held_out and results.held_out.per_training:
        lines += _per_training_table(results.held_out) + [""]
    if results.perturbed_by_family:
        lines += _family_table(results.perturbed_by_family) + [""]
    lines += _frustration_table(results.frustration, checks) + [""]
    lines += _written_apart_lines(results.written_apart)
    if results.cross_validation:
        cv = results.cross_validation.scores
        lines += _confusions(
            "cross-validation intent confusions (true -> predicted)",
            cv.intent_confusions,
            confusion_limit,
        )
        lines += _confusions(
            "cross-validation FAQ misses (true -> answered)", cv.faq_confusions, confusion_limit
        )
    if results.held_out and show_held_out_confusions:
        held = results.held_out.scores
        summed = (
            f", summed over {results.held_out.trainings} trainings"
            if results.held_out.trainings > 1
            else ""
        )
        lines += _confusions(
            f"held-out intent confusions (true -> predicted{summed})",
            held.intent_confusions,
            confusion_limit,
        )
        lines += _confusions(
            f"held-out FAQ misses (true -> answered{summed})", held.faq_confusions, confusion_limit
        )
    if results.cross_validation_errors:
        lines += [
            "",
            "  cross-validation errors (first "
            f"{min(error_limit, len(results.cross_validation_errors))} "
            f"of {len(results.cross_validation_errors)}; all in the JSON):",
        ]
        for p in results.cross_validation_errors[:error_limit]:
            lines.append(
                f"    {p.true_intent} -> {predicted_label(p)} ({p.confidence:.2f}): {p.text}"
            )
    for section in results.frustration:
        if section.name == FRUSTRATION_WRITER_CV and section.misses:
            lines += [
                "",
                f"  frustration writer-cv misses ({len(section.misses)}; all in the JSON):",
            ]
            lines += [
                f"    {'missed' if m.frustrated else 'false alarm'} [{m.category}]: {m.text}"
                for m in section.misses[:error_limit]
            ]
    lines += [""] + _verdict_lines(results)
    return "\n".join(lines) + "\n"
