"""Repeated held-out trainings move every seed config.yml sets, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.evaluation.seeded_config import (
    ConfigSeedError,
    read_config,
    seeded_components,
    with_seed_offset,
    write_seeded_config,
)

CONFIG = {
    "recipe": "default.v1",
    "language": "en",
    "pipeline": [
        {"name": "WhitespaceTokenizer"},
        {"name": "DIETClassifier", "epochs": 40, "random_seed": 1},
        {"name": "ResponseSelector", "retrieval_intent": "faq", "random_seed": 7},
        {"name": "FallbackClassifier", "threshold": 0.5},
    ],
    "policies": [{"name": "RulePolicy"}, {"name": "TEDPolicy", "random_seed": 1}],
}


@pytest.mark.parametrize(
    ("offset", "seeds"),
    [(0, [1, 7, 1]), (1, [2, 8, 2]), (4, [5, 11, 5])],
)
def test_every_set_seed_moves_on_by_the_offset(offset, seeds):
    shifted = with_seed_offset(CONFIG, offset)
    components = shifted["pipeline"] + shifted["policies"]
    assert [c["random_seed"] for c in components if "random_seed" in c] == seeds


def test_unseeded_components_and_other_keys_are_left_as_they_are():
    shifted = with_seed_offset(CONFIG, 3)
    assert shifted["pipeline"][0] == {"name": "WhitespaceTokenizer"}
    assert shifted["pipeline"][3] == {"name": "FallbackClassifier", "threshold": 0.5}
    assert shifted["pipeline"][1]["epochs"] == 40
    assert (shifted["recipe"], shifted["language"]) == ("default.v1", "en")
    assert CONFIG["pipeline"][1]["random_seed"] == 1  # the original is not changed


def test_the_seeded_components_are_named_in_config_order():
    assert seeded_components(CONFIG) == ["DIETClassifier", "ResponseSelector", "TEDPolicy"]


def test_the_projects_config_seeds_every_network():
    names = seeded_components(read_config(Path("config.yml")))
    assert names.count("ResponseSelector") == 2
    assert {"DIETClassifier", "TEDPolicy"} <= set(names)


def test_offset_zero_trains_on_the_config_file_itself(tmp_path: Path):
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    assert write_seeded_config(config, 0, tmp_path) == config


def test_a_later_training_gets_a_written_copy_with_moved_seeds(tmp_path: Path):
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    workdir = tmp_path / "work"
    workdir.mkdir()
    seeded = write_seeded_config(config, 2, workdir)
    assert seeded.parent == workdir
    assert read_config(seeded) == with_seed_offset(CONFIG, 2)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- just\n- a list\n", "does not hold a Rasa config"),
        ("pipeline: WhitespaceTokenizer\n", "'pipeline'"),
    ],
)
def test_a_config_that_is_not_components_is_refused(tmp_path: Path, content, message):
    config = tmp_path / "config.yml"
    config.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigSeedError, match=message):
        write_seeded_config(config, 1, tmp_path)
