"""The regex features in data/nlu mark what they say they mark, and nothing they must not.

`asks_what_is_replying` (basics.yml) is a DIET feature for questions about what is
replying ("are you human?"): it must keep to the line human.yml draws between those
(bot_challenge) and asking for a person (request_human), or it would teach the
classifier to turn requests for a person away.
"""

import re
from pathlib import Path
from typing import Dict, List

import pytest

from bot.constants import INTENT_BOT_CHALLENGE, INTENT_REQUEST_HUMAN
from bot.evaluation.examples import base_intent, examples_of, load_training_data

DATA = Path(__file__).resolve().parents[2] / "data" / "nlu"
WHAT_IS_REPLYING = "asks_what_is_replying"


@pytest.fixture(scope="module")
def training_data():
    return load_training_data(DATA)


@pytest.fixture(scope="module")
def what_is_replying(training_data) -> re.Pattern:
    patterns = [r["pattern"] for r in training_data.regex_features if r["name"] == WHAT_IS_REPLYING]
    assert len(patterns) == 1, f"one {WHAT_IS_REPLYING} regex in {DATA}"
    return re.compile(patterns[0])


@pytest.fixture(scope="module")
def texts_by_intent(training_data) -> Dict[str, List[str]]:
    texts: Dict[str, List[str]] = {}
    for example in examples_of(training_data):
        texts.setdefault(base_intent(example.intent), []).append(example.text)
    return texts


def test_no_request_for_a_person_in_the_data_is_marked(what_is_replying, texts_by_intent) -> None:
    marked = [t for t in texts_by_intent[INTENT_REQUEST_HUMAN] if what_is_replying.search(t)]
    assert marked == []


def test_nearly_every_question_about_what_is_replying_is_marked(
    what_is_replying, texts_by_intent
) -> None:
    questions = texts_by_intent[INTENT_BOT_CHALLENGE]
    unmarked = [t for t in questions if not what_is_replying.search(t)]
    assert len(unmarked) <= len(questions) // 20, unmarked


def test_few_messages_of_other_intents_are_marked(what_is_replying, texts_by_intent) -> None:
    others = [
        text
        for intent, texts in texts_by_intent.items()
        if intent not in {INTENT_BOT_CHALLENGE, INTENT_REQUEST_HUMAN}
        for text in texts
    ]
    marked = [t for t in others if what_is_replying.search(t)]
    assert len(marked) <= 3, marked


@pytest.mark.parametrize(
    "text, marked",
    [
        ("are you human?", True),
        ("is a human answering me", True),
        ("am I talking to a human?", True),
        ("Wait, are these replies automated?", True),
        ("human or bot?", True),
        ("is there a human there?", False),  # whether a person is there: request_human
        ("is anyone real there", False),
        ("is a person available to chat with me", False),
        ("is it possible to talk to a real person", False),
        ("are you able to put me through to a human", False),
        ("is this a bot? I want a person", False),
        ("you're just a bot, I'd like an agent", False),
        ("this is pointless, real person please", False),
        ("can I talk to a human", False),
    ],
)
def test_the_line_between_asking_what_replies_and_asking_for_a_person(
    what_is_replying, text: str, marked: bool
) -> None:
    assert bool(what_is_replying.search(text)) is marked
