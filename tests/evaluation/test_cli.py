"""The command line refuses impossible runs before loading anything heavy."""

from __future__ import annotations

import pytest

from bot.evaluation.cli import DEFAULT_TRAININGS, build_parser, main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--folds", "1"], "--folds must be at least 2"),
        (["--test-fraction", "1.5"], "--test-fraction must be between 0 and 1"),
        (["--cv-only", "--skip-cv"], "leave nothing to run"),
        (["--trainings", "0"], "--trainings must be at least 1"),
        (["--cv-only", "--trainings", "3"], "which --cv-only skips"),
    ],
)
def test_impossible_options_are_refused_with_a_reason(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_the_defaults_are_five_folds_a_fifth_held_out_and_the_shared_results_file():
    args = build_parser().parse_args([])
    assert (args.folds, args.test_fraction, args.skip_cv, args.cv_only) == (5, 0.2, False, False)
    assert str(args.output) == "var/eval/results.json"
    assert str(args.frustration_dir) == "evaluation/frustration"


def test_the_held_out_split_is_trained_three_times_and_its_confusions_stay_hidden_by_default():
    assert DEFAULT_TRAININGS == 3
    args = build_parser().parse_args([])
    assert (args.trainings, args.show_held_out_confusions) == (None, False)
