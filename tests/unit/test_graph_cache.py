"""Rasa's training cache bookkeeping is skipped only when the cache is off (bot/graph_cache.py)."""

from __future__ import annotations

import inspect

import pytest

from bot.graph_cache import (
    CACHE_SIZE_VARIABLE,
    skip_training_cache_when_disabled,
    training_cache_disabled,
)


@pytest.mark.parametrize(
    ("value", "disabled"),
    [(None, False), ("0", True), ("0.0", True), ("1000", False), ("not a size", False)],
)
def test_the_cache_is_off_only_at_size_zero_as_rasa_reads_it(
    monkeypatch: pytest.MonkeyPatch, value: str | None, disabled: bool
) -> None:
    if value is None:
        monkeypatch.delenv(CACHE_SIZE_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(CACHE_SIZE_VARIABLE, value)
    assert training_cache_disabled() is disabled


def test_with_the_cache_on_rasas_training_hook_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.engine.training import graph_trainer
    from rasa.engine.training.hooks import TrainingHook

    monkeypatch.setattr(graph_trainer, "TrainingHook", TrainingHook)
    monkeypatch.setenv(CACHE_SIZE_VARIABLE, "1000")

    assert skip_training_cache_when_disabled() is False
    assert graph_trainer.TrainingHook is TrainingHook


def test_with_the_cache_off_the_trainer_gets_a_hook_that_computes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rasa.engine.training import graph_trainer
    from rasa.engine.training.hooks import TrainingHook

    monkeypatch.setattr(graph_trainer, "TrainingHook", TrainingHook)
    monkeypatch.setenv(CACHE_SIZE_VARIABLE, "0")

    assert skip_training_cache_when_disabled() is True
    replacement = graph_trainer.TrainingHook
    assert replacement is not TrainingHook
    # Made as the trainer makes Rasa's, called as the graph calls Rasa's.
    hook = replacement(cache=object(), model_storage=object(), pruned_schema=object())
    received = {"training_data": object()}
    assert hook.on_before_node("node", object(), {}, received) == {}
    assert hook.on_after_node("node", object(), {}, object(), {}) is None

    # A Rasa whose hook takes other arguments would need this module looked at again.
    def parameters(function: object) -> list[str]:
        return list(inspect.signature(function).parameters)

    assert parameters(TrainingHook.on_before_node) == [
        "self",
        "node_name",
        "execution_context",
        "config",
        "received_inputs",
    ]
    assert parameters(TrainingHook.on_after_node) == [
        "self",
        "node_name",
        "execution_context",
        "config",
        "output",
        "input_hook_data",
    ]
    assert parameters(TrainingHook.__init__) == [
        "self",
        "cache",
        "model_storage",
        "pruned_schema",
    ]
