"""Whether the customer wants a person, decided by the trained model (issue 21): a request
at the end of a long message hands over on that turn; help with a task or a bank transfer
does not; asking for a person calmly is not frustration. Conversation stories do not run
the NLU, so these go through the real servers."""

from __future__ import annotations

import re
from typing import Any, Dict

import pytest
import requests

from tests.e2e.widget_client import WidgetClient

pytestmark = pytest.mark.e2e

TICKET_REFERENCE = re.compile(r"CS-[A-Z0-9]{6}")


def parsed(server: Any, text: str) -> Dict[str, Any]:
    response = requests.post(
        f"{server.url}/model/parse",
        headers={"Authorization": f"Bearer {server.rasa_api_token}"},
        json={"text": text},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_request_for_a_person_at_the_end_of_a_long_message_hands_over_at_once(
    baton_server,
):
    async with WidgetClient(baton_server.url) as customer:
        reply = await customer.say(
            "I moved house three weeks ago and the broadband at the new flat has never "
            "worked, the light on the router just blinks orange and I have restarted it "
            "more times than I can count. Could I speak to someone about it please?"
        )
    assert TICKET_REFERENCE.search(reply["text"]), reply


@pytest.mark.parametrize(
    "text",
    [
        "help me buy a phone",
        "how do I make a bank transfer",
        "I need some assistance with my refund",
        "does the new phone support 5G",
    ],
)
def test_help_with_a_task_or_a_word_in_another_sense_is_not_a_request_for_a_person(
    baton_server, text
):
    assert parsed(baton_server, text)["intent"]["name"] != "request_human"


@pytest.mark.parametrize(
    "text",
    [
        "can I talk to someone else please",
        "how do I get hold of an actual person",
        "could somebody ring me back about my bill",
    ],
)
def test_ways_of_asking_for_a_person_our_own_data_used_to_miss(baton_server, text):
    parse = parsed(baton_server, text)
    assert parse["intent"]["name"] == "request_human", parse["intent"]
    assert "probability" in parse["handoff_opinion"]


def test_a_calm_request_for_a_person_is_not_frustration(baton_server):
    assert (
        parsed(baton_server, "I want to talk to a human agent")["sentiment"]["frustrated"] is False
    )
