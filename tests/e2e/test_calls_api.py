"""Calls (docs/calls.md) against the real product: signalling round trips, refusals, drops.

Customers are python-socketio clients speaking the widget's protocol; the agent is
`desk_client` with its live socket. SDP and candidates are synthetic strings: the
server relays them without parsing. Nothing here waits for time to pass: every
wait is for an event, with the clients' deadlines.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Dict, Tuple

import pytest
from sqlalchemy import create_engine, select

from bot.store.models import TicketHistory
from tests.e2e.desk_client import DeskClient, LiveSocket, create_agent
from tests.e2e.tracker_reader import tracker_events_when
from tests.e2e.widget_client import WidgetClient

pytestmark = pytest.mark.e2e

ALL_TEAMS = ("billing", "technical", "shop", "customer_care", "care_managers")
EVENT_TIMEOUT_SECONDS = 30
LOG_WAIT_SECONDS = 30
OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=offer\r\n"}
ANSWER = {"type": "answer", "sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=answer\r\n"}
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "e2e",
}


class CallWidget(WidgetClient):
    """The widget's socket, also collecting `baton_call` signals."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.calls: asyncio.Queue = asyncio.Queue()
        self.sio.on("baton_call", self.calls.put_nowait)

    async def call_signal(self, kind: str, **match: Any) -> Dict[str, Any]:
        while True:
            signal = await asyncio.wait_for(self.calls.get(), EVENT_TIMEOUT_SECONDS)
            if signal.get("type") == kind and all(signal.get(k) == v for k, v in match.items()):
                return signal

    async def notice(self, text_start: str) -> Dict[str, Any]:
        while True:
            message = await self.next_message()
            if (message.get("baton") or {}).get("notice") == "call" and message["text"].startswith(
                text_start
            ):
                return message

    async def emit_call(self, signal: Dict[str, Any]) -> None:
        await self.sio.emit("baton_call", signal)


class Console(LiveSocket):
    """The console's socket, keeping the connection id of its `hello`."""

    def __init__(self, base_url: str, cookie: str) -> None:
        super().__init__(base_url, cookie)
        self.connection_id: str | None = None

    async def _read(self) -> None:
        async for text in self._socket:
            event = json.loads(text)
            if event.get("type") == "hello":
                self.connection_id = event["connection_id"]
            self.events.put_nowait(event)

    async def call_signal(self, kind: str, conversation_id: str) -> Dict[str, Any]:
        while True:
            event = await self.next_of("call_signal", conversation_id=conversation_id)
            if event["signal"]["type"] == kind:
                return event


async def handed_off(server: Any) -> Tuple[CallWidget, str]:
    customer = CallWidget(server.url)
    await customer.__aenter__()
    reply = await customer.say("I want to talk to a human")
    assert "CS-" in reply["text"], reply
    return customer, customer.session_id  # type: ignore[return-value]


def signed_in(server: Any, name: str) -> Tuple[DeskClient, Dict[str, Any]]:
    record = create_agent(server.database_url, name=name, teams=ALL_TEAMS)
    desk = DeskClient(server.url)
    assert desk.login(record.email).status_code == 200
    return desk, desk.agent  # type: ignore[return-value]


def call_history(server: Any, call_id: str) -> list:
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(TicketHistory.__table__)
                .where(TicketHistory.from_value == call_id)
                .order_by(TicketHistory.id)
            ).all()
    finally:
        engine.dispose()
    return [(row.action, row.actor, row.to_value, row.reason) for row in rows]


def log_when(server: Any, *needles: str) -> str:
    """The server log once it contains every needle (or the last read at the deadline)."""
    deadline = time.monotonic() + LOG_WAIT_SECONDS
    log = server.log()
    while not all(needle in log for needle in needles) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling for a condition, not timing a behaviour
        log = server.log()
    return log


