"""Parsing of call signals: shapes, types, limits, unknown types and fields (docs/calls.md 3.1,
3.2)."""

from __future__ import annotations

import pytest

from bot.calls import protocol as p
from bot.calls.errors import CallRefused

CALL = "0123456789abcdef0123456789abcdef"
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "abcd",
}


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"type": "request", "media": "video"}, {"type": "request", "media": "video"}),
        ({"type": "accept", "call_id": CALL}, {"type": "accept", "call_id": CALL}),
        (
            {"type": "decline", "call_id": CALL},
            {"type": "decline", "call_id": CALL, "reason": "declined"},
        ),
        (
            {"type": "decline", "call_id": CALL, "reason": "no_device"},
            {"type": "decline", "call_id": CALL, "reason": "no_device"},
        ),
        (
            {"type": "hangup", "call_id": CALL},
            {"type": "hangup", "call_id": CALL, "reason": "hung_up"},
        ),
        ({"type": "connected", "call_id": CALL}, {"type": "connected", "call_id": CALL}),
        (
            {"type": "sdp", "call_id": CALL, "description": {"type": "answer", "sdp": "v=0"}},
            {"type": "sdp", "call_id": CALL, "description": {"type": "answer", "sdp": "v=0"}},
        ),
        (
            {"type": "ice", "call_id": CALL, "candidate": CANDIDATE},
            {"type": "ice", "call_id": CALL, "candidate": CANDIDATE},
        ),
        # Unknown fields are dropped, never relayed.
        (
            {"type": "accept", "call_id": CALL, "extra": "<script>", "sdp": "x"},
            {"type": "accept", "call_id": CALL},
        ),
        (
            {"type": "ice", "call_id": CALL, "candidate": {**CANDIDATE, "address": "10.0.0.2"}},
            {"type": "ice", "call_id": CALL, "candidate": CANDIDATE},
        ),
    ],
)
def test_customer_signals_are_parsed_to_their_known_fields(data, expected):
    assert p.parse_customer_signal(data) == expected


@pytest.mark.parametrize(
    "data, code",
    [
        (None, "malformed_payload"),
        ("accept", "malformed_payload"),
        ([], "malformed_payload"),
        ({}, "malformed_payload"),
        ({"type": "offer"}, "malformed_payload"),  # unknown type
        ({"type": "invite", "call_id": CALL}, "malformed_payload"),  # a server → widget type
        ({"type": "request"}, "malformed_payload"),
        (
            {"type": "request", "media": "screen"},
            "malformed_payload",
        ),  # customers ask for video only
        ({"type": "accept"}, "no_such_call"),
        ({"type": "accept", "call_id": CALL.upper()}, "no_such_call"),
        ({"type": "accept", "call_id": 42}, "no_such_call"),
        ({"type": "accept", "call_id": "../../etc"}, "no_such_call"),
        ({"type": "decline", "call_id": CALL, "reason": "bored"}, "malformed_payload"),
        ({"type": "hangup", "call_id": CALL, "reason": "agent_disconnected"}, "malformed_payload"),
        (
            {"type": "sdp", "call_id": CALL, "description": {"type": "offer", "sdp": "v=0"}},
            "malformed_payload",
        ),
        ({"type": "sdp", "call_id": CALL, "description": "v=0"}, "malformed_payload"),
        (
            {"type": "sdp", "call_id": CALL, "description": {"type": "answer", "sdp": ""}},
            "malformed_payload",
        ),
        (
            {
                "type": "sdp",
                "call_id": CALL,
                "description": {"type": "answer", "sdp": "v" * 65_537},
            },
            "too_large",
        ),
        ({"type": "ice", "call_id": CALL, "candidate": "candidate:1"}, "malformed_payload"),
        (
            {"type": "ice", "call_id": CALL, "candidate": {**CANDIDATE, "candidate": None}},
            "malformed_payload",
        ),
        (
            {"type": "ice", "call_id": CALL, "candidate": {**CANDIDATE, "candidate": "c" * 1025}},
            "too_large",
        ),
        (
            {"type": "ice", "call_id": CALL, "candidate": {**CANDIDATE, "sdpMid": "m" * 65}},
            "too_large",
        ),
        (
            {"type": "ice", "call_id": CALL, "candidate": {**CANDIDATE, "sdpMLineIndex": 64}},
            "malformed_payload",
        ),
        (
            {"type": "ice", "call_id": CALL, "candidate": {**CANDIDATE, "sdpMLineIndex": True}},
            "malformed_payload",
        ),
        (
            {
                "type": "ice",
                "call_id": CALL,
                "candidate": {**CANDIDATE, "usernameFragment": "u" * 257},
            },
            "too_large",
        ),
    ],
)
def test_bad_customer_signals_are_refused_with_their_code(data, code):
    with pytest.raises(CallRefused) as refused:
        p.parse_customer_signal(data)
    assert refused.value.code == code


