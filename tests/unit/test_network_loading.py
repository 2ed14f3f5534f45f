"""Networks built eagerly at load (bot/network_loading.py) predict exactly as Rasa's load.

A tiny DIET model is trained once, then parsed after Rasa's own `RasaModel.load` and
after `build_networks_eagerly`: every confidence of every ranking must be the same.
"""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any, Dict, List

import pytest

from bot.evaluation.examples import load_training_data
from bot.evaluation.nlu_model import train_nlu_model
from bot.network_loading import build_networks_eagerly
from tests.evaluation.test_nlu_runs import CONFIG, DOMAIN, NLU

TEXTS = ["hello", "get me a person now", "where has my parcel got to", "morning, track it"]


def rankings(model: Path) -> List[List[Dict[str, Any]]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def parse_all() -> List[List[Dict[str, Any]]]:
        return [(await agent.parse_message(text))["intent_ranking"] for text in TEXTS]

    return asyncio.run(parse_all())


@pytest.mark.training
def test_a_network_built_eagerly_predicts_exactly_as_after_rasas_own_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.utils.tensorflow.models import RasaModel

    monkeypatch.setenv("RASA_MAX_CACHE_SIZE", "0")
    for name, text in (("nlu.yml", NLU), ("domain.yml", DOMAIN), ("config.yml", CONFIG)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    model = train_nlu_model(
        load_training_data(tmp_path / "nlu.yml"),
        tmp_path,
        tmp_path / "config.yml",
        tmp_path / "domain.yml",
    )
    # Rasa's own load, also when another test in this process built networks eagerly.
    rasa_load = inspect.getattr_static(RasaModel, "_baton_rasa_load", RasaModel.__dict__["load"])
    monkeypatch.setattr(RasaModel, "load", rasa_load)
    monkeypatch.delattr(RasaModel, "_baton_rasa_load", raising=False)
    after_rasas_load = rankings(model)

    build_networks_eagerly()
    build_networks_eagerly()  # a second call changes nothing
    assert inspect.getattr_static(RasaModel, "load") is not rasa_load
    assert inspect.getattr_static(RasaModel, "_baton_rasa_load") is rasa_load
    built_eagerly = rankings(model)

    assert built_eagerly == after_rasas_load
    assert len(after_rasas_load[0]) == 3  # every intent ranked, each with its confidence
