"""The desk's HTTP API and live socket against the real product (`bot run`), end to end.

Customers are socket.io clients speaking the widget's protocol; agents are created
in the store and sign in through the API. Each test hands off its own conversation.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Tuple

import pytest
import requests
from sqlalchemy import create_engine, select, update

from bot.desk.views import transcript
from bot.store.models import Agent, Team
from tests.e2e.desk_client import DeskClient, LiveSocket, create_agent
from tests.e2e.tracker_reader import tracker_events_when
from tests.e2e.widget_client import WidgetClient

pytestmark = pytest.mark.e2e

ALL_TEAMS = ("billing", "technical", "shop", "customer_care", "care_managers")


async def hand_off(server: Any) -> Tuple[WidgetClient, str]:
    """A guest who asks for a person; returns the connected client and the conversation id."""
    customer = WidgetClient(server.url)
    await customer.__aenter__()
    reply = await customer.say("I want to talk to a human")
    assert "CS-" in reply["text"], reply
    return customer, customer.session_id  # type: ignore[return-value]


def signed_in(server: Any, **agent: Any) -> Tuple[DeskClient, Dict[str, Any]]:
    record = create_agent(server.database_url, **agent)
    desk = DeskClient(server.url)
    assert desk.login(record.email).status_code == 200
    return desk, desk.agent  # type: ignore[return-value]


async def next_status(customer: WidgetClient, state: str, **match: Any) -> Dict[str, Any]:
    """The next `baton_status` in `state` whose fields equal `match` (others are skipped)."""
    while True:
        status = await asyncio.wait_for(customer.statuses.get(), 30)
        if status.get("state") == state and all(status.get(k) == v for k, v in match.items()):
            return status


async def test_signing_out_gives_open_conversations_back_to_the_queue(baton_server):
    customer, conversation_id = await hand_off(baton_server)
    try:
        desk, _ = signed_in(baton_server, name="Leaving Early", teams=ALL_TEAMS)
        assert desk.call("POST", f"/conversations/{conversation_id}/accept").status_code == 200
        await next_status(customer, "agent_joined")
        assert desk.call("POST", "/logout").status_code == 204
        assert (await next_status(customer, "queued"))["position"] >= 1
        supervisor, _ = signed_in(baton_server, name="Sees All", role="supervisor")
        detail = supervisor.call("GET", f"/conversations/{conversation_id}").json()
        assert detail["state"] == "queued"
        assert ("requeued", "agent signed out") in [
            (h["action"], h["reason"]) for h in detail["history"]
        ]
    finally:
        await customer.__aexit__()


async def test_signing_in_is_required_and_wrong_passwords_are_refused(baton_server):
    anonymous = requests.get(f"{baton_server.url}/desk/api/queue", timeout=30)
    assert anonymous.status_code == 401
    assert "error" in anonymous.json()

    record = create_agent(baton_server.database_url, name="Wrong Pass", teams=("billing",))
    desk = DeskClient(baton_server.url)
    refused = desk.login(record.email, "not the password at all")
    assert refused.status_code == 401
    assert refused.json() == {"error": "Wrong e-mail address or password."}

    assert desk.login(record.email).status_code == 200
    me = desk.call("GET", "/me").json()
    assert me["agent"]["email"] == record.email and me["csrf_token"] == desk.csrf_token
    # Created offline; signing in is coming to work.
    assert me["agent"]["status"] == "online"
    # The session cookie is HttpOnly and SameSite=Strict.
    set_cookie = requests.post(
        f"{baton_server.url}/desk/api/login",
        json={"email": record.email, "password": "correct horse battery staple"},
        timeout=30,
    ).headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie

    assert desk.call("POST", "/logout").status_code == 204
    assert desk.call("GET", "/me").status_code == 401
    assert desk.login(record.email).json()["agent"]["status"] == "online"


async def test_repeated_wrong_passwords_lock_the_address_for_a_while(baton_server):
    record = create_agent(baton_server.database_url, name="Guessed At", teams=("billing",))
    desk = DeskClient(baton_server.url)
    for _ in range(5):
        assert desk.login(record.email, "a wrong guess, again").status_code == 401
    refused = desk.login(record.email)  # even the right password, for now
    assert refused.status_code == 429
    assert "wait" in refused.json()["error"]


async def test_the_teams_of_escalation_yml_are_listed(baton_server):
    desk, _ = signed_in(baton_server, name="Team Lister", teams=("billing",))
    teams = desk.call("GET", "/teams").json()["teams"]
    assert {"key": "billing", "name": "Billing & Payments"} in teams
    assert [team["key"] for team in teams] == list(ALL_TEAMS)


async def test_writes_without_the_csrf_token_are_refused(baton_server):
    desk, _ = signed_in(baton_server, name="Csrf Check", teams=ALL_TEAMS)
    answer = desk.call("PUT", "/me/status", {"status": "online"}, csrf=False)
    assert answer.status_code == 403
    assert "X-CSRF-Token" in answer.json()["error"]
    assert desk.call("PUT", "/me/status", {"status": "away"}).json()["agent"]["status"] == "away"


async def test_an_agent_accepts_chats_both_ways_and_resolves(baton_server):
    customer, conversation_id = await hand_off(baton_server)
    desk, agent = signed_in(baton_server, name="Riley Agent", teams=ALL_TEAMS)
    try:
        queue = desk.call("GET", "/queue").json()["conversations"]
        mine = [item for item in queue if item["conversation_id"] == conversation_id]
        assert mine and mine[0]["state"] == "queued"
        assert mine[0]["ticket"]["reference"].startswith("CS-")
        assert any(
            reason["type"] == "customer_initiated" for reason in mine[0]["ticket"]["reasons"]
        )

        async with LiveSocket(baton_server.url, desk.cookie_header()) as live:
            accepted = desk.call("POST", f"/conversations/{conversation_id}/accept")
            assert accepted.status_code == 200, accepted.text
            assert accepted.json()["state"] == "with_agent"
            assert accepted.json()["ticket"]["assigned_agent"]["name"] == "Riley Agent"
            joined = await next_status(customer, "agent_joined")
            assert joined["agent_name"] == "Riley Agent"

            # Typing, both ways.
            typing = desk.call("POST", f"/conversations/{conversation_id}/typing", {"typing": True})
            assert typing.status_code == 204
            assert await asyncio.wait_for(customer.typing.get(), 30) == {
                "typing": True,
                "agent_name": "Riley Agent",
            }
            assert (
                desk.call(
                    "POST", f"/conversations/{conversation_id}/typing", {"typing": "yes"}
                ).status_code
                == 422
            )
            await customer.sio.emit("baton_typing", {"typing": True})
            customer_typing = await live.next_of("typing", conversation_id=conversation_id)
            assert (customer_typing["sender"], customer_typing["typing"]) == ("customer", True)

            sent = desk.call(
                "POST",
                f"/conversations/{conversation_id}/messages",
                {"text": "Hi, I'm Riley. <b>How</b> can I help?"},
            )
            assert sent.status_code == 201
            reply = await customer.next_message()
            assert reply["text"] == "Hi, I'm Riley. <b>How</b> can I help?"
            assert reply["baton"]["agent"]["name"] == "Riley Agent"

            await customer.send({"message": "My bill is wrong", "session_id": conversation_id})
            relayed = (await live.messages(conversation_id, 1))[0]
            assert relayed["sender"] == "customer" and relayed["text"] == "My bill is wrong"

            detail = desk.call("GET", f"/conversations/{conversation_id}").json()
            texts = [(message["sender"], message["text"]) for message in detail["transcript"]]
            assert texts[-2:] == [
                ("agent", "Hi, I'm Riley. <b>How</b> can I help?"),
                ("customer", "My bill is wrong"),
            ]
            # The relayed message and the transcript's copy share an id: shown once.
            assert detail["transcript"][-1]["id"] == relayed["id"]

            # A reloaded widget replays the conversation, the agent's words labelled.
            reloaded = WidgetClient(baton_server.url, session_id=conversation_id)
            await reloaded.__aenter__()
            await reloaded.__aexit__()
            assert reloaded.session_id == conversation_id
            assert {
                "sender": "bot",
                "text": "Hi, I'm Riley. <b>How</b> can I help?",
                "agent": {"name": "Riley Agent"},
            }.items() <= next(
                message for message in reloaded.replayed if message.get("agent")
            ).items()

            resolved = desk.call(
                "POST",
                f"/conversations/{conversation_id}/resolve",
                {"reason": "explained the bill"},
            )
            assert resolved.status_code == 200
            assert resolved.json()["ticket"]["status"] == "resolved"
            assert (await next_status(customer, "resolved"))["agent_name"] == "Riley Agent"
            # The bot is back and asks for a rating.
            rating_question = await customer.next_message()
            assert rating_question.get("quick_replies") or rating_question.get("buttons"), (
                rating_question
            )

        again = desk.call("POST", f"/conversations/{conversation_id}/resolve")
        assert again.status_code == 409

        # The bot's turn after the resume is saved after its question went out.
        events = tracker_events_when(
            baton_server.tracker_db,
            conversation_id,
            lambda events: "resume" in [e["event"] for e in events],
        )
        kinds = [event["event"] for event in events]
        assert "pause" in kinds and "resume" in kinds
        spoken = [(m["sender"], m["text"]) for m in transcript(events)]
        assert ("agent", "Hi, I'm Riley. <b>How</b> can I help?") in spoken
        assert spoken.index(("agent", "Hi, I'm Riley. <b>How</b> can I help?")) < spoken.index(
            ("customer", "My bill is wrong")
        )
        agent_events = [
            e for e in events if e["event"] == "bot" and (e.get("metadata") or {}).get("agent")
        ]
        assert agent_events[0]["metadata"]["agent"] == {"id": agent["id"], "name": "Riley Agent"}
    finally:
        await customer.__aexit__()


async def test_a_taken_conversation_conflicts_and_another_team_is_forbidden(baton_server):
    customer, conversation_id = await hand_off(baton_server)
    try:
        first, _ = signed_in(baton_server, name="First Taker", teams=ALL_TEAMS)
        second, _ = signed_in(baton_server, name="Second Taker", teams=ALL_TEAMS)
        team = first.call("GET", f"/conversations/{conversation_id}").json()["ticket"]["team"]
        other_teams = tuple(key for key in ALL_TEAMS if key != team)
        outsider, _ = signed_in(baton_server, name="Outsider", teams=other_teams[:1])

        assert first.call("POST", f"/conversations/{conversation_id}/accept").status_code == 200
        taken = second.call("POST", f"/conversations/{conversation_id}/accept")
        assert taken.status_code == 409
        assert "First Taker" in taken.json()["error"]
        not_yours = second.call(
            "POST", f"/conversations/{conversation_id}/messages", {"text": "hello"}
        )
        assert not_yours.status_code == 409

        forbidden = outsider.call("GET", f"/conversations/{conversation_id}")
        assert forbidden.status_code == 403
        assert outsider.call("POST", f"/conversations/{conversation_id}/accept").status_code == 403
        assert conversation_id not in [
            item["conversation_id"]
            for item in outsider.call("GET", "/queue").json()["conversations"]
        ]

        missing = first.call("GET", "/conversations/no-such-conversation")
        assert missing.status_code == 404

        # A supervisor sees every team and may take the conversation over.
        supervisor, _ = signed_in(baton_server, name="Sue Pervisor", role="supervisor")
        over = supervisor.call("POST", f"/conversations/{conversation_id}/accept")
        assert over.status_code == 200
        assert over.json()["ticket"]["assigned_agent"]["name"] == "Sue Pervisor"
    finally:
        await customer.__aexit__()


async def test_transfer_escalate_note_and_return_to_bot(baton_server):
    customer, conversation_id = await hand_off(baton_server)
    try:
        desk, _ = signed_in(baton_server, name="Morgan Mover", teams=ALL_TEAMS, capacity=10)
        assert desk.call("POST", f"/conversations/{conversation_id}/accept").status_code == 200

        note = desk.call(
            "POST",
            f"/conversations/{conversation_id}/notes",
            {"text": "Customer sounds <i>upset</i>"},
        )
        assert (
            note.status_code == 201
            and note.json()["note"]["text"] == "Customer sounds <i>upset</i>"
        )
        assert (
            desk.call("POST", f"/conversations/{conversation_id}/notes", {"text": "  "}).status_code
            == 422
        )

        unknown = desk.call(
            "POST", f"/conversations/{conversation_id}/transfer", {"team": "nowhere"}
        )
        assert unknown.status_code == 422 and "billing" in unknown.json()["error"]
        moved = desk.call(
            "POST",
            f"/conversations/{conversation_id}/transfer",
            {"team": "billing", "reason": "billing question"},
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["state"] == "queued"
        assert moved.json()["ticket"]["team"] == "billing" and moved.json()["ticket"]["level"] == 0
        queued_again = await next_status(customer, "queued", team_name="Billing & Payments")
        assert queued_again["position"] >= 1

        escalated = desk.call(
            "POST", f"/conversations/{conversation_id}/escalate", {"reason": "needs a specialist"}
        )
        assert escalated.status_code == 200
        assert escalated.json()["ticket"]["level"] == 1
        assert escalated.json()["ticket"]["tier"] == "specialist"

        history = escalated.json()["history"]
        actions = [(item["action"], item["type"]) for item in history]
        assert ("transferred", "functional") in actions and ("escalated", "hierarchical") in actions
        assert escalated.json()["notes"][0]["text"] == "Customer sounds <i>upset</i>"

        assert desk.call("POST", f"/conversations/{conversation_id}/accept").status_code == 200
        back = desk.call("POST", f"/conversations/{conversation_id}/return-to-bot")
        assert back.status_code == 200 and back.json()["ticket"]["status"] == "closed"
        await next_status(customer, "back_to_bot")
        assert "assistant" in (await customer.next_message())["text"]
        # And the bot answers again.
        answer = await customer.say("How do I return an item?")
        assert "return" in answer["text"].lower()
    finally:
        await customer.__aexit__()


def everyone_offline(server: Any) -> None:
    """Agents of earlier tests stay `online`; the routing tests want a known room."""
    engine = create_engine(server.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(update(Agent.__table__).values(status="offline"))
    finally:
        engine.dispose()


async def test_a_new_handoff_is_offered_to_an_online_agent_of_the_team(baton_server):
    everyone_offline(baton_server)
    desk, agent = signed_in(baton_server, name="Olive Online", teams=ALL_TEAMS)
    assert desk.call("PUT", "/me/status", {"status": "online"}).status_code == 200
    async with LiveSocket(baton_server.url, desk.cookie_header()) as live:
        customer, conversation_id = await hand_off(baton_server)
        try:
            offer = await live.next_of("offer", conversation_id=conversation_id)
            assert offer["expires_at"]
            queue = desk.call("GET", "/queue").json()["conversations"]
            mine = next(item for item in queue if item["conversation_id"] == conversation_id)
            assert mine["offered_to_me"] is True
            assert desk.call("POST", f"/conversations/{conversation_id}/accept").status_code == 200
            # Done before the console closes: a closed console's chats go back to the
            # queue a second later, which would move the next test's queue.
            assert (
                desk.call("POST", f"/conversations/{conversation_id}/return-to-bot").status_code
                == 200
            )
        finally:
            await customer.__aexit__()


async def test_a_waiting_customer_hears_their_place_move_up(baton_server):
    ahead, ahead_id = await hand_off(baton_server)
    behind, behind_id = await hand_off(baton_server)
    try:
        await next_status(ahead, "queued")
        place = (await next_status(behind, "queued"))["position"]
        desk, _ = signed_in(baton_server, name="Queue Mover", teams=ALL_TEAMS)
        assert desk.call("POST", f"/conversations/{ahead_id}/accept").status_code == 200
        moved = await next_status(behind, "queued", position=place - 1)
        assert moved["team_name"]
    finally:
        await ahead.__aexit__()
        await behind.__aexit__()


async def test_an_agent_who_disconnects_gives_their_conversations_back_to_the_queue(baton_server):
    customer, conversation_id = await hand_off(baton_server)
    try:
        desk, agent = signed_in(baton_server, name="Dee Connect", teams=ALL_TEAMS)
        assert desk.call("PUT", "/me/status", {"status": "online"}).status_code == 200
        async with LiveSocket(baton_server.url, desk.cookie_header()):
            assert desk.call("POST", f"/conversations/{conversation_id}/accept").status_code == 200
            desk.call(
                "POST", f"/conversations/{conversation_id}/messages", {"text": "One moment please"}
            )
            await next_status(customer, "agent_joined")  # what came before is read
        # The console closed; after the grace period the customer is queued again.
        requeued = await next_status(customer, "queued")
        assert requeued["position"] >= 1
        detail = desk.call("GET", f"/conversations/{conversation_id}").json()
        assert detail["state"] == "queued" and detail["ticket"]["assigned_agent"] is None
        assert ("requeued", "agent disconnected") in [
            (h["action"], h["reason"]) for h in detail["history"]
        ]
        # Its history is intact, and the agent is away until they come back.
        assert "One moment please" in [m["text"] for m in detail["transcript"]]
        assert desk.call("GET", "/me").json()["agent"]["status"] == "away"
    finally:
        await customer.__aexit__()


async def test_agents_are_listed_for_supervisors_and_added_by_admins(baton_server):
    agent_desk, _ = signed_in(baton_server, name="Plain Agent", teams=("billing",))
    assert agent_desk.call("GET", "/agents").status_code == 403
    assert (
        agent_desk.call(
            "POST",
            "/agents",
            {"email": "x@example.com", "name": "X", "password": "long enough password"},
        ).status_code
        == 403
    )

    admin, _ = signed_in(baton_server, name="Ada Admin", role="admin")
    body = {
        "email": "new.person@example.com",
        "name": "New Person",
        "password": "a long enough password",
        "teams": ["billing"],
    }
    created = admin.call("POST", "/agents", body)
    assert created.status_code == 201, created.text
    assert created.json()["agent"]["teams"] == ["billing"]
    assert admin.call("POST", "/agents", body).status_code == 409
    weak = admin.call("POST", "/agents", {**body, "email": "weak@example.com", "password": "short"})
    assert weak.status_code == 422
    assert "new.person@example.com" in [
        a["email"] for a in admin.call("GET", "/agents").json()["agents"]
    ]


async def test_bad_bodies_get_clear_errors(baton_server):
    desk, _ = signed_in(baton_server, name="Body Check", teams=ALL_TEAMS)
    raw = desk.http.put(
        f"{baton_server.url}/desk/api/me/status",
        data="{not json",
        headers={"X-CSRF-Token": desk.csrf_token, "Content-Type": "application/json"},
        timeout=30,
    )
    assert raw.status_code == 400 and "JSON" in raw.json()["error"]
    assert desk.call("PUT", "/me/status", {"status": "asleep"}).status_code == 422


async def test_the_openapi_description_lists_every_endpoint(baton_server):
    spec = requests.get(f"{baton_server.url}/desk/api/openapi.json", timeout=30).json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path in (
        "/login",
        "/queue",
        "/conversations/{conversation_id}/accept",
        "/conversations/{conversation_id}/return-to-bot",
    ):
        assert path in paths
    assert "409" in paths["/conversations/{conversation_id}/accept"]["post"]["responses"]


async def test_the_console_page_is_served_with_a_strict_policy(baton_server):
    page = requests.get(f"{baton_server.url}/desk/", timeout=30)
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert (
        requests.get(f"{baton_server.url}/desk/assets/../../etc/passwd", timeout=30).status_code
        == 404
    )


def test_bot_run_syncs_the_teams_of_escalation_yml(baton_server):
    engine = create_engine(baton_server.database_url)
    try:
        with engine.connect() as connection:
            keys = set(connection.execute(select(Team.__table__.c.key)).scalars())
    finally:
        engine.dispose()
    assert set(ALL_TEAMS) <= keys
