"""Targets, their verdicts, the printed report and the JSON results."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from bot.evaluation.frustration import score_frustration
from bot.evaluation.frustration_set import LabelledMessage
from bot.evaluation.nlu_metrics import score_nlu
from bot.evaluation.predictions import Prediction
from bot.evaluation.report import render_report
from bot.evaluation.results import (
    DataSummary,
    EvaluationResults,
    FrustrationSection,
    NluSection,
    TrainingScores,
    check_targets,
    to_json,
    write_results,
)
from bot.evaluation.targets import Target, Verdict


@pytest.mark.parametrize(
    ("value", "verdict"),
    [
        (19 / 20, Verdict.PASS),
        (0.96, Verdict.PASS),
        (0.9499, Verdict.FAIL),
        (None, Verdict.NOT_MEASURED),
    ],
)
def test_a_target_passes_at_its_minimum(value, verdict):
    assert Target("m", "m", 0.95).check(value) is verdict


def _prediction(true: str, intent: str, retrieval: str | None = None) -> Prediction:
    return Prediction(f"text {true} {intent}", true, intent, 0.9, retrieval)


def _results(frustration_flags: list[bool] | None) -> EvaluationResults:
    held = score_nlu(
        [_prediction("request_human", "request_human")] * 19
        + [_prediction("request_human", "nlu_fallback")]
        + [_prediction("faq/esim", "faq", "faq/esim")] * 8
        + [_prediction("faq/esim", "faq", "faq/roaming")] * 2
    )
    messages = [LabelledMessage("grr", "angry", True), LabelledMessage("hi", "neutral", False)]
    sections = [FrustrationSection("dev", "dev.yml", not_measured="dev.yml not found")]
    test_scores = None
    if frustration_flags is not None:
        test_scores = score_frustration(messages, frustration_flags)
        sections.insert(0, FrustrationSection("test", "test.yml", test_scores))
    cv = NluSection("cross-validation", 30, 30, held)
    return EvaluationResults(
        date="2026-01-01 10:00 UTC",
        command="python -m bot.evaluation",
        duration_seconds=75.2,
        data=DataSummary("data/nlu", 40, 3, 30, 10, 0.2, 5, untested_labels=("faq/late_payment",)),
        held_out=NluSection("held-out", 30, 30, held),
        cross_validation=cv,
        frustration=sections,
        checks=check_targets(held, test_scores),
        cross_validation_errors=[_prediction("faq/esim", "faq", "faq/roaming")],
    )


def test_targets_are_judged_on_held_out_and_frustration_test():
    checks = {(c.judged_on, c.label): c for c in _results([True, True]).checks}
    assert checks["held-out", "request_human precision"].verdict is Verdict.PASS
    assert checks["held-out", "request_human recall"].verdict is Verdict.PASS  # 19/20 = 0.95
    assert checks["held-out", "FAQ top-1 accuracy"].verdict is Verdict.FAIL  # 0.8
    # No out_of_scope example among the held-out predictions: not measured, never 0.
    assert checks["held-out", "out-of-scope declined"].verdict is Verdict.NOT_MEASURED
    assert checks["frustration test", "frustration recall"].verdict is Verdict.PASS
    assert checks["frustration test", "frustration precision"].verdict is Verdict.FAIL


def test_frustration_targets_are_not_measured_without_the_test_set():
    results = _results(None)
    verdicts = {(c.judged_on, c.label): c.verdict for c in results.checks}
    assert verdicts["frustration test", "frustration recall"] is Verdict.NOT_MEASURED
    assert [c.label for c in results.missed if c.judged_on in ("held-out", "frustration test")] == [
        "FAQ top-1 accuracy",
        "out-of-scope declined",
        "frustration recall",
        "frustration precision",
    ]


def test_the_report_shows_each_target_with_its_verdict_and_what_was_missed():
    report = render_report(_results([True, True]))
    faq_row = next(line for line in report.splitlines() if "FAQ top-1" in line)
    assert ">= 0.90" in faq_row and "0.800 (n=10)" in faq_row and faq_row.endswith("FAIL")
    # 4 held-out, 2 frustration, 3 perturbed and 5 written-apart targets; those two
    # robustness sets were not run here.
    assert "Targets: 3 of 14 met." in report
    assert "NOT MEASURED: request_human recall on written apart: n/a" in report
    assert "FAIL: FAQ top-1 accuracy on held-out: 0.800 (target >= 0.90)" in report
    assert "faq/esim -> faq/roaming" in report
    assert "no held-out example (not measured there): faq/late_payment" in report
    assert "dev: not measured: dev.yml not found" in report
    assert "1 min 15 s" in report


def test_the_json_results_are_plain_and_complete(tmp_path: Path):
    results = _results([False, True])
    path = write_results(results, tmp_path / "eval" / "results.json")
    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert loaded == json.loads(to_json(results))
    assert loaded["held_out"]["scores"]["faq_top1"] == 0.8
    assert loaded["checks"][0] == {
        "label": "request_human precision",
        "metric": "request_human_precision",
        "judged_on": "held-out",
        "minimum": 0.95,
        "value": 1.0,
        "verdict": "PASS",
    }
    assert loaded["frustration"][0]["scores"]["by_category"]["angry"]["false_negative"] == 1
    assert loaded["cross_validation_errors"][0]["retrieval_intent"] == "faq/roaming"


def test_a_cross_validation_only_run_leaves_the_nlu_targets_unmeasured():
    full = _results([True, False])
    cv_only = dataclasses.replace(full, held_out=None, checks=check_targets(None, None))
    assert {c.verdict for c in cv_only.checks} == {Verdict.NOT_MEASURED}
    report = render_report(cv_only)
    nlu_header = next(line for line in report.splitlines() if line.startswith("  NLU"))
    assert "cross-val (5 folds)" in nlu_header and "held-out" not in nlu_header
    assert "held-out intent confusions" not in report
    assert "cross-validation intent confusions" in report
    assert "Targets: 0 of 14 met." in report


def test_held_out_confusions_are_printed_only_when_asked_for():
    results = _results([True, True])
    assert "held-out intent confusions" not in render_report(results)
    shown = render_report(results, show_held_out_confusions=True)
    assert "held-out intent confusions (true -> predicted):" in shown
    assert "1 x  request_human -> nlu_fallback" in shown.split("held-out intent confusions")[1]


def test_several_trainings_show_their_pooled_scores_and_each_trainings_spread():
    first = score_nlu(
        [_prediction("faq/esim", "faq", "faq/esim")] * 9
        + [_prediction("faq/esim", "faq", "faq/roaming")]
    )
    second = score_nlu(
        [_prediction("faq/esim", "faq", "faq/esim")] * 7
        + [_prediction("faq/esim", "faq", "faq/roaming")] * 3
    )
    pooled = score_nlu(
        [_prediction("faq/esim", "faq", "faq/esim")] * 16
        + [_prediction("faq/esim", "faq", "faq/roaming")] * 4
    )
    held_out = NluSection(
        "held-out",
        30,
        10,
        pooled,
        trainings=2,
        per_training=[TrainingScores.of(0, first), TrainingScores.of(1, second)],
    )
    results = dataclasses.replace(
        _results([True, True]), held_out=held_out, checks=check_targets(pooled, None)
    )
    report = render_report(results, show_held_out_confusions=True)
    lines = report.splitlines()
    assert "held-out (2 trainings)" in next(line for line in lines if line.startswith("  NLU"))
    assert next(line for line in lines if "examples tested" in line).split()[-1] == "10"
    assert "0.800 (n=20)" in next(line for line in lines if "FAQ top-1" in line)
    per_training = lines[
        lines.index("  held-out, each training (seeds moved on by the offset):") + 2 :
    ][:2]
    assert per_training[0].split()[0] == "+0" and "0.900" in per_training[0]
    assert per_training[1].split()[0] == "+1" and "0.700" in per_training[1]
    assert "held-out FAQ misses (true -> answered, summed over 2 trainings):" in report
    assert json.loads(to_json(results))["held_out"]["per_training"][1]["faq_top1"] == 0.7