async def test_an_agents_video_call_round_trip_is_relayed_and_recorded(baton_server):
    customer, conversation_id = await handed_off(baton_server)
    desk, agent = signed_in(baton_server, "Sam Caller")
    try:
        async with Console(baton_server.url, desk.cookie_header()) as console:
            assert console.connection_id and len(console.connection_id) == 32
            assert desk.call("GET", "/me").json()["calls"] == {"provider": "webrtc"}
            assert desk.call("POST", f"/conversations/{conversation_id}/accept").status_code == 200
            assert (await customer.call_signal("available"))["provider"] == "webrtc"

            offered = desk.call(
                "POST",
                f"/conversations/{conversation_id}/calls",
                {"media": "video", "connection_id": console.connection_id},
            )
            assert offered.status_code == 201, offered.text
            call = offered.json()["call"]
            call_id = call["id"]
            assert (call["state"], call["started_by"], call["connection_id"]) == (
                "inviting",
                "agent",
                console.connection_id,
            )
            assert (await console.call_signal("inviting", conversation_id))["signal"][
                "call_id"
            ] == call_id
            invite = await customer.call_signal("invite", call_id=call_id)
            assert (invite["media"], invite["agent_name"]) == ("video", "Sam Caller")
            assert (
                desk.call("GET", f"/conversations/{conversation_id}").json()["call"]["state"]
                == "inviting"
            )

            await customer.emit_call({"type": "accept", "call_id": call_id})
            answerer = await customer.call_signal("connecting", call_id=call_id)
            assert answerer["role"] == "answerer"
            assert answerer["rtc"] == {"iceServers": [], "iceTransportPolicy": "all"}
            offerer = await console.call_signal("connecting", conversation_id)
            assert offerer["connection_id"] == console.connection_id
            assert offerer["signal"]["role"] == "offerer"

            # SDP and ICE, both ways, reach the other side unchanged.
            signal_path = f"/conversations/{conversation_id}/calls/{call_id}/signal"
            sent = desk.call(
                "POST",
                signal_path,
                {"type": "sdp", "connection_id": console.connection_id, "description": OFFER},
            )
            assert sent.status_code == 204, sent.text
            assert (await customer.call_signal("sdp", call_id=call_id))["description"] == OFFER
            await customer.emit_call({"type": "sdp", "call_id": call_id, "description": ANSWER})
            assert (await console.call_signal("sdp", conversation_id))["signal"][
                "description"
            ] == ANSWER
            assert (
                desk.call(
                    "POST",
                    signal_path,
                    {"type": "ice", "connection_id": console.connection_id, "candidate": CANDIDATE},
                ).status_code
                == 204
            )
            assert (await customer.call_signal("ice", call_id=call_id))["candidate"] == CANDIDATE
            await customer.emit_call({"type": "ice", "call_id": call_id, "candidate": CANDIDATE})
            assert (await console.call_signal("ice", conversation_id))["signal"][
                "candidate"
            ] == CANDIDATE

            await customer.emit_call({"type": "connected", "call_id": call_id})
            assert (await customer.call_signal("active", call_id=call_id))["connected_at"]
            await console.call_signal("active", conversation_id)
            assert (await customer.notice("Video call started"))["baton"]["call"][
                "event"
            ] == "started"
            started_line = await console.next_of("message", conversation_id=conversation_id)
            assert started_line["message"]["sender"] == "system"
            assert started_line["message"]["call"]["event"] == "started"

            hung_up = desk.call(
                "POST",
                f"/conversations/{conversation_id}/calls/{call_id}/hangup",
                {"reason": "hung_up"},
            )
            assert hung_up.status_code == 200, hung_up.text
            assert hung_up.json()["call"]["state"] == "ended"
            ended = await customer.call_signal("ended", call_id=call_id)
            assert (ended["reason"], ended["by"]) == ("hung_up", "agent")
            assert isinstance(ended["duration_seconds"], int) and ended["duration_seconds"] >= 0
            assert (await console.call_signal("ended", conversation_id))["signal"][
                "reason"
            ] == "hung_up"
            await customer.notice("Video call ended after")
            # Hanging up again answers with the call as it is.
            again = desk.call("POST", f"/conversations/{conversation_id}/calls/{call_id}/hangup")
            assert again.status_code == 200 and again.json()["call"]["end_reason"] == "hung_up"

        actor = f"agent:{agent['id']}"
        history = call_history(baton_server, call_id)
        assert [row[:2] for row in history] == [
            ("call_offered", actor),
            ("call_started", actor),
            ("call_ended", actor),
        ]
        assert history[0][2:] == ("video", "webrtc") and history[2][3] == "hung_up"
        assert history[2][2].isdigit()
        detail = desk.call("GET", f"/conversations/{conversation_id}").json()
        assert [h["action"] for h in detail["history"] if h["action"].startswith("call_")] == [
            "call_offered",
            "call_started",
            "call_ended",
        ]
        system = [m for m in detail["transcript"] if m["sender"] == "system"]
        assert [m["call"]["event"] for m in system] == ["started", "ended"]

        events = tracker_events_when(
            baton_server.tracker_db,
            conversation_id,
            lambda evs: sum(1 for e in evs if (e.get("metadata") or {}).get("call")) >= 2,
        )
        notices = [
            e["metadata"]["call"]
            for e in events
            if e.get("event") == "bot" and (e.get("metadata") or {}).get("call")
        ]
        assert [(n["event"], n["started_by"]) for n in notices] == [
            ("started", "agent"),
            ("ended", "agent"),
        ]
        assert all(
            "agent" not in {k for k in (e.get("metadata") or {}) if k != "call"}
            for e in events
            if (e.get("metadata") or {}).get("call")
        )
        # After a reload the widget shows the two system lines.
        replayed = await customer.request_session()
        assert [m["call"]["event"] for m in replayed if m["sender"] == "system"] == [
            "started",
            "ended",
        ]
        # Nothing of the SDP or the candidates reached the log.
        log = baton_server.log()
        assert "o=- 1 2 IN IP4" not in log and "typ host" not in log
    finally:
        await customer.__aexit__()


