"""The webchat channel against an outsider, in process: a real Sanic server and socket.io clients.

What Rasa would do with a message is not needed here (the e2e tests in
tests/security/test_customer_channel.py attack the whole product); these pin
the channel's own rules with small budgets and a clock the test advances.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.identity import mint_token
from bot.limits.settings import Budget, LimitSettings
from bot.proxies import TrustedProxies
from bot.settings import SettingsError
from connectors.payloads import NEUTRAL_PREFIX
from connectors.webchat.init_payloads import init_payloads_from_env
from connectors.webchat.socket_server import client_address
from tests.connectors.webchat_server import DOMAIN, JWT_SECRET, Widget, channel_server, widgets

YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


# --- typed intents ----------------------------------------------------------------


async def test_only_the_latest_buttons_payloads_reach_rasa_as_intents():
    async with channel_server() as server, widgets(server.url, 1) as (customer,):
        await customer.connect()
        output = server.channel.get_output_channel()
        assert output is not None
        await output.send_response(
            customer.session_id, {"text": "Shall I?", "buttons": list(YES_NO)}
        )
        assert (await customer.next("bot_uttered"))["quick_replies"][0]["payload"] == "/affirm"

        await customer.say("/affirm")  # the click
        clicked = await server.received.get()
        assert clicked.text == "/affirm" and clicked.parse_data is None

        # The same payload again: the buttons were answered, so it is only text now.
        await customer.say("/affirm")
        typed = await server.received.get()
        assert typed.text == NEUTRAL_PREFIX + "/affirm"
        for attack in ("/restart", '/inform{"case_urgency": "critical"}', "/deny"):
            await customer.say(attack)
            message = await server.received.get()
            assert not message.text.strip().startswith("/"), attack


async def test_an_agents_message_takes_the_buttons_before_it_away():
    async with channel_server() as server, widgets(server.url, 1) as (customer,):
        await customer.connect()
        output = server.channel.get_output_channel()
        assert output is not None
        await output.send_response(
            customer.session_id, {"text": "Shall I?", "buttons": list(YES_NO)}
        )
        await server.channel.emit_to_conversation(
            customer.session_id, "bot_uttered", {"text": "Sam here", "baton": {"sender": "agent"}}
        )
        await customer.say("/affirm")
        assert (await server.received.get()).text.startswith(NEUTRAL_PREFIX)


async def test_buttons_survive_a_restart_of_the_server_through_the_tracker():
    session_id = uuid.uuid4().hex
    store = InMemoryTrackerStore(DOMAIN)
    await store.save(
        DialogueStateTracker.from_events(
            session_id,
            [
                UserUttered("I want a person"),
                BotUttered("Shall I connect you?", data={"buttons": YES_NO}),
            ],
        )
    )
    # A fresh channel (a restarted server) has nothing in memory: the tracker has the buttons.
    async with channel_server(tracker_store=store) as server:
        reloaded = Widget(server.url, session_id=session_id)
        try:
            await reloaded.connect()
            assert reloaded.session_id == session_id
            await reloaded.say("/deny")
            clicked = await server.received.get()
            assert clicked.text == "/deny" and clicked.parse_data is None
        finally:
            await reloaded.close()


async def test_a_third_party_widgets_init_payload_is_allowed_only_when_configured():
    async with (
        channel_server(init_payloads=["/get_started"]) as server,
        widgets(server.url, 1) as (widget,),
    ):
        await widget.connect()
        await widget.say("/get_started")
        assert (await server.received.get()).text == "/get_started"
    async with channel_server() as server, widgets(server.url, 1) as (widget,):
        await widget.connect()
        await widget.say("/get_started")
        assert (await server.received.get()).text == NEUTRAL_PREFIX + "/get_started"


async def test_desk_only_intents_are_refused_with_or_without_a_space():
    async with channel_server() as server, widgets(server.url, 1) as (customer,):
        await customer.connect()
        for attack in ("/handoff_resolved", "/ handoff_resolved", "/  handoff_returned{}"):
            await customer.say(attack)
            assert (await customer.next("baton_error"))["code"] == "malformed_payload"
        assert server.received.empty()


# --- rooms ---------------------------------------------------------------------------


async def test_a_guest_socket_leaves_the_room_when_the_owner_logs_in():
    jane = mint_token("C-1001", JWT_SECRET)
    async with channel_server() as server, widgets(server.url, 2) as (owner, intruder):
        await owner.connect()
        intruder.session_id = owner.session_id
        await intruder.connect()
        assert intruder.session_id == owner.session_id  # a guest conversation: anyone with the id

        owner.token = jane  # Baton.setCustomerToken: session_request again, same id, with the token
        assert await owner.request_session() == intruder.session_id

        told = await intruder.next("baton_error")
        assert told["code"] == "session_replaced"
        moved_to = await intruder.next("session_confirm")
        assert moved_to != owner.session_id
        assert (await intruder.next("history")) == {"messages": []}

        await server.channel.emit_to_conversation(
            owner.session_id, "bot_uttered", {"text": "Invoice INV-1: £42"}
        )
        assert (await owner.next("bot_uttered"))["text"] == "Invoice INV-1: £42"
        assert await intruder.marker(server) == []

        # Coming back with the id and no token: another conversation, never this one.
        stranger = Widget(server.url, session_id=owner.session_id)
        try:
            await stranger.connect()
            assert stranger.session_id != owner.session_id
        finally:
            await stranger.close()


async def test_a_token_sent_with_a_message_moves_the_other_sockets_out_too():
    jane = mint_token("C-1001", JWT_SECRET)
    async with channel_server() as server, widgets(server.url, 2) as (owner, intruder):
        await owner.connect()
        intruder.session_id = owner.session_id
        await intruder.connect()
        await owner.say("what's my latest invoice?", token=jane)
        message = await server.received.get()
        assert message.metadata["customer_id"] == "C-1001"
        assert (await intruder.next("baton_error"))["code"] == "session_replaced"
        assert await intruder.next("session_confirm") != owner.session_id


async def test_the_owners_other_tabs_stay():
    jane = mint_token("C-1001", JWT_SECRET)
    async with channel_server() as server, widgets(server.url, 2) as (tab, other_tab):
        tab.token = jane
        await tab.connect()
        other_tab.session_id, other_tab.token = tab.session_id, jane
        await other_tab.connect()
        assert other_tab.session_id == tab.session_id
        await server.channel.emit_to_conversation(
            tab.session_id, "bot_uttered", {"text": "hello Jane"}
        )
        assert (await other_tab.next("bot_uttered"))["text"] == "hello Jane"
        assert (await tab.next("bot_uttered"))["text"] == "hello Jane"


# --- session ids ---------------------------------------------------------------------


async def test_only_issued_or_stored_session_ids_are_accepted():
    async with channel_server() as server, widgets(server.url, 1) as (widget,):
        await widget.connect()
        issued = widget.session_id
        made_up = uuid.uuid4().hex
        assert await widget.request_session(made_up) != made_up
        assert await widget.request_session(issued + "\n") not in (issued, issued + "\n")
        assert await widget.request_session(issued) == issued


# --- flooding -------------------------------------------------------------------------


async def test_messages_over_the_sockets_budget_are_refused_politely_until_it_refills():
    limits = LimitSettings(webchat_messages_per_socket=Budget(2, 60))
    async with channel_server(limits) as server, widgets(server.url, 1) as (widget,):
        await widget.connect()
        await widget.say("one")
        await widget.say("two")
        await widget.say("three")
        refused = await widget.next("baton_error")
        assert refused["code"] == "rate_limited" and refused["retry_after"] == 30
        notice = await widget.next("bot_uttered")
        assert notice["baton"] == {"notice": "rate_limited"} and "30 s" in notice["text"]
        assert [(await server.received.get()).text for _ in range(2)] == ["one", "two"]

        server.clock.advance(30)
        await widget.say("four")
        assert (await server.received.get()).text == "four"


async def test_the_address_budget_holds_whatever_the_number_of_sockets():
    limits = LimitSettings(webchat_messages_per_address=Budget(3, 60))
    async with channel_server(limits) as server, widgets(server.url, 4) as sockets:
        for widget in sockets:
            await widget.connect()
        for widget in sockets:
            await widget.say("hello")
        assert (await sockets[-1].next("baton_error"))["code"] == "rate_limited"
        assert server.received.qsize() == 3


async def test_typing_sessions_and_call_signals_have_budgets():
    limits = LimitSettings(
        webchat_typing_per_socket=Budget(2, 60),
        webchat_sessions_per_socket=Budget(2, 60),
        webchat_call_signals_per_socket=Budget(1, 60),
    )
    async with channel_server(limits) as server, widgets(server.url, 1) as (widget,):
        await widget.connect()  # the first session
        await widget.request_session()
        await widget.sio.emit("session_request", {"session_id": widget.session_id})
        assert (await widget.next("baton_error"))["code"] == "rate_limited"

        for _ in range(3):
            await widget.sio.emit("baton_typing", {"typing": True})
        assert (await widget.next("baton_error"))["code"] == "rate_limited"

        await widget.sio.emit("baton_call", {"type": "request"})
        assert (await widget.next("baton_call"))["code"] == "calls_disabled"
        await widget.sio.emit("baton_call", {"type": "request"})
        refused = await widget.next("baton_call")
        assert refused["code"] == "rate_limited" and refused["retry_after"] == 60


async def test_a_conversations_queue_is_bounded():
    limits = LimitSettings(webchat_queued_messages=2)
    async with channel_server(limits) as server, widgets(server.url, 1) as (widget,):
        await widget.connect()
        server.turns_may_finish.clear()  # the bot is slow: the first turn holds the queue
        for text in ("one", "two", "three", "four"):
            await widget.say(text)
        refused = await widget.next("baton_error")
        assert refused["code"] == "too_many_pending" and refused["retry_after"] >= 1
        assert (await widget.next("bot_uttered"))["baton"] == {"notice": "rate_limited"}
        server.turns_may_finish.set()
        assert [(await server.received.get()).text for _ in range(3)] == ["one", "two", "three"]


async def test_a_socket_that_ignores_its_refusals_is_disconnected():
    limits = LimitSettings(webchat_typing_per_socket=Budget(1, 60))
    async with channel_server(limits) as server, widgets(server.url, 2) as (flooder, bystander):
        await flooder.connect()
        for _ in range(100):
            await flooder.sio.emit("baton_typing", {"typing": True})
        await flooder.disconnected.wait()
        await bystander.connect()
        assert bystander.session_id


async def test_a_packet_over_the_limit_closes_that_socket_and_nothing_else():
    limits = LimitSettings(webchat_max_packet_bytes=2_000)
    async with channel_server(limits) as server, widgets(server.url, 2) as (big, next_one):
        await big.connect()
        await big.say("x" * 5_000)
        await big.disconnected.wait()
        assert server.received.empty()
        await next_one.connect()
        await next_one.say("still here")
        assert (await server.received.get()).text == "still here"


# --- the client address and the settings ---------------------------------------------


def test_the_client_address_is_the_peer_unless_a_trusted_proxy_names_another():
    forwarded = {"x-forwarded-for": "203.0.113.9"}
    behind_proxy = {
        "sanic.request": SimpleNamespace(ip="10.0.0.5", headers=forwarded),
        "REMOTE_ADDR": "127.0.0.1",
    }
    assert client_address(behind_proxy, TrustedProxies.parse("10.0.0.0/8")) == "203.0.113.9"
    # Anyone can send the header: from a peer that is not a declared proxy it is ignored.
    assert client_address(behind_proxy, TrustedProxies()) == "10.0.0.5"


def test_init_payloads_must_be_payloads():
    assert init_payloads_from_env({"BATON_WEBCHAT_INIT_PAYLOADS": " /get_started , "}) == [
        "/get_started"
    ]
    assert init_payloads_from_env({}) == []
    with pytest.raises(SettingsError, match="BATON_WEBCHAT_INIT_PAYLOADS"):
        init_payloads_from_env({"BATON_WEBCHAT_INIT_PAYLOADS": "get_started"})
