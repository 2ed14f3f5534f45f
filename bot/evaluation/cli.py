"""`python -m bot.evaluation`: measure NLU and frustration detection against the targets.

Prints the report and writes it as JSON (`var/eval/results.json`). The exit status
is 0 whenever the evaluation ran, whatever the scores: a missed target is printed
plainly, not signalled as a failure. It is non-zero only when something broke
(unreadable data, a model that did not train).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

from bot.evaluation.decision_scores import as_examples, score_decisions
from bot.evaluation.examples import examples_of, load_training_data
from bot.evaluation.external import DEFAULT_MODEL, ModelMissing, evaluate_external, render_external
from bot.evaluation.frustration import (
    Detector,
    detect,
    misclassified,
    score_frustration,
    sentiment_detector,
    writer_cross_validation,
)
from bot.evaluation.frustration_set import (
    FrustrationSetError,
    LabelledMessage,
    load_frustration_set,
)
from bot.evaluation.labelled_messages import (
    LabelledCustomerMessage,
    LabelledMessagesError,
    file_sha256,
)
from bot.evaluation.nlu_metrics import is_error, score_nlu
from bot.evaluation.nlu_model import TrainingFailed
from bot.evaluation.nlu_runs import cross_validate, train_and_predict_sets_with_seeds
from bot.evaluation.overlap import minilm_featurizer, near_training, sentence_vectors
from bot.evaluation.perturb import FAMILIES, PerturbedExample, perturbed_examples
from bot.evaluation.predictions import Prediction
from bot.evaluation.report import render_report
from bot.evaluation.results import (
    CROSS_VALIDATION,
    FRUSTRATION_TEST,
    FRUSTRATION_WRITER_CV,
    HELD_OUT,
    PERTURBED,
    WRITTEN_APART,
    DataSummary,
    DecisionSection,
    EvaluationResults,
    FamilyScores,
    FrustrationSection,
    NluSection,
    TrainingScores,
    check_targets,
    write_results,
)
from bot.evaluation.seeded_config import ConfigSeedError
from bot.evaluation.split import DEFAULT_FOLDS, DEFAULT_TEST_FRACTION, coverage_gaps, holdout_split
from bot.evaluation.written_apart import WRITTEN_APART_PATH, load_written_apart

EXIT_ERROR = 2
DEFAULT_OUTPUT = Path("var/eval/results.json")
DEFAULT_FRUSTRATION_DIR = Path("evaluation/frustration")
# One held-out training is too noisy to judge a target on (docs/quality.md): three
# trainings with different seeds show the spread and average most of it out.
DEFAULT_TRAININGS = 3


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.evaluation",
        description="Measure NLU (cross-validation and held-out split) and frustration "
        "detection against Baton's quality targets.",
    )
    parser.add_argument(
        "--folds",
        type=int,
        default=DEFAULT_FOLDS,
        help="cross-validation folds (default %(default)s)",
    )
    parser.add_argument(
        "--skip-cv",
        action="store_true",
        help="skip cross-validation (a quick run: held-out split only)",
    )
    parser.add_argument(
        "--cv-only",
        action="store_true",
        help="cross-validation only, no held-out run: for working on the training data "
        "without seeing the held-out results",
    )
    parser.add_argument(
        "--test-fraction",
        type=float,
        default=DEFAULT_TEST_FRACTION,
        help="share of examples held out by hash of their text (default %(default)s)",
    )
    parser.add_argument(
        "--trainings",
        type=int,
        help="held-out trainings, each with the config's random seeds moved on by one; "
        f"targets are judged on their pooled predictions (default {DEFAULT_TRAININGS})",
    )
    parser.add_argument(
        "--show-held-out-confusions",
        action="store_true",
        help="also print which labels the held-out split confuses (kept out of sight by "
        "default: data work looks at cross-validation, never at the test split)",
    )
    parser.add_argument(
        "--data", type=Path, default=Path("data/nlu"), help="NLU data (default %(default)s)"
    )
    parser.add_argument(
        "--config", type=Path, default=Path("config.yml"), help="Rasa config (default %(default)s)"
    )
    parser.add_argument(
        "--domain", type=Path, default=Path("domain.yml"), help="Rasa domain (default %(default)s)"
    )
    parser.add_argument(
        "--frustration-dir",
        type=Path,
        default=DEFAULT_FRUSTRATION_DIR,
        help="directory of the labelled test.yml (default %(default)s)",
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results (default %(default)s)"
    )
    parser.add_argument(
        "--written-apart",
        type=Path,
        default=WRITTEN_APART_PATH,
        help="the set written apart from our data, scored by every held-out training "
        "(default %(default)s; its sha256 must be the committed one)",
    )
    parser.add_argument(
        "--external",
        type=Path,
        metavar="FILE.tsv",
        help="instead of training: score the trained model on your own labelled messages "
        "(text<TAB>label, label request_human / other / out_of_scope, optionally "
        "<TAB>frustrated yes/no<TAB>kind); nothing is written, no text printed",
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=DEFAULT_MODEL,
        help="the trained model --external scores (default %(default)s)",
    )
    return parser


def _quiet_rasa() -> None:
    """Keeps Rasa's and TensorFlow's training chatter out of the report."""
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # also hides Rasa's epoch progress bars
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Fold models are throwaway: keep them out of the shared .rasa/cache that
    # `rasa train` uses (and away from its SQLite index while others train).
    os.environ.setdefault("RASA_MAX_CACHE_SIZE", "0")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    # Rasa's and TensorFlow's imports add warning filters of their own in front of
    # any set before: import them first, then silence the deprecation noise.
    import rasa.model_training  # noqa: F401
    from rasa.utils.log_utils import configure_structlog

    for category in (UserWarning, FutureWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
    for name in ("rasa", "tensorflow", "absl"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # Rasa logs every parse through structlog at debug level unless told otherwise:
    # that would print the held-out messages with their predictions.
    configure_structlog(logging.WARNING)


def _progress(message: str) -> None:
    print(f"[eval] {message}", file=sys.stderr, flush=True)


def evaluate_frustration(
    directory: Path,
    detector_factory: Callable[[], Detector] = sentiment_detector,
    writer_cross_validation: Callable[
        [], Tuple[List[LabelledMessage], List[bool]]
    ] = writer_cross_validation,
) -> List[FrustrationSection]:
    """Scores the frustration detector on the TEST set in `directory`, and reports its
    leave-one-writer-out cross-validation over its own training data beside it.

    A test set file that is missing, or a detector that cannot be imported yet, is
    "not measured" with the reason; a malformed file is an error.

    Raises:
        FrustrationSetError: If the test set file is malformed.
    """
    loaded: List[Tuple[str, Path, List[LabelledMessage] | None]] = []
    path = directory / f"{FRUSTRATION_TEST}.yml"
    loaded.append((FRUSTRATION_TEST, path, load_frustration_set(path) if path.is_file() else None))
    detector: Detector | None = None
    reason = ""
    try:
        detector = detector_factory()
    except ImportError as error:
        reason = f"the detector is not available ({error})"
    sections = []
    for name, path, messages in loaded:
        if messages is None:
            sections.append(FrustrationSection(name, str(path), not_measured=f"{path} not found"))
        elif detector is None:
            sections.append(FrustrationSection(name, str(path), not_measured=reason))
        else:
            # No miss texts for the test set: it is not for tuning.
            flags = detect(messages, detector)
            sections.append(FrustrationSection(name, str(path), score_frustration(messages, flags)))
    sections.append(_writer_cv_section(writer_cross_validation))
    return sections


def _writer_cv_section(
    writer_cross_validation: Callable[[], Tuple[List[LabelledMessage], List[bool]]],
) -> FrustrationSection:
    """Each training writer judged by a model trained on the others (miss texts kept)."""
    where = "bot/sentiment/labelled (leave one writer out)"
    try:
        messages, flags = writer_cross_validation()
    except ImportError as error:
        return FrustrationSection(
            FRUSTRATION_WRITER_CV, where, not_measured=f"the detector is not available ({error})"
        )
    return FrustrationSection(
        FRUSTRATION_WRITER_CV,
        where,
        score_frustration(messages, flags),
        misses=misclassified(messages, flags),
    )


def scores_by_family(
    noisy: Sequence[PerturbedExample], runs: Sequence[Sequence[Prediction]]
) -> List[FamilyScores]:
    """The perturbed copy's headline scores per noise family, every training pooled: which
    kind of noise costs what (a message with two families counts in both)."""
    by_family = []
    for family in FAMILIES:
        positions = [i for i, example in enumerate(noisy) if family in example.families]
        if positions:
            pooled = [run[i] for run in runs for i in positions]
            by_family.append(FamilyScores.of(family, len(positions), score_nlu(pooled)))
    return by_family


def _written_apart(
    path: Path, training_texts: Sequence[str]
) -> Tuple[List[LabelledCustomerMessage], DecisionSection]:
    """The set written apart, without its messages near a training example
    (bot.evaluation.overlap), and its section; or no messages and why not measured.

    Raises:
        LabelledMessagesError: If the file is there but edited or malformed.
    """
    if not path.is_file():
        return [], DecisionSection(WRITTEN_APART, str(path), not_measured=f"{path} not found")
    messages = load_written_apart(path)
    featurize = minilm_featurizer()
    near = near_training(
        sentence_vectors([m.text for m in messages], featurize),
        sentence_vectors(training_texts, featurize),
    )
    kept = [message for message, is_near in zip(messages, near, strict=True) if not is_near]
    section = DecisionSection(
        WRITTEN_APART, str(path), sha256=file_sha256(path), left_out_as_near=sum(near)
    )
    return kept, section


def _score_written_apart(
    section: DecisionSection,
    messages: Sequence[LabelledCustomerMessage],
    runs: Sequence[Dict[str, List[Prediction]]],
    detector_factory: Callable[[], Detector] = sentiment_detector,
) -> DecisionSection:
    """The decisions of every training on the set, pooled, and the detector's flags."""
    try:
        detector: Detector | None = detector_factory()
    except ImportError:
        detector = None
    flags = [detector(m.text) for m in messages] if detector else None
    pooled = [prediction for run in runs for prediction in run[WRITTEN_APART]]
    scores = score_decisions(
        list(messages) * len(runs), pooled, flags * len(runs) if flags else None, len(runs)
    )
    return dataclasses.replace(section, scores=scores)


