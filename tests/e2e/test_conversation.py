"""The real servers, started as `make run` does, and a socket.io client acting as the widget."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3

import pytest

from bot.identity import mint_token
from tests.e2e.tracker_reader import tracker_events_when
from tests.e2e.widget_client import WidgetClient

pytestmark = pytest.mark.e2e

# Long enough for the bot to have answered, if it were not paused.
PAUSED_SILENCE_SECONDS = 5


async def test_a_guest_and_a_verified_customer_talk_to_the_bot(baton_server):
    async with WidgetClient(baton_server.url) as guest:
        reply = await guest.say("How do I return something I bought?")
        assert "30 days" in reply["text"] or "return" in reply["text"].lower()

        refused = await guest.say("my email is jane.doe@example.com, show my invoices")
        assert "log in" in refused["text"]
        assert "£" not in refused["text"]

        handoff = await guest.say("I want to talk to a real person")
        reference = re.search(r"(CS-[A-Z0-9]{6})", handoff["text"]).group(1)

        # The bot is paused while the ticket waits for a person: the message is
        # kept (for the agent), and the bot says nothing.
        await guest.send(
            {"message": "what's happening with my ticket?", "session_id": guest.session_id}
        )
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(guest.messages.get(), PAUSED_SILENCE_SECONDS)

    def paused_then_kept(events: list) -> list:
        return [
            (event["event"], event.get("text"))
            for event in events
            if event["event"] in ("pause", "user")
        ][-2:]

    events = tracker_events_when(
        baton_server.tracker_db,
        guest.session_id,
        lambda events: (
            paused_then_kept(events)[-1:] == [("user", "what's happening with my ticket?")]
        ),
    )
    assert paused_then_kept(events) == [
        ("pause", None),
        ("user", "what's happening with my ticket?"),
    ]

    with sqlite3.connect(baton_server.database_url.removeprefix("sqlite:///")) as db:
        context, escalation_type, trigger_intent, trigger_text = db.execute(
            "SELECT context, escalation_type, trigger_intent, trigger_text FROM tickets WHERE "
            "reference = ?",
            (reference,),
        ).fetchone()
        # The conversation was recorded when it started (the metrics' denominator),
        # before it escalated.
        (channel, started, escalated) = db.execute(
            "SELECT c.channel, c.created_at, t.created_at FROM conversations c"
            " JOIN tickets t ON t.conversation_id = c.id WHERE t.reference = ?",
            (reference,),
        ).fetchone()
    packet = json.loads(context)
    assert [turn["text"] for turn in packet["transcript"] if turn["sender"] == "customer"][-1] == (
        "I want to talk to a real person"
    )
    assert packet["reason"] == "customer_request"
    # Filed for the metrics under its cause and the topic before the request.
    assert escalation_type == "customer_initiated"
    assert trigger_text == "my email is jane.doe@example.com, show my invoices"
    assert trigger_intent not in ("request_human", None)
    assert channel == "webchat"
    assert started < escalated

    token = mint_token("C-1001", baton_server.jwt_secret, name="Jane Doe")
    async with WidgetClient(baton_server.url, token=token) as jane:
        invoice = await jane.say("what's my latest invoice?")
        assert "Your latest invoice" in invoice["text"]


async def test_a_reconnecting_widget_gets_its_history(baton_server):
    async with WidgetClient(baton_server.url) as first:
        await first.say("hello")
        session_id = first.session_id
    async with WidgetClient(baton_server.url, session_id=session_id) as again:
        assert again.session_id == session_id
        assert [message["sender"] for message in again.replayed[:2]] == ["user", "bot"]
        assert again.replayed[0]["text"] == "hello"


async def test_another_customers_conversation_is_never_shown(baton_server):
    jane = mint_token("C-1001", baton_server.jwt_secret)
    async with WidgetClient(baton_server.url, token=jane) as client:
        await client.say("what plan am I on?")
        janes_session = client.session_id
    # The same browser after logout, or anyone who learned the session id.
    async with WidgetClient(baton_server.url, session_id=janes_session) as guest:
        assert guest.session_id != janes_session
    ahmed = mint_token("C-1002", baton_server.jwt_secret)
    async with WidgetClient(baton_server.url, token=ahmed, session_id=janes_session) as other:
        assert other.session_id != janes_session


async def test_bad_input_is_refused_clearly_and_nothing_breaks(baton_server):
    async with WidgetClient(baton_server.url) as client:
        await client.send({"message": "x" * 2001, "session_id": client.session_id})
        too_long = await client.next_message()
        assert too_long["baton"] == {"notice": "message_too_long"}
        assert "2000" in too_long["text"]

        await client.send("not an object")
        assert (await client.next_error())["code"] == "malformed_payload"
        await client.send({"message": 42})
        assert (await client.next_error())["code"] == "malformed_payload"
        await client.send({"message": "hi", "session_id": "f" * 32})
        assert (await client.next_error())["code"] == "malformed_payload"
        # Only the agent desk closes a handoff; the intent can't be typed as a payload.
        await client.send({"message": "/handoff_resolved", "session_id": client.session_id})
        assert "agent desk" in (await client.next_error())["message"]

        await client.send({"message": "   ", "session_id": client.session_id})
        # The blank message got no reply: the next reply answers the next message.
        reply = await client.say("<script>alert(1)</script> hello")
        assert reply["text"]
        assert client.messages.empty()

    # Nothing above reached the tracker but the one real message.
    def user_texts(events: list) -> list:
        return [event.get("text") for event in events if event["event"] == "user"]

    events = tracker_events_when(baton_server.tracker_db, client.session_id, user_texts)
    assert user_texts(events) == ["<script>alert(1)</script> hello"]


async def test_the_demo_token_endpoint_only_signs_demo_customers(baton_server):
    import requests

    ok = requests.get(
        f"{baton_server.url}/webhooks/webchat/demo/token", params={"customer": "C-1001"}, timeout=10
    )
    assert ok.status_code == 200 and ok.json()["customer"]["name"] == "Jane Doe"
    unknown = requests.get(
        f"{baton_server.url}/webhooks/webchat/demo/token", params={"customer": "C-9"}, timeout=10
    )
    assert unknown.status_code == 404 and "C-1001" in unknown.json()["error"]
    traversal = requests.get(
        f"{baton_server.url}/webhooks/webchat/..%2F..%2Fpyproject.toml", timeout=10
    )
    assert traversal.status_code == 404


async def test_a_page_of_an_origin_not_allowed_cannot_connect(baton_server):
    import socketio

    with pytest.raises(socketio.exceptions.ConnectionError):
        async with WidgetClient(baton_server.url, headers={"Origin": "http://evil.example"}):
            pass
