"""The full intent name read from Rasa parse data, for either ResponseSelector layout."""

import pytest

from bot.parse_data import full_intent_name, selected_response


def selected(key: str, response_key: str) -> dict:
    return {key: {"response": {"intent_response_key": response_key, "confidence": 0.9}}}


@pytest.mark.parametrize(
    ("parse_data", "expected"),
    [
        # config.yml: one selector per retrieval intent, keyed by that intent.
        (
            {"intent": {"name": "faq"}, "response_selector": selected("faq", "faq/roaming")},
            "faq/roaming",
        ),
        # A selector trained on every retrieval intent answers under "default".
        (
            {"intent": {"name": "faq"}, "response_selector": selected("default", "faq/esim")},
            "faq/esim",
        ),
        # A story's labelled intent names it directly.
        ({"intent": {"name": "faq", "full_retrieval_intent_name": "faq/returns"}}, "faq/returns"),
        # The default selector's pick belongs to another retrieval intent: the intent stands.
        (
            {"intent": {"name": "faq"}, "response_selector": selected("default", "chitchat/joke")},
            "faq",
        ),
        # Not a retrieval intent: a selector's output is ignored.
        (
            {"intent": {"name": "greet"}, "response_selector": selected("faq", "faq/roaming")},
            "greet",
        ),
        ({"intent": {"name": "request_human"}}, "request_human"),
        ({}, ""),
    ],
)
def test_full_intent_name(parse_data: dict, expected: str) -> None:
    assert full_intent_name(parse_data) == expected


def test_the_selected_response_is_the_answer_the_bot_would_give() -> None:
    parse = {"intent": {"name": "faq"}, "response_selector": selected("faq", "faq/roaming")}
    assert selected_response(parse) == {"intent_response_key": "faq/roaming", "confidence": 0.9}
    assert (
        selected_response(
            {"intent": {"name": "greet"}, "response_selector": selected("faq", "faq/roaming")}
        )
        is None
    )