def run(args: argparse.Namespace, command: str) -> EvaluationResults:
    """Runs every evaluation the options ask for and gathers the results."""
    started = time.monotonic()
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    frustration = evaluate_frustration(args.frustration_dir)

    training_data = load_training_data(args.data)
    examples = examples_of(training_data)
    split = holdout_split(examples, args.test_fraction)
    gaps = coverage_gaps(examples, split)
    _progress(
        f"{len(examples)} examples: {len(split.train)} train, {len(split.test)} held out"
        + ("" if args.skip_cv else f"; {args.folds}-fold cross-validation first")
    )

    cross_validation = None
    cv_errors = []
    if not args.skip_cv:
        pooled = cross_validate(
            training_data, examples, split.train, args.folds, args.config, args.domain, _progress
        )
        cross_validation = NluSection(
            CROSS_VALIDATION, len(split.train), len(pooled), score_nlu(pooled)
        )
        cv_errors = [p for p in pooled if is_error(p)]

    held_out = perturbed = written_apart = None
    by_family: List[FamilyScores] = []
    if not args.cv_only:
        _progress(
            f"held-out split: training on {len(split.train)}, testing {len(split.test)}, "
            f"{args.trainings} training(s); also its perturbed copy and the set written apart"
        )
        test_examples = [examples[i] for i in split.test]
        noisy = perturbed_examples(test_examples)
        sets = {HELD_OUT: test_examples, PERTURBED: [p.example for p in noisy]}
        _progress("set written apart: leaving out its messages near a training example")
        written_messages, written_apart = _written_apart(
            args.written_apart, [example.text for example in examples]
        )
        if written_messages:
            sets[WRITTEN_APART] = as_examples(written_messages)
        runs = train_and_predict_sets_with_seeds(
            training_data, split.train, sets, args.config, args.domain, args.trainings, _progress
        )
        held_runs = [run[HELD_OUT] for run in runs]
        held_out = NluSection(
            HELD_OUT,
            len(split.train),
            len(split.test),
            score_nlu([prediction for run in held_runs for prediction in run]),
            trainings=len(runs),
            per_training=[
                TrainingScores.of(offset, score_nlu(run)) for offset, run in enumerate(held_runs)
            ]
            if len(runs) > 1
            else [],
        )
        perturbed = NluSection(
            PERTURBED,
            len(split.train),
            len(split.test),
            score_nlu([prediction for run in runs for prediction in run[PERTURBED]]),
            trainings=len(runs),
        )
        by_family = scores_by_family(noisy, [run[PERTURBED] for run in runs])
        if written_messages and written_apart is not None:
            written_apart = _score_written_apart(written_apart, written_messages, runs)

    test_scores = next((s.scores for s in frustration if s.name == FRUSTRATION_TEST), None)
    return EvaluationResults(
        date=date,
        command=command,
        duration_seconds=time.monotonic() - started,
        data=DataSummary(
            path=str(args.data),
            examples=len(examples),
            labels=len({e.intent for e in examples}),
            train_examples=len(split.train),
            held_out_examples=len(split.test),
            test_fraction=args.test_fraction,
            folds=None if args.skip_cv else args.folds,
            untested_labels=gaps.untested,
            untrained_labels=gaps.untrained,
        ),
        held_out=held_out,
        cross_validation=cross_validation,
        frustration=frustration,
        checks=check_targets(
            held_out.scores if held_out else None,
            test_scores,
            perturbed.scores if perturbed else None,
            written_apart.scores if written_apart else None,
        ),
        cross_validation_errors=cv_errors,
        perturbed=perturbed,
        perturbed_by_family=by_family,
        written_apart=written_apart,
    )


