"""An outsider against the customer channel (the widget's socket) of the running product.

Each test does what anyone with a socket.io client can do to `bot run`: type
Rasa's `/intent` shortcut, keep a socket in a conversation that a customer
then logs in to, make up session ids, flood, send huge packets; and checks
that the customer's token never rests in the tracker store. docs/security.md,
"The customer channel", lists the rules these pin.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from typing import Any, Dict, List

import pytest

from bot.identity import mint_token
from tests.e2e.tracker_reader import tracker_events, tracker_events_when
from tests.e2e.widget_client import REPLY_TIMEOUT_SECONDS, WidgetClient

pytestmark = pytest.mark.e2e

Events = List[Dict[str, Any]]
CATEGORY_BILLING = '/inform{"case_category": "billing"}'
# Messages the bot may send before the question with buttons (a greeting line, an ack).
MESSAGES_BEFORE_BUTTONS = 5


def user_event(events: Events, text: str) -> Dict[str, Any] | None:
    return next(
        (event for event in events if event["event"] == "user" and event.get("text") == text), None
    )


def slots_set(events: Events, name: str) -> List[Any]:
    return [
        event.get("value")
        for event in events
        if event["event"] == "slot" and event.get("name") == name
    ]


async def question_with_buttons(client: WidgetClient) -> Dict[str, Any]:
    for _ in range(MESSAGES_BEFORE_BUTTONS):
        message = await client.next_message()
        if message.get("quick_replies") or message.get("buttons"):
            return message
    raise AssertionError("the bot never asked with buttons")


async def start_case_form(client: WidgetClient) -> Dict[str, Any]:
    await client.send({"message": "my internet keeps dropping", "session_id": client.session_id})
    question = await question_with_buttons(client)
    assert CATEGORY_BILLING in [button["payload"] for button in question["quick_replies"]]
    return question


# --- typed intents ------------------------------------------------------------------


async def test_a_typed_restart_does_not_undo_a_handoff(baton_server):
    async with WidgetClient(baton_server.url) as guest:
        handoff = await guest.say("can I talk to a real person")
        assert re.search(r"CS-[A-Z0-9]{6}", handoff["text"])
        await guest.send({"message": "/restart", "session_id": guest.session_id})
        # The socket stays open until the message is in the tracker (a closed socket's
        # events may be dropped); the read polls in a thread, the loop keeps the socket alive.
        events = await asyncio.to_thread(
            tracker_events_when,
            baton_server.tracker_db,
            guest.session_id,
            lambda events: user_event(events, "/restart") is not None,
        )
    typed = user_event(events, "/restart")
    assert typed is not None, "the message was kept for the agent"
    assert typed["parse_data"]["intent"].get("name") != "restart"
    after = events[events.index(typed) :]
    assert not [event for event in after if event["event"] in ("restart", "resume")]
    assert slots_set(events, "handoff_reference")  # still handed off, reference kept


async def test_a_typed_payload_sets_no_slot_and_keeps_its_text(baton_server):
    attack = '/inform{"case_urgency": "critical"}'
    async with WidgetClient(baton_server.url) as guest:
        await start_case_form(
            guest
        )  # the form is active: a from_entity mapping would fill the slot
        await guest.send({"message": attack, "session_id": guest.session_id})
        await guest.next_message()

    events = tracker_events_when(
        baton_server.tracker_db,
        guest.session_id,
        lambda events: user_event(events, attack) is not None,
    )
    typed = user_event(events, attack)
    assert typed is not None and typed["text"] == attack  # the transcript shows what was typed
    assert not [
        entity for entity in typed["parse_data"]["entities"] if entity["entity"] == "case_urgency"
    ]
    assert "critical" not in slots_set(events, "case_urgency")


async def test_a_desk_only_intent_with_a_space_is_refused(baton_server):
    async with WidgetClient(baton_server.url) as guest:
        await guest.send({"message": "/ handoff_resolved", "session_id": guest.session_id})
        assert (await guest.next_error())["code"] == "malformed_payload"
        reply = await guest.say("hello")
        assert "rate" not in reply["text"].lower()
    events = tracker_events_when(
        baton_server.tracker_db,
        guest.session_id,
        lambda events: user_event(events, "hello") is not None,
    )
    assert "handoff_resolved" not in [
        event.get("parse_data", {}).get("intent", {}).get("name") for event in events
    ]


async def test_the_buttons_still_work_after_a_reload(baton_server):
    async with WidgetClient(baton_server.url) as first:
        await start_case_form(first)
    async with WidgetClient(baton_server.url, session_id=first.session_id) as reloaded:
        assert reloaded.session_id == first.session_id
        assert CATEGORY_BILLING in [
            button["payload"] for button in reloaded.replayed[-1]["buttons"]
        ]
        await reloaded.send({"message": CATEGORY_BILLING, "session_id": reloaded.session_id})
        await reloaded.next_message()

    events = tracker_events_when(
        baton_server.tracker_db,
        first.session_id,
        lambda events: "billing" in slots_set(events, "case_category"),
    )
    assert "billing" in slots_set(events, "case_category")
    clicked = user_event(events, CATEGORY_BILLING)
    assert clicked is not None and clicked["parse_data"]["intent"]["name"] == "inform"


# --- rooms ---------------------------------------------------------------------------


async def test_a_socket_left_in_a_guest_chat_hears_nothing_after_the_customer_logs_in(baton_server):
    jane = mint_token("C-1001", baton_server.jwt_secret, name="Jane Doe")
    async with WidgetClient(baton_server.url) as customer:
        await customer.say("hello")
        # Anyone who learned the guest chat's id (a shared computer, a leaked link).
        async with WidgetClient(baton_server.url, session_id=customer.session_id) as intruder:
            assert intruder.session_id == customer.session_id

            customer.token = jane  # Baton.setCustomerToken: session_request again, with the token
            await customer.request_session()
            assert customer.session_id == intruder.session_id

            assert (await intruder.next_error())["code"] == "session_replaced"
            intruder.session_id = await asyncio.wait_for(
                intruder._confirmed.get(), REPLY_TIMEOUT_SECONDS
            )
            assert intruder.session_id != customer.session_id

            invoice = await customer.say("what's my latest invoice?")
            assert "Your latest invoice" in invoice["text"]
            # The intruder's socket gets its events in order: had the invoice been
            # sent to it, it would come before the answer to this.
            first = await intruder.say("hello")
            assert "invoice" not in first["text"].lower() and "£" not in first["text"]


# --- session ids ---------------------------------------------------------------------


async def test_session_ids_the_server_never_issued_are_not_adopted(baton_server):
    made_up = uuid.uuid4().hex
    async with WidgetClient(baton_server.url, session_id=made_up) as guest:
        assert guest.session_id != made_up
        await guest.say("hello")
        issued = guest.session_id
    async with WidgetClient(baton_server.url, session_id=issued + "\n") as again:
        assert again.session_id not in (issued + "\n", issued)
        assert re.fullmatch(r"[0-9a-f]{32}", again.session_id)
    assert not tracker_events(baton_server.tracker_db, made_up)
    # The logs name a conversation by its first characters only: the id is a guest's bearer secret.
    assert not [
        line for line in baton_server.log().splitlines() if "webchat." in line and issued in line
    ]


# --- flooding -------------------------------------------------------------------------


async def test_typing_and_session_floods_are_refused_with_a_retry_after(baton_server):
    async with WidgetClient(baton_server.url) as flooder:
        for _ in range(80):  # the default budget: 60 a minute per socket
            await flooder.sio.emit("baton_typing", {"typing": True})
        refused = await flooder.next_error()
        assert refused["code"] == "rate_limited" and refused["retry_after"] >= 1
    async with WidgetClient(baton_server.url) as flooder:
        for _ in range(12):  # 10 a minute per socket
            await flooder.sio.emit("session_request", {"session_id": flooder.session_id})
        refused = await flooder.next_error()
        assert refused["code"] == "rate_limited" and refused["retry_after"] >= 1


async def test_a_message_flood_is_refused_politely(baton_server):
    async with WidgetClient(baton_server.url) as flooder:
        for index in range(25):  # 20 a minute per socket, at most 5 waiting per conversation
            await flooder.send({"message": f"hello {index}", "session_id": flooder.session_id})
        refused = await flooder.next_error()
        assert (
            refused["code"] in ("rate_limited", "too_many_pending") and refused["retry_after"] >= 1
        )


async def test_an_oversized_packet_closes_that_socket_only(baton_server):
    closed = asyncio.Event()
    async with WidgetClient(baton_server.url) as big:
        big.sio.on("disconnect", closed.set)
        # Over the 64 KiB engine.io limit (BATON_LIMIT_WEBCHAT_MAX_PACKET_BYTES).
        await big.sio.emit("user_uttered", {"message": "x" * 100_000, "session_id": big.session_id})
        await asyncio.wait_for(closed.wait(), REPLY_TIMEOUT_SECONDS)
        assert big.messages.empty()
    async with WidgetClient(baton_server.url) as next_one:
        assert (await next_one.say("hello"))["text"]


# --- tokens at rest --------------------------------------------------------------------


async def test_the_customers_token_is_not_kept_in_the_tracker_store(baton_server):
    jane = mint_token("C-1001", baton_server.jwt_secret, name="Jane Doe")
    async with WidgetClient(baton_server.url, token=jane) as customer:
        invoice = await customer.say("what's my latest invoice?")
        assert "Your latest invoice" in invoice["text"]  # the action server did get the token

    events = tracker_events_when(
        baton_server.tracker_db,
        customer.session_id,
        lambda events: user_event(events, "what's my latest invoice?") is not None,
    )
    stored = json.dumps(events)
    assert jane not in stored and "customer_token" not in stored
    assert user_event(events, "what's my latest invoice?")["metadata"]["customer_id"] == "C-1001"
