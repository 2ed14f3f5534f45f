"""Whole call flows through the real store (SQLite), asserting the deliveries of each step."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.calls.config import CallSettings
from bot.calls.errors import CallRefused
from bot.calls.providers import make_provider
from bot.calls.service import CallService, Changed, Notice, ToAgent, ToCustomer
from tests.calls.conftest import CONNECTION_A, CONNECTION_B, T0, add_agent, handed_off

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

OFFER = {"type": "offer", "sdp": "v=0 offer"}
ANSWER = {"type": "answer", "sdp": "v=0 answer"}
CANDIDATE = {
    "candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "u",
}


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def shape(outcome):
    """Each delivery as (kind, signal type or text, where)."""
    items = []
    for d in outcome:
        if isinstance(d, ToCustomer):
            items.append(("customer", d.signal["type"], d.sid or ("all", d.skip_sid)))
        elif isinstance(d, ToAgent):
            items.append(("agent", d.signal["type"], d.connection_id))
        elif isinstance(d, Notice):
            items.append(("notice", d.text, d.metadata["call"]["event"]))
        elif isinstance(d, Changed):
            items.append(("changed",))
    return items


def test_an_agents_video_call_from_offer_to_hang_up(session_factory, directory, service):
    agent = add_agent(directory, "Sam")
    conversation = handed_off(session_factory, agent)
    call, outcome = service.invite(agent, conversation, "video", CONNECTION_A, at(0))
    assert call.state == "inviting"
    assert shape(outcome) == [
        ("agent", "inviting", CONNECTION_A),
        ("customer", "invite", ("all", None)),
        ("changed",),
    ]
    invite = outcome.deliveries[1].signal
    assert invite["agent_name"] == "Sam" and invite["media"] == "video" and invite["expires_at"]

    # Two tabs: the first to accept is bound, the second learns the call is elsewhere.
    accepted = service.customer_signal(
        conversation, "tab-1", {"type": "accept", "call_id": call.id}, at(1)
    )
    assert shape(accepted) == [
        ("customer", "connecting", "tab-1"),
        ("customer", "elsewhere", ("all", "tab-1")),
        ("agent", "connecting", CONNECTION_A),
        ("changed",),
    ]
    assert accepted.deliveries[0].signal["role"] == "answerer"
    assert accepted.deliveries[2].signal["role"] == "offerer"
    assert accepted.deliveries[0].signal["rtc"] == {"iceServers": [], "iceTransportPolicy": "all"}
    assert shape(
        service.customer_signal(
            conversation, "tab-2", {"type": "accept", "call_id": call.id}, at(1)
        )
    ) == [("customer", "elsewhere", "tab-2")]

    # SDP and ICE, both ways, only to the bound ends.
    offer = service.agent_signal(
        agent,
        conversation,
        call.id,
        {"type": "sdp", "connection_id": CONNECTION_A, "description": OFFER},
        at(2),
    )
    assert (
        shape(offer) == [("customer", "sdp", "tab-1")]
        and offer.deliveries[0].signal["description"] == OFFER
    )
    with pytest.raises(CallRefused) as second_offer:
        service.agent_signal(
            agent,
            conversation,
            call.id,
            {"type": "sdp", "connection_id": CONNECTION_A, "description": OFFER},
            at(2),
        )
    assert second_offer.value.code == "invalid_state"
    answer = service.customer_signal(
        conversation, "tab-1", {"type": "sdp", "call_id": call.id, "description": ANSWER}, at(2)
    )
    assert (
        shape(answer) == [("agent", "sdp", CONNECTION_A)]
        and answer.deliveries[0].signal["description"] == ANSWER
    )
    ice_in = service.customer_signal(
        conversation, "tab-1", {"type": "ice", "call_id": call.id, "candidate": CANDIDATE}, at(2)
    )
    ice_out = service.agent_signal(
        agent,
        conversation,
        call.id,
        {"type": "ice", "connection_id": CONNECTION_A, "candidate": CANDIDATE},
        at(2),
    )
    assert shape(ice_in) == [("agent", "ice", CONNECTION_A)] and shape(ice_out) == [
        ("customer", "ice", "tab-1")
    ]

    started = service.customer_signal(
        conversation, "tab-1", {"type": "connected", "call_id": call.id}, at(3)
    )
    assert shape(started) == [
        ("customer", "active", "tab-1"),
        ("agent", "active", CONNECTION_A),
        ("notice", "Video call started", "started"),
        ("changed",),
    ]
    notice = started.deliveries[2].metadata
    assert "agent" not in notice and len(notice["message_id"]) == 32
    assert notice["call"] == {
        "id": call.id,
        "event": "started",
        "media": "video",
        "provider": "webrtc",
        "started_by": "agent",
        "agent": {"id": agent.id, "name": "Sam"},
        "duration_seconds": None,
        "end_reason": None,
    }

    ended, outcome = service.agent_hangup(agent, conversation, call.id, "hung_up", at(255))
    assert shape(outcome) == [
        ("customer", "ended", ("all", None)),
        ("agent", "ended", CONNECTION_A),
        ("notice", "Video call ended after 4 min 12 s", "ended"),
        ("changed",),
    ]
    assert outcome.deliveries[0].signal == {
        "type": "ended",
        "call_id": call.id,
        "reason": "hung_up",
        "by": "agent",
        "duration_seconds": 252,
    }
    # A late candidate is dropped silently.
    assert (
        shape(
            service.customer_signal(
                conversation,
                "tab-1",
                {"type": "ice", "call_id": call.id, "candidate": CANDIDATE},
                at(256),
            )
        )
        == []
    )


def test_a_customer_request_accepted_by_the_agent(session_factory, directory, service):
    agent = add_agent(directory, "Ria")
    conversation = handed_off(session_factory, agent)
    outcome = service.customer_signal(
        conversation, "tab-1", {"type": "request", "media": "video"}, at(0)
    )
    assert shape(outcome) == [
        ("customer", "requested", ("all", None)),
        ("agent", "requested", None),
        ("changed",),
    ]
    call_id = outcome.deliveries[0].signal["call_id"]
    call, accepted = service.agent_accept(agent, conversation, call_id, CONNECTION_B, at(1))
    assert (
        call.state == "connecting"
        and call.agent_connection == CONNECTION_B
        and call.customer_sid == "tab-1"
    )
    assert ("agent", "connecting", CONNECTION_B) in shape(accepted)
    # Only the customer may answer, only the bound console may offer.
    with pytest.raises(CallRefused):
        service.agent_signal(
            agent,
            conversation,
            call_id,
            {"type": "sdp", "connection_id": CONNECTION_A, "description": OFFER},
            at(2),
        )


def test_a_declined_screen_share_and_the_cooldown_of_requests(session_factory, directory, service):
    agent = add_agent(directory, "Dee")
    conversation = handed_off(session_factory, agent)
    call, _ = service.invite(agent, conversation, "screen", CONNECTION_A, at(0))
    declined = service.customer_signal(
        conversation, "tab", {"type": "decline", "call_id": call.id}, at(1)
    )
    assert shape(declined)[2] == ("notice", "Screen sharing declined", "ended")
    assert declined.deliveries[0].signal == {
        "type": "ended",
        "call_id": call.id,
        "reason": "declined",
        "by": "customer",
        "duration_seconds": None,
    }
    # A customer's own request, cancelled, then asked again too soon.
    requested = service.customer_signal(
        conversation, "tab", {"type": "request", "media": "video"}, at(2)
    )
    request_id = requested.deliveries[0].signal["call_id"]
    cancelled = service.customer_signal(
        conversation, "tab", {"type": "hangup", "call_id": request_id}, at(3)
    )
    assert cancelled.deliveries[0].signal["reason"] == "cancelled"
    with pytest.raises(CallRefused) as refused:
        service.customer_signal(conversation, "tab", {"type": "request", "media": "video"}, at(10))
    assert refused.value.code == "rate_limited"
    assert service.customer_signal(
        conversation, "tab", {"type": "request", "media": "video"}, at(34)
    )


def test_busy_conversation_and_busy_agent(session_factory, directory, service):
    agent = add_agent(directory, "Busy")
    first, second = handed_off(session_factory, agent), handed_off(session_factory, agent)
    service.invite(agent, first, "video", CONNECTION_A, at(0))
    for conversation in (first, second):
        with pytest.raises(CallRefused) as refused:
            service.invite(agent, conversation, "video", CONNECTION_A, at(1))
        assert refused.value.code == "busy"


def test_drops_and_conversation_changes_end_the_call(session_factory, directory, service):
    agent = add_agent(directory, "Drop")
    conversation = handed_off(session_factory, agent)
    call, _ = service.invite(agent, conversation, "video", CONNECTION_A, at(0))
    # A socket that is not bound closing changes nothing.
    assert len(service.customer_socket_closed(conversation, "other-tab", at(1))) == 0
    service.customer_signal(conversation, "tab", {"type": "accept", "call_id": call.id}, at(1))
    dropped = service.customer_socket_closed(conversation, "tab", at(2))
    assert dropped.deliveries[0].signal["reason"] == "customer_disconnected"
    assert dropped.deliveries[0].signal["by"] == "system"
    assert shape(dropped)[2] == ("notice", "Video call could not connect", "ended")

    call, _ = service.invite(agent, conversation, "video", CONNECTION_A, at(3))
    gone = service.console_closed(agent.id, CONNECTION_A, at(4))
    assert gone.deliveries[0].signal["reason"] == "agent_disconnected"

    call, _ = service.invite(agent, conversation, "video", CONNECTION_A, at(5))
    closed = service.conversation_closed(
        conversation, "conversation_closed", f"agent:{agent.id}", at(6)
    )
    assert closed.deliveries[0].signal["reason"] == "conversation_closed"
    assert shape(closed)[2] == ("notice", "Video call cancelled", "ended")
    assert len(service.conversation_closed(conversation, "conversation_closed", "desk", at(7))) == 0


def test_a_reconnecting_widget_gets_available_and_the_pending_invite(
    session_factory, directory, service
):
    agent = add_agent(directory, "Back")
    conversation = handed_off(session_factory, agent)
    assert shape(service.customer_session_started(conversation, "tab", at(0))) == [
        ("customer", "available", "tab")
    ]
    call, _ = service.invite(agent, conversation, "video", CONNECTION_A, at(0))
    assert shape(service.customer_session_started(conversation, "tab-2", at(1))) == [
        ("customer", "available", "tab-2"),
        ("customer", "invite", "tab-2"),
    ]
    queued = handed_off(session_factory, None)
    assert len(service.customer_session_started(queued, "tab", at(1))) == 0


def test_jitsi_calls_go_straight_to_active_with_a_link_each(session_factory, directory):
    settings = CallSettings.from_env(
        {"BATON_CALL_PROVIDER": "jitsi", "BATON_JITSI_DOMAIN": "meet.example.com"}
    )
    service = CallService(session_factory, settings, make_provider(settings))
    agent = add_agent(directory, "Jo")
    conversation = handed_off(session_factory, agent)
    call, _ = service.invite(agent, conversation, "video", CONNECTION_A, at(0))
    started = service.customer_signal(
        conversation, "tab", {"type": "accept", "call_id": call.id}, at(1)
    )
    assert shape(started)[:2] == [("customer", "active", ("all", None)), ("agent", "active", None)]
    customer_url = started.deliveries[0].signal["join_url"]
    agent_url = started.deliveries[1].signal["join_url"]
    assert customer_url.startswith("https://meet.example.com/baton-") and customer_url != agent_url
    assert customer_url.split("#")[0] == agent_url.split("#")[0]
    with pytest.raises(CallRefused) as refused:
        service.customer_signal(
            conversation, "tab", {"type": "connected", "call_id": call.id}, at(2)
        )
    assert refused.value.code == "invalid_state"
    reconnect = service.customer_session_started(conversation, "tab-2", at(3))
    assert shape(reconnect) == [("customer", "available", "tab-2"), ("customer", "active", "tab-2")]


def test_too_many_candidates_are_rate_limited(session_factory, directory, service):
    agent = add_agent(directory, "Ice")
    conversation = handed_off(session_factory, agent)
    call, _ = service.invite(agent, conversation, "video", CONNECTION_A, at(0))
    service.customer_signal(conversation, "tab", {"type": "accept", "call_id": call.id}, at(1))
    signal = {"type": "ice", "call_id": call.id, "candidate": CANDIDATE}
    for _ in range(200):
        service.customer_signal(conversation, "tab", signal, at(2))
    with pytest.raises(CallRefused) as refused:
        service.customer_signal(conversation, "tab", signal, at(2))
    assert (refused.value.code, refused.value.status) == ("rate_limited", 429)


def test_expired_deadlines(session_factory, directory):
    settings = CallSettings.from_env({})
    service = CallService(session_factory, settings, make_provider(settings))
    agent = add_agent(directory, "Late")
    conversation = handed_off(session_factory, agent)
    call, _ = service.invite(agent, conversation, "video", CONNECTION_A, at(0))
    assert len(service.expire(at(29))) == 0
    service.customer_signal(conversation, "tab", {"type": "accept", "call_id": call.id}, at(5))
    outcome = service.expire(at(26))
    assert outcome.deliveries[0].signal["reason"] == "connect_timeout"