def run_external(path: Path, model: Path) -> int:
    """`--external`: the trained model's decisions on someone's own labelled messages."""
    try:
        scores = evaluate_external(path, model)
    except (LabelledMessagesError, ModelMissing) as error:
        print(f"evaluation failed: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(render_external(path, model, scores))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the evaluation; returns the exit status (0 unless something broke)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.folds < 2:
        parser.error(f"--folds must be at least 2, got {args.folds}")
    if args.cv_only and args.skip_cv:
        parser.error("--cv-only and --skip-cv leave nothing to run")
    if args.cv_only and args.trainings is not None:
        parser.error("--trainings sets the held-out trainings, which --cv-only skips")
    if args.trainings is None:
        args.trainings = DEFAULT_TRAININGS
    if args.trainings < 1:
        parser.error(f"--trainings must be at least 1, got {args.trainings}")
    if not 0 < args.test_fraction < 1:
        parser.error(f"--test-fraction must be between 0 and 1, got {args.test_fraction}")
    command = " ".join(["python -m bot.evaluation", *(sys.argv[1:] if argv is None else argv)])
    _quiet_rasa()
    if args.external is not None:
        return run_external(args.external, args.model)
    try:
        results = run(args, command)
    except (
        LabelledMessagesError,
        FrustrationSetError,
        TrainingFailed,
        ConfigSeedError,
        FileNotFoundError,
        ValueError,
    ) as error:
        print(f"evaluation failed: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(render_report(results, show_held_out_confusions=args.show_held_out_confusions))
    path = write_results(results, args.output)
    print(f"Results written to {path}")
    if results.missed:
        print(
            f"{len(results.missed)} target(s) not met (see above); the evaluation itself ran fine."
        )
    return 0
