"""The NLU benchmark's sample and report (the timing itself belongs to `make bench`)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.nlu import report, sample_messages


def test_every_run_parses_the_same_messages():
    assert sample_messages(50) == sample_messages(50)
    assert len(set(sample_messages(50))) == 50


def test_the_report_gives_each_model_and_the_ratio_of_the_means():
    models = {"model": Path("new.tar.gz"), "baseline": Path("old.tar.gz")}
    text = report({"model": [0.011, 0.011], "baseline": [0.010, 0.010]}, models)
    assert "model     new.tar.gz: 2 parses, p50 11.0 ms" in text
    assert "baseline  old.tar.gz: 2 parses, p50 10.0 ms" in text
    assert "model / baseline, mean per message: 1.100 (+10.0 %)" in text


def test_without_a_baseline_there_is_no_ratio():
    text = report({"model": [0.02]}, {"model": Path("m.tar.gz")})
    assert "ratio" not in text and "baseline" not in text