async def test_strangers_are_refused_with_their_codes_and_logged(baton_server):
    customer, conversation_id = await handed_off(baton_server)
    stranger, stranger_conversation = await handed_off(baton_server)
    no_session = CallWidget(baton_server.url)
    desk, _ = signed_in(baton_server, "Owner Agent")
    other_desk, other = signed_in(baton_server, "Other Agent")
    try:
        async with Console(baton_server.url, desk.cookie_header()) as console:
            assert desk.call("POST", f"/conversations/{conversation_id}/accept").status_code == 200
            call_id = desk.call(
                "POST",
                f"/conversations/{conversation_id}/calls",
                {"media": "screen", "connection_id": console.connection_id},
            ).json()["call"]["id"]
            await customer.call_signal("invite", call_id=call_id)

            # A customer socket of another session names this call.
            await stranger.emit_call({"type": "accept", "call_id": call_id})
            refused = await stranger.call_signal("error")
            assert (refused["code"], refused["in_reply_to"]) == ("no_such_call", "accept")
            # A socket that never confirmed a session.
            await no_session.sio.connect(
                baton_server.url, socketio_path="/socket.io", transports=["websocket"]
            )
            await no_session.emit_call({"type": "hangup", "call_id": call_id})
            assert (await no_session.call_signal("error"))["code"] == "no_session"
            await no_session.emit_call("not an object")
            assert (await no_session.call_signal("error"))["code"] == "malformed_payload"

            # An agent who is not assigned: on the call, and inviting.
            not_theirs = other_desk.call(
                "POST", f"/conversations/{conversation_id}/calls/{call_id}/hangup"
            )
            assert (not_theirs.status_code, not_theirs.json()["code"]) == (403, "not_allowed")
            invite = other_desk.call(
                "POST",
                f"/conversations/{conversation_id}/calls",
                {"media": "video", "connection_id": "c" * 32},
            )
            assert (invite.status_code, invite.json()["code"]) == (409, "not_with_you")
            # The call named under another conversation's path: the same answer as an unknown id.
            elsewhere = desk.call(
                "POST", f"/conversations/{stranger_conversation}/calls/{call_id}/hangup"
            )
            assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "no_such_call")
            # Without the CSRF header.
            assert (
                desk.call(
                    "POST", f"/conversations/{conversation_id}/calls/{call_id}/hangup", csrf=False
                ).status_code
                == 403
            )
            bad = desk.call(
                "POST",
                f"/conversations/{conversation_id}/calls/{call_id}/signal",
                {
                    "type": "sdp",
                    "connection_id": console.connection_id,
                    "description": {"type": "offer", "sdp": "v" * 70_000},
                },
            )
            assert (bad.status_code, bad.json()["code"]) == (413, "too_large")

            # The call is untouched by all of that.
            assert (
                desk.call("GET", f"/conversations/{conversation_id}").json()["call"]["state"]
                == "inviting"
            )
            log = log_when(
                baton_server,
                "reason=wrong_conversation type=accept",
                "reason=no_session type=hangup",
                f"reason=wrong_agent type=hangup call={call_id[:8]}",
                f"agent={other['id']}",
                "reason=not_assigned type=invite",
                "reason=csrf",
            )
            for needle in (
                "code=no_such_call reason=wrong_conversation type=accept",
                "side=customer code=no_session reason=no_session type=hangup",
                "side=agent code=not_allowed reason=wrong_agent type=hangup",
                "side=agent code=not_with_you reason=not_assigned type=invite",
            ):
                assert needle in log, needle
            assert call_id not in log  # ids are shortened in the log
    finally:
        for client in (customer, stranger, no_session):
            await client.__aexit__()


