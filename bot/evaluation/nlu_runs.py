"""The two NLU evaluations: the held-out split, and k-fold cross-validation.

Both train a fresh model per run in a temporary directory (removed afterwards) and
parse the examples that model did not see. Cross-validation runs over the training
side of the held-out split only, so the errors it shows, which guide the work on the
training data, never come from the held-out examples.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, List, Mapping, Sequence

from bot.evaluation.examples import NluExample, subset
from bot.evaluation.nlu_model import NluParser, train_nlu_model
from bot.evaluation.predictions import Prediction, prediction_from_parse
from bot.evaluation.seeded_config import write_seeded_config
from bot.evaluation.split import stratified_folds

if TYPE_CHECKING:
    from rasa.shared.nlu.training_data.training_data import TrainingData

Progress = Callable[[str], None]
# The name of the one set `train_and_predict` predicts.
TEST_SET = "test"


def _quiet(_: str) -> None:
    """The default progress sink: says nothing."""


def train_and_predict(
    training_data: TrainingData,
    examples: Sequence[NluExample],
    train: Sequence[int],
    test: Sequence[int],
    config: Path,
    domain: Path,
) -> List[Prediction]:
    """Trains on the examples at `train` and predicts the examples at `test`.

    Args:
        training_data: All the NLU data (positions index its intent examples).
        examples: The same examples as `NluExample`s, in the same order.
        train: Positions to train on.
        test: Positions to predict.
        config: The project's config.yml.
        domain: The project's domain.yml.

    Returns:
        One prediction per test position, in order.
    """
    sets = {TEST_SET: [examples[i] for i in test]}
    return train_and_predict_sets(training_data, train, sets, config, domain)[TEST_SET]


def train_and_predict_sets(
    training_data: TrainingData,
    train: Sequence[int],
    sets: Mapping[str, Sequence[NluExample]],
    config: Path,
    domain: Path,
) -> Dict[str, List[Prediction]]:
    """Trains on the examples at `train` and predicts every example of each named set
    with that one model (the held-out split, its perturbed copy, a set written apart).

    Returns:
        Each set's predictions, in order, under its name.
    """
    with tempfile.TemporaryDirectory(prefix="baton-eval-") as workdir:
        model = train_nlu_model(subset(training_data, train), Path(workdir), config, domain)
        parser = NluParser(model)
        predicted = {}
        for name, examples in sets.items():
            parsed = parser.parse_all([example.text for example in examples])
            predicted[name] = [
                prediction_from_parse(e, p) for e, p in zip(examples, parsed, strict=True)
            ]
    return predicted


def train_and_predict_with_seeds(
    training_data: TrainingData,
    examples: Sequence[NluExample],
    train: Sequence[int],
    test: Sequence[int],
    config: Path,
    domain: Path,
    trainings: int,
    progress: Progress = _quiet,
) -> List[List[Prediction]]:
    """`train_and_predict` `trainings` times, the config's random seeds moved on by
    0, 1, … each time (the first training is the config exactly as written).

    Returns:
        Each training's predictions, in order of seed offset.
    """
    sets = {TEST_SET: [examples[i] for i in test]}
    runs = train_and_predict_sets_with_seeds(
        training_data, train, sets, config, domain, trainings, progress
    )
    return [run[TEST_SET] for run in runs]


def train_and_predict_sets_with_seeds(
    training_data: TrainingData,
    train: Sequence[int],
    sets: Mapping[str, Sequence[NluExample]],
    config: Path,
    domain: Path,
    trainings: int,
    progress: Progress = _quiet,
) -> List[Dict[str, List[Prediction]]]:
    """`train_and_predict_sets` `trainings` times, the seeds moved on by 0, 1, …

    Returns:
        Each training's predictions of every set, in order of seed offset.
    """
    runs: List[Dict[str, List[Prediction]]] = []
    with tempfile.TemporaryDirectory(prefix="baton-eval-configs-") as workdir:
        for offset in range(trainings):
            started = time.monotonic()
            progress(f"held-out training {offset + 1}/{trainings} (seeds + {offset})")
            seeded = write_seeded_config(config, offset, Path(workdir))
            runs.append(train_and_predict_sets(training_data, train, sets, seeded, domain))
            progress(
                f"held-out training {offset + 1}/{trainings}: done in "
                f"{time.monotonic() - started:.0f} s"
            )
    return runs


def cross_validate(
    training_data: TrainingData,
    examples: Sequence[NluExample],
    positions: Sequence[int],
    folds: int,
    config: Path,
    domain: Path,
    progress: Progress = _quiet,
) -> List[Prediction]:
    """Stratified k-fold cross-validation over the examples at `positions`.

    Returns:
        The predictions of every fold pooled: each example at `positions` is
        predicted once, by the model that did not train on it.
    """
    labels = [examples[i].intent for i in positions]
    pooled: List[Prediction] = []
    for number, (train, test) in enumerate(stratified_folds(labels, folds), start=1):
        started = time.monotonic()
        progress(
            f"cross-validation fold {number}/{folds}: training on {len(train)}, testing {len(test)}"
        )
        pooled.extend(
            train_and_predict(
                training_data,
                examples,
                [positions[i] for i in train],
                [positions[i] for i in test],
                config,
                domain,
            )
        )
        progress(
            f"cross-validation fold {number}/{folds}: done in {time.monotonic() - started:.0f} s"
        )
    return pooled
