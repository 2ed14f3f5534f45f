"""Sentiment and signals on the real servers: parse results, the tracker, the offer, the ticket."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any, Dict, List

import pytest
import requests

from tests.e2e.test_desk_api import ALL_TEAMS, signed_in
from tests.e2e.tracker_reader import tracker_events_when
from tests.e2e.widget_client import WidgetClient

pytestmark = pytest.mark.e2e

OFFER_WORDS = "Would you like me to connect you with someone from our team?"


def parse(server: Any, text: str, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.post(
        f"{server.url}/model/parse", headers=headers, json={"text": text}, timeout=30
    )


def test_model_parse_shows_the_sentiment_behind_its_token(baton_server):
    angry = parse(
        baton_server, "This is RIDICULOUS, you useless lot!!!", baton_server.rasa_api_token
    )
    assert angry.status_code == 200, angry.text
    sentiment = angry.json()["sentiment"]
    assert sentiment["label"] == "negative" and -1 <= sentiment["compound"] < 0
    assert sentiment["frustrated"] is True

    calm = parse(baton_server, "How do I return a phone?", baton_server.rasa_api_token).json()
    assert calm["sentiment"]["frustrated"] is False

    # The API can read and change any conversation: never without the token.
    assert parse(baton_server, "hello", None).status_code == 401
    assert parse(baton_server, "hello", "wrong-token").status_code == 401


async def replies_until(customer: WidgetClient, words: str, limit: int = 4) -> List[Dict[str, Any]]:
    """The bot's replies to one message, up to and including the one containing `words`."""
    replies = []
    for _ in range(limit):
        replies.append(await customer.next_message())
        if words in replies[-1].get("text", ""):
            return replies
    raise AssertionError(f"no reply contained {words!r}: {replies}")


async def test_a_frustrated_customer_is_offered_a_person_and_the_ticket_says_why(baton_server):
    async with WidgetClient(baton_server.url) as customer:
        await customer.say("how much does roaming cost in spain")
        await customer.say(
            "honestly this is ridiculous, I've been trying to pay my bill for an hour. how can I "
            "pay it"
        )
        # An FAQ question (billing date) asked in anger: the bot answers it, then offers
        # a person. (Worded as the model reads it as the question; an angry message it
        # takes for a problem report starts the case form, where no offer is made.)
        await customer.send(
            {
                "message": "what date is my bill due?? third time asking, absolutely useless",
                "session_id": customer.session_id,
            }
        )
        # The answer first, then the offer; or, if the model did not understand the
        # message, the offer in place of "could you rephrase?" (never both).
        replies = await replies_until(customer, OFFER_WORDS)
        assert len(replies) <= 2, replies
        assert "frustrating" in replies[-1]["text"]
        rephrase_prompts = ("didn't quite get that", "Could you rephrase")
        assert not any(p in r.get("text", "") for r in replies for p in rephrase_prompts), replies

        accepted = await customer.say("yes please")
        assert "CS-" in accepted["text"], accepted

        # Messages to the agent keep their sentiment too.
        await customer.send(
            {"message": "hello?? is anyone even there", "session_id": customer.session_id}
        )
        conversation_id = customer.session_id

        def customer_turns(events: list) -> list:
            return [event for event in events if event["event"] == "user"]

        # Read before the widget disconnects, so the message is surely in; in a
        # thread, so this loop keeps running the socket that sends it.
        events = await asyncio.to_thread(
            tracker_events_when,
            baton_server.tracker_db,
            conversation_id,
            lambda events: any(
                e.get("text") == "hello?? is anyone even there" for e in customer_turns(events)
            ),
        )
    turns = customer_turns(events)
    assert turns[-1]["text"] == "hello?? is anyone even there"
    assert all("sentiment" in turn["parse_data"] for turn in turns), turns
    moods = [turn["parse_data"]["sentiment"]["frustrated"] for turn in turns]
    assert moods[:3] == [False, True, True]
    assert "pause" in [e["event"] for e in events]

    with sqlite3.connect(baton_server.database_url.removeprefix("sqlite:///")) as db:
        context, priority = db.execute(
            "SELECT t.context, t.priority FROM tickets t JOIN conversations c ON c.id = "
            "t.conversation_id"
            " WHERE c.sender_id = ? ORDER BY t.id DESC",
            (conversation_id,),
        ).fetchone()
    packet = json.loads(context)
    assert packet["reason"] == "frustration"
    assert "sentiment" in {reason["type"] for reason in packet["escalation_reasons"]}
    assert priority == "P2"  # the default P3, one step more urgent

    # The agent sees each message's mood in the console's data.
    desk, _ = signed_in(baton_server, name="Mood Reader", teams=ALL_TEAMS)
    detail = desk.call("GET", f"/conversations/{conversation_id}").json()
    labels = [
        m["sentiment"]["label"]
        for m in detail["transcript"]
        if m["sender"] == "customer" and m["sentiment"]
    ]
    assert "negative" in labels
    assert detail["transcript"][-1]["text"] == "hello?? is anyone even there"
    assert detail["transcript"][-1]["sentiment"] is not None


async def test_a_calm_customer_is_not_offered_a_person(baton_server):
    async with WidgetClient(baton_server.url) as customer:
        for question in (
            "my internet has stopped working, is there an outage near me?",
            "how do I return a faulty phone",
            "and how long will the refund take",
        ):
            reply = await customer.say(question)
            assert OFFER_WORDS not in reply["text"]
        thanks = await customer.say("great, thanks for your help")
        assert OFFER_WORDS not in thanks["text"]
        # Replies arrive in order: an offer after the thanks would come before this answer.
        goodbye = await customer.say("bye")
        assert OFFER_WORDS not in goodbye["text"]