async def test_a_dropped_customer_socket_ends_the_call_on_both_sides(baton_server):
    customer, conversation_id = await handed_off(baton_server)
    desk, _ = signed_in(baton_server, "Drop Watcher")
    async with Console(baton_server.url, desk.cookie_header()) as console:
        assert desk.call("POST", f"/conversations/{conversation_id}/accept").status_code == 200
        call_id = desk.call(
            "POST",
            f"/conversations/{conversation_id}/calls",
            {"media": "video", "connection_id": console.connection_id},
        ).json()["call"]["id"]
        await customer.call_signal("invite", call_id=call_id)
        await customer.emit_call({"type": "accept", "call_id": call_id})
        await customer.call_signal("connecting", call_id=call_id)
        await customer.__aexit__()

        ended = await console.call_signal("ended", conversation_id)
        assert (ended["signal"]["reason"], ended["signal"]["by"]) == (
            "customer_disconnected",
            "system",
        )
        assert call_history(baton_server, call_id)[-1] == (
            "call_ended",
            "desk",
            None,
            "customer_disconnected",
        )
        assert (
            desk.call("GET", f"/conversations/{conversation_id}").json()["call"]["state"] == "ended"
        )


async def test_a_closed_console_ends_its_call_for_the_customer(baton_server):
    customer, conversation_id = await handed_off(baton_server)
    desk, _ = signed_in(baton_server, "Console Closer")
    try:
        async with Console(baton_server.url, desk.cookie_header()) as console:
            assert desk.call("POST", f"/conversations/{conversation_id}/accept").status_code == 200
            call_id = desk.call(
                "POST",
                f"/conversations/{conversation_id}/calls",
                {"media": "video", "connection_id": console.connection_id},
            ).json()["call"]["id"]
            await customer.call_signal("invite", call_id=call_id)
            await customer.emit_call({"type": "accept", "call_id": call_id})
            await customer.call_signal("connecting", call_id=call_id)
        ended = await customer.call_signal("ended", call_id=call_id)
        assert (ended["reason"], ended["by"]) == ("agent_disconnected", "system")
        assert call_history(baton_server, call_id)[-1] == (
            "call_ended",
            "desk",
            None,
            "agent_disconnected",
        )
    finally:
        await customer.__aexit__()
