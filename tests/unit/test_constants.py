"""Every intent, slot, action and response named in bot.constants exists in the domain."""

from __future__ import annotations

import pytest
import yaml

from bot import constants
from bot.settings import PROJECT_ROOT

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
BUILT_IN = {"nlu_fallback", "requested_slot"}


def names(prefix: str):
    return sorted(
        (name, value)
        for name, value in vars(constants).items()
        if name.startswith(prefix) and isinstance(value, str)
    )


@pytest.mark.parametrize("name, value", names("INTENT_"))
def test_intents_are_declared(name, value):
    assert value in DOMAIN["intents"] or value in BUILT_IN, name


@pytest.mark.parametrize("name, value", names("SLOT_"))
def test_slots_are_declared(name, value):
    assert value in DOMAIN["slots"], name


@pytest.mark.parametrize("name, value", names("ACTION_"))
def test_actions_are_declared(name, value):
    assert value in DOMAIN["actions"], name


@pytest.mark.parametrize("name, value", names("UTTER_"))
def test_responses_are_declared(name, value):
    assert value in DOMAIN["responses"], name


@pytest.mark.parametrize("name, value", names("ENTITY_"))
def test_entities_are_declared(name, value):
    assert value in DOMAIN["entities"], name


@pytest.mark.parametrize("name, value", names("FORM_"))
def test_forms_are_declared(name, value):
    assert value in DOMAIN["forms"], name


def test_the_case_form_asks_for_every_case_slot():
    assert constants.FORM_CASE in DOMAIN["forms"]
