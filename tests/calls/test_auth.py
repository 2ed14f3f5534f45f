"""Signalling authorisation (docs/calls.md 4.1): who may send what, and the `calls.rejected`
lines."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from bot.calls import auth
from bot.calls.auth import AgentFacts, ConversationFacts, CustomerSocket
from bot.calls.errors import CallRefused
from bot.calls.records import CallRecord
from tests.calls.conftest import CONNECTION_A, CONNECTION_B, T0, add_agent, handed_off

CONVERSATION_A = "a0" * 16
CONVERSATION_B = "b0" * 16
CALL_A = "ca" * 16


def call(state: str = "connecting", provider: str = "webrtc") -> CallRecord:
    return CallRecord(
        id=CALL_A,
        conversation_pk=1,
        conversation_id=CONVERSATION_A,
        ticket_id=1,
        team="billing",
        agent_id=1,
        agent_name="Agent One",
        media="video",
        provider=provider,
        state=state,
        started_by="agent:1",
        customer_sid="sid-a",
        agent_connection=CONNECTION_A,
        room=None,
        created_at=T0,
        expires_at=None,
        answered_at=None,
        connected_at=None,
        ended_at=None,
        end_reason=None,
        ended_by=None,
    )


@pytest.mark.parametrize(
    "socket, record, signal_type, code, reason",
    [
        (CustomerSocket("sid-a", None), call(), "ice", "no_session", "no_session"),
        (CustomerSocket("sid-a", None), None, "request", "no_session", "no_session"),
        (
            CustomerSocket("sid-a", CONVERSATION_A, False),
            None,
            "request",
            "not_allowed",
            "not_with_agent",
        ),
        (CustomerSocket("sid-a", CONVERSATION_A), None, "accept", "no_such_call", "unknown_call"),
        # A socket of session B about conversation A's call: the same answer as an unknown id.
        (
            CustomerSocket("sid-b", CONVERSATION_B),
            call(),
            "ice",
            "no_such_call",
            "wrong_conversation",
        ),
        (
            CustomerSocket("sid-b", CONVERSATION_B),
            call("inviting"),
            "accept",
            "no_such_call",
            "wrong_conversation",
        ),
        (
            CustomerSocket("sid-b", CONVERSATION_B),
            call(),
            "hangup",
            "no_such_call",
            "wrong_conversation",
        ),
        # Another tab of the right session, not bound to the call.
        (CustomerSocket("sid-other", CONVERSATION_A), call(), "sdp", "not_allowed", "wrong_socket"),
        (CustomerSocket("sid-other", CONVERSATION_A), call(), "ice", "not_allowed", "wrong_socket"),
        (
            CustomerSocket("sid-other", CONVERSATION_A),
            call(),
            "connected",
            "not_allowed",
            "wrong_socket",
        ),
    ],
)
def test_customer_refusals(socket, record, signal_type, code, reason):
    with pytest.raises(CallRefused) as refused:
        auth.check_customer(socket, record, signal_type)
    assert (refused.value.code, refused.value.log_reason) == (code, reason)


@pytest.mark.parametrize(
    "socket, signal_type",
    [
        (CustomerSocket("sid-a", CONVERSATION_A), "ice"),
        (
            CustomerSocket("sid-other", CONVERSATION_A),
            "hangup",
        ),  # any tab of the session may hang up
        (CustomerSocket("sid-other", CONVERSATION_A), "accept"),
    ],
)
def test_customer_allowed(socket, signal_type):
    auth.check_customer(socket, call(), signal_type)


@pytest.mark.parametrize(
    "agent_id, conversation_id, connection, record, signal_type, code, reason",
    [
        (1, CONVERSATION_A, CONNECTION_A, None, "ice", "no_such_call", "unknown_call"),
        (1, CONVERSATION_B, CONNECTION_A, call(), "ice", "no_such_call", "wrong_conversation"),
        (2, CONVERSATION_A, CONNECTION_A, call(), "ice", "not_allowed", "wrong_agent"),
        (2, CONVERSATION_A, None, call(), "hangup", "not_allowed", "wrong_agent"),
        (1, CONVERSATION_A, CONNECTION_B, call(), "sdp", "call_elsewhere", "wrong_console"),
        (1, CONVERSATION_A, CONNECTION_B, call(), "connected", "call_elsewhere", "wrong_console"),
    ],
)
def test_agent_refusals(agent_id, conversation_id, connection, record, signal_type, code, reason):
    with pytest.raises(CallRefused) as refused:
        auth.check_agent(agent_id, conversation_id, connection, record, signal_type)
    assert (refused.value.code, refused.value.log_reason) == (code, reason)


def test_hangup_is_accepted_from_any_of_the_agents_consoles():
    auth.check_agent(1, CONVERSATION_A, None, call(), "hangup")


FACTS = ConversationFacts(1, CONVERSATION_A, "with_agent", 1, "billing", "CS-1", 1, None)


@pytest.mark.parametrize(
    "agent, facts, code, reason",
    [
        (
            AgentFacts(1, "One", ("billing",), False),
            None,
            "no_such_conversation",
            "no_conversation",
        ),
        (AgentFacts(1, "One", ("technical",), False), FACTS, "not_allowed", "other_team"),
        (AgentFacts(2, "Two", ("billing",), False), FACTS, "not_with_you", "not_assigned"),
        # A supervisor sees every team but has not taken the conversation over.
        (AgentFacts(9, "Boss", (), True), FACTS, "not_with_you", "not_assigned"),
        (
            AgentFacts(1, "One", ("billing",), False),
            ConversationFacts(1, CONVERSATION_A, "queued", 1, "billing", "CS-1", None, None),
            "not_with_you",
            "not_assigned",
        ),
    ],
)
def test_invite_and_accept_need_the_conversation(agent, facts, code, reason):
    with pytest.raises(CallRefused) as refused:
        auth.check_writer(agent, facts)
    assert (refused.value.code, refused.value.log_reason) == (code, reason)


# --- through the service, with the log lines ------------------------------------------------


def rejected_lines(caplog):
    return [r for r in caplog.records if r.getMessage().startswith("calls.rejected")]


def test_a_socket_without_session_is_refused_and_logged(service, caplog):
    caplog.set_level(logging.INFO, logger="bot.calls")
    with pytest.raises(CallRefused) as refused:
        service.customer_signal(None, "sid-x", {"type": "ice", "call_id": CALL_A}, T0)
    assert refused.value.code == "no_session"
    [line] = rejected_lines(caplog)
    assert line.levelno == logging.WARNING
    assert "side=customer code=no_session reason=no_session type=ice" in line.getMessage()


def test_strangers_are_refused_and_logged(service, session_factory, directory, caplog):
    caplog.set_level(logging.INFO, logger="bot.calls")
    one = add_agent(directory, "One")
    two = add_agent(directory, "Two")
    boss = add_agent(directory, "Boss", role="supervisor", teams=())
    mine = handed_off(session_factory, one)
    theirs = handed_off(session_factory, two)
    call_record, _ = service.invite(one, mine, "video", CONNECTION_A, T0)

    # A customer of another conversation names this call.
    with pytest.raises(CallRefused) as refused:
        service.customer_signal(theirs, "sid-b", {"type": "accept", "call_id": call_record.id}, T0)
    assert refused.value.code == "no_such_call"
    # An agent posting to their own conversation's path with another conversation's call.
    with pytest.raises(CallRefused) as refused_path:
        service.agent_hangup(two, theirs, call_record.id, "hung_up", T0)
    assert (refused_path.value.code, refused_path.value.status) == ("no_such_call", 404)
    # Agent two on agent one's call.
    with pytest.raises(CallRefused) as wrong_agent:
        service.agent_hangup(two, mine, call_record.id, "hung_up", T0)
    assert wrong_agent.value.code == "not_allowed"
    # Agent two inviting in agent one's conversation; a supervisor who has not taken over.
    with pytest.raises(CallRefused) as not_yours:
        service.invite(two, mine, "video", CONNECTION_B, T0)
    assert (not_yours.value.code, not_yours.value.status) == ("not_with_you", 409)
    with pytest.raises(CallRefused) as boss_refused:
        service.invite(boss, mine, "video", CONNECTION_B, T0)
    assert boss_refused.value.code == "not_with_you"

    reasons = [
        line.getMessage().split(" reason=")[1].split(" ")[0] for line in rejected_lines(caplog)
    ]
    assert reasons == [
        "wrong_conversation",
        "wrong_conversation",
        "wrong_agent",
        "not_assigned",
        "not_assigned",
    ]
    assert all(line.levelno == logging.WARNING for line in rejected_lines(caplog))
    text = "\n".join(line.getMessage() for line in rejected_lines(caplog))
    assert call_record.id not in text and mine not in text  # ids are shortened
    assert f"call={call_record.id[:8]}…" in text


def test_wrong_socket_and_wrong_console_through_the_service(
    service, session_factory, directory, caplog
):
    caplog.set_level(logging.INFO, logger="bot.calls")
    one = add_agent(directory, "One")
    mine = handed_off(session_factory, one)
    call_record, _ = service.invite(one, mine, "video", CONNECTION_A, T0)
    service.customer_signal(mine, "sid-a", {"type": "accept", "call_id": call_record.id}, T0)
    ice = {"type": "ice", "call_id": call_record.id, "candidate": {"candidate": "candidate:1"}}
    with pytest.raises(CallRefused) as wrong_socket:
        service.customer_signal(mine, "sid-other-tab", ice, T0)
    assert wrong_socket.value.code == "not_allowed"
    body = {"type": "connected", "connection_id": CONNECTION_B}
    with pytest.raises(CallRefused) as wrong_console:
        service.agent_signal(one, mine, call_record.id, body, T0)
    assert (wrong_console.value.code, wrong_console.value.status) == ("call_elsewhere", 409)
    lines = [line.getMessage() for line in rejected_lines(caplog)]
    assert "reason=wrong_socket type=ice" in lines[0] and "side=customer" in lines[0]
    assert "reason=wrong_console type=connected" in lines[1] and f"agent={one.id}" in lines[1]


def test_calls_off_refuses_everything(session_factory, directory, caplog):
    from bot.calls.config import CallSettings
    from bot.calls.service import CallService

    caplog.set_level(logging.INFO, logger="bot.calls")
    off = CallService(session_factory, CallSettings(provider=None), None)
    one = add_agent(directory, "One")
    mine = handed_off(session_factory, one)
    with pytest.raises(CallRefused) as refused:
        off.invite(one, mine, "video", CONNECTION_A, T0)
    assert (refused.value.code, refused.value.status) == ("calls_disabled", 403)
    with pytest.raises(CallRefused):
        off.customer_signal(mine, "sid", {"type": "request", "media": "video"}, T0)
    assert [line.levelno for line in rejected_lines(caplog)] == [logging.INFO, logging.INFO]
    assert off.customer_session_started(mine, "sid", T0 + dt.timedelta(seconds=1)).deliveries == []