def test_limits_are_inclusive():
    sdp = {"type": "sdp", "call_id": CALL, "description": {"type": "answer", "sdp": "v" * 65_536}}
    assert len(p.parse_customer_signal(sdp)["description"]["sdp"]) == 65_536
    candidate = {**CANDIDATE, "candidate": "c" * 1024, "sdpMLineIndex": 63, "sdpMid": None}
    assert p.parse_customer_signal({"type": "ice", "call_id": CALL, "candidate": candidate})[
        "candidate"
    ] == {**candidate, "usernameFragment": "abcd"}


@pytest.mark.parametrize(
    "body, code",
    [
        (
            {"type": "sdp", "description": {"type": "offer", "sdp": "v=0"}},
            "malformed_payload",
        ),  # no connection id
        (
            {
                "type": "sdp",
                "connection_id": "x" * 32,
                "description": {"type": "offer", "sdp": "v=0"},
            },
            "malformed_payload",
        ),
        (
            {
                "type": "sdp",
                "connection_id": "a" * 32,
                "description": {"type": "answer", "sdp": "v=0"},
            },
            "malformed_payload",
        ),
        ({"type": "accept", "connection_id": "a" * 32}, "malformed_payload"),
        (
            {
                "type": "ice",
                "connection_id": "a" * 32,
                "candidate": {**CANDIDATE, "candidate": "c" * 2000},
            },
            "too_large",
        ),
        ("sdp", "malformed_payload"),
    ],
)
def test_bad_agent_signals_are_refused(body, code):
    with pytest.raises(CallRefused) as refused:
        p.parse_agent_signal(body)
    assert refused.value.code == code


def test_agent_signals_are_parsed():
    body = {
        "type": "sdp",
        "connection_id": "a" * 32,
        "description": {"type": "offer", "sdp": "v=0"},
        "x": 1,
    }
    assert p.parse_agent_signal(body) == {
        "type": "sdp",
        "connection_id": "a" * 32,
        "description": {"type": "offer", "sdp": "v=0"},
    }
    assert p.parse_agent_signal({"type": "connected", "connection_id": "a" * 32}) == {
        "type": "connected",
        "connection_id": "a" * 32,
    }


def test_every_error_code_has_its_http_status():
    assert {
        code: CallRefused(code).status
        for code in (
            "no_session",
            "malformed_payload",
            "too_large",
            "calls_disabled",
            "not_allowed",
            "no_such_conversation",
            "not_with_you",
            "no_such_call",
            "busy",
            "invalid_state",
            "call_elsewhere",
            "rate_limited",
        )
    } == {
        "no_session": 401,
        "malformed_payload": 422,
        "too_large": 413,
        "calls_disabled": 403,
        "not_allowed": 403,
        "no_such_conversation": 404,
        "not_with_you": 409,
        "no_such_call": 404,
        "busy": 409,
        "invalid_state": 409,
        "call_elsewhere": 409,
        "rate_limited": 429,
    }
