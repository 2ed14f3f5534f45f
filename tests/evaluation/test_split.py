"""The held-out split is a function of each text alone; the folds are stratified."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.evaluation.examples import NluExample
from bot.evaluation.split import (
    coverage_gaps,
    holdout_split,
    is_held_out,
    normalise_text,
    stratified_folds,
    text_position,
)


def _examples(intent: str, count: int, prefix: str = "") -> list[NluExample]:
    return [NluExample(f"{prefix}{intent} example number {n}", intent) for n in range(count)]


def _sides(examples: list[NluExample]) -> dict[str, bool]:
    split = holdout_split(examples)
    return {examples[i].text: True for i in split.test} | {
        examples[i].text: False for i in split.train
    }


def test_a_text_has_the_same_position_on_every_run_and_machine():
    # SHA-256 of "where is my order": pinned, so a change of hash or normalisation
    # (which would reshuffle the held-out set) cannot go unnoticed.
    assert text_position("where is my order") == pytest.approx(0.49588, abs=1e-5)
    assert 0 <= text_position("") < 1


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("Where is my ORDER", "where is my order"),
        ("  where  is\tmy order ", "where is my order"),
        ("Where's my order?!", "wheres my order"),
    ],
)
def test_case_punctuation_and_spacing_do_not_change_the_side(text, same_as):
    assert normalise_text(text) == normalise_text(same_as)
    assert text_position(text) == text_position(same_as)


def test_adding_reordering_and_removing_examples_never_moves_an_old_example():
    old = _examples("greet", 60) + _examples("faq/returns", 60)
    before = _sides(old)
    grown = _examples("greet", 40, prefix="new ") + list(reversed(old)) + _examples("stop", 30)
    after = _sides(grown)
    assert {text: after[text] for text in before} == before
    shrunk = old[::2]
    assert all(_sides(shrunk)[e.text] == before[e.text] for e in shrunk)


def test_about_the_test_fraction_of_every_intent_is_held_out():
    examples = (
        _examples("greet", 400) + _examples("faq/returns", 400) + _examples("request_human", 400)
    )
    split = holdout_split(examples, test_fraction=0.2)
    held = Counter(examples[i].intent for i in split.test)
    for intent in ("greet", "faq/returns", "request_human"):
        assert 0.14 <= held[intent] / 400 <= 0.26, held
    assert sorted(split.train + split.test) == list(range(len(examples)))


def test_a_larger_fraction_holds_out_a_superset():
    examples = _examples("greet", 300)
    small = set(holdout_split(examples, 0.1).test)
    large = set(holdout_split(examples, 0.3).test)
    assert small < large


def test_coverage_gaps_name_intents_missing_from_either_side():
    candidates = [f"thanks a lot {n}" for n in range(200)]
    never_held = [NluExample(t, "thank") for t in candidates if not is_held_out(t)][:5]
    always_held = [NluExample(t, "affirm") for t in candidates if is_held_out(t)][:3]
    examples = _examples("greet", 100) + never_held + always_held
    gaps = coverage_gaps(examples, holdout_split(examples))
    assert gaps.untested == ("thank",)
    assert gaps.untrained == ("affirm",)


@pytest.mark.parametrize("fraction", [0, 1, -0.2, 1.5])
def test_a_fraction_outside_zero_to_one_is_refused(fraction):
    with pytest.raises(ValueError, match="test_fraction"):
        holdout_split(_examples("greet", 3), fraction)


def test_every_example_is_tested_once_and_each_fold_has_its_share_of_every_label():
    labels = ["greet"] * 10 + ["faq/returns"] * 25 + ["faq/esim"] * 15
    folds = stratified_folds(labels, folds=5)
    assert len(folds) == 5
    tested = sorted(i for _, test in folds for i in test)
    assert tested == list(range(len(labels)))
    for train, test in folds:
        assert not set(train) & set(test)
        counts = Counter(labels[i] for i in test)
        assert counts == {"greet": 2, "faq/returns": 5, "faq/esim": 3}


def test_folds_are_the_same_on_every_run():
    labels = ["a"] * 12 + ["b"] * 8
    assert stratified_folds(labels, 4) == stratified_folds(labels, 4)


@pytest.mark.parametrize(("folds", "count"), [(1, 10), (0, 10), (6, 5)])
def test_impossible_fold_counts_are_refused(folds, count):
    with pytest.raises(ValueError):
        stratified_folds(["a"] * count, folds)
