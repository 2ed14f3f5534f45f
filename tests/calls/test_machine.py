"""Table 2.2 of docs/calls.md, row by row, and the deadlines of 2.3."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.calls import machine as m
from bot.calls import protocol as p
from bot.calls.config import CallSettings
from bot.calls.errors import CallRefused

A, C, S = m.AGENT, m.CUSTOMER, m.SYSTEM
OFFERED, STARTED, ENDED_ROW = (m.CALL_OFFERED,), (m.CALL_STARTED,), (m.CALL_ENDED,)

# (state, action, role, starter, provider, reason) -> (to, end_reason, history, changed, late)
ALLOWED = [
    (None, m.INVITE, A, None, "webrtc", None, ("inviting", None, OFFERED, True, False)),
    (None, p.REQUEST, C, None, "webrtc", None, ("requested", None, OFFERED, True, False)),
    ("inviting", p.ACCEPT, C, A, "webrtc", None, ("connecting", None, (), True, False)),
    ("inviting", p.ACCEPT, C, A, "jitsi", None, ("active", None, STARTED, True, False)),
    ("requested", p.ACCEPT, A, C, "webrtc", None, ("connecting", None, (), True, False)),
    ("requested", p.ACCEPT, A, C, "jitsi", None, ("active", None, STARTED, True, False)),
    (
        "inviting",
        p.DECLINE,
        C,
        A,
        "webrtc",
        "declined",
        ("ended", "declined", ENDED_ROW, True, False),
    ),
    (
        "inviting",
        p.DECLINE,
        C,
        A,
        "webrtc",
        "permission_denied",
        ("ended", "permission_denied", ENDED_ROW, True, False),
    ),
    (
        "inviting",
        p.DECLINE,
        C,
        A,
        "webrtc",
        "no_device",
        ("ended", "no_device", ENDED_ROW, True, False),
    ),
    (
        "inviting",
        p.DECLINE,
        C,
        A,
        "webrtc",
        "unsupported",
        ("ended", "unsupported", ENDED_ROW, True, False),
    ),
    (
        "requested",
        p.DECLINE,
        A,
        C,
        "webrtc",
        "declined",
        ("ended", "declined", ENDED_ROW, True, False),
    ),
    (
        "inviting",
        p.HANGUP,
        A,
        A,
        "webrtc",
        "hung_up",
        ("ended", "cancelled", ENDED_ROW, True, False),
    ),
    (
        "requested",
        p.HANGUP,
        C,
        C,
        "webrtc",
        "hung_up",
        ("ended", "cancelled", ENDED_ROW, True, False),
    ),
    (
        "inviting",
        p.HANGUP,
        C,
        A,
        "webrtc",
        "hung_up",
        ("ended", "declined", ENDED_ROW, True, False),
    ),
    (
        "requested",
        p.HANGUP,
        A,
        C,
        "webrtc",
        "hung_up",
        ("ended", "declined", ENDED_ROW, True, False),
    ),
    ("connecting", m.SDP_OFFER, A, A, "webrtc", None, ("connecting", None, (), False, False)),
    ("connecting", m.SDP_ANSWER, C, A, "webrtc", None, ("connecting", None, (), False, False)),
    ("connecting", p.ICE, C, A, "webrtc", None, ("connecting", None, (), False, False)),
    ("connecting", p.ICE, A, C, "webrtc", None, ("connecting", None, (), False, False)),
    ("active", p.ICE, A, A, "webrtc", None, ("active", None, (), False, False)),
    ("connecting", p.CONNECTED, C, A, "webrtc", None, ("active", None, STARTED, True, False)),
    ("connecting", p.CONNECTED, A, A, "webrtc", None, ("active", None, STARTED, True, False)),
    ("active", p.CONNECTED, A, A, "webrtc", None, ("active", None, (), False, False)),
    (
        "connecting",
        p.HANGUP,
        C,
        A,
        "webrtc",
        "media_failed",
        ("ended", "media_failed", ENDED_ROW, True, False),
    ),
    ("active", p.HANGUP, A, C, "webrtc", "hung_up", ("ended", "hung_up", ENDED_ROW, True, False)),
    ("active", p.HANGUP, A, A, "jitsi", "hung_up", ("ended", "hung_up", ENDED_ROW, True, False)),
    (
        "active",
        p.HANGUP,
        A,
        A,
        "webrtc",
        "agent_disconnected",
        ("ended", "agent_disconnected", ENDED_ROW, True, False),
    ),
    ("ended", m.SDP_OFFER, A, A, "webrtc", None, ("ended", None, (), False, True)),
    ("ended", p.ICE, C, A, "webrtc", None, ("ended", None, (), False, True)),
    ("ended", p.CONNECTED, C, A, "webrtc", None, ("ended", None, (), False, True)),
    ("ended", p.HANGUP, C, A, "webrtc", "hung_up", ("ended", None, (), False, False)),
    ("requested", m.EXPIRE, S, C, "webrtc", None, ("ended", "unanswered", ENDED_ROW, True, False)),
    ("inviting", m.EXPIRE, S, A, "webrtc", None, ("ended", "unanswered", ENDED_ROW, True, False)),
    (
        "connecting",
        m.EXPIRE,
        S,
        A,
        "webrtc",
        None,
        ("ended", "connect_timeout", ENDED_ROW, True, False),
    ),
    ("active", m.EXPIRE, S, A, "webrtc", None, ("ended", "max_duration", ENDED_ROW, True, False)),
    (
        "active",
        m.END,
        S,
        A,
        "webrtc",
        "customer_disconnected",
        ("ended", "customer_disconnected", ENDED_ROW, True, False),
    ),
    (
        "inviting",
        m.END,
        S,
        A,
        "jitsi",
        "conversation_closed",
        ("ended", "conversation_closed", ENDED_ROW, True, False),
    ),
    ("ended", m.END, S, A, "webrtc", "agent_changed", ("ended", None, (), False, False)),
]

REFUSED = [
    (None, p.ACCEPT, C, None, "webrtc"),
    (None, m.INVITE, C, None, "webrtc"),
    (None, p.REQUEST, A, None, "webrtc"),
    ("inviting", p.ACCEPT, A, A, "webrtc"),  # the starter accepting their own offer
    ("requested", p.ACCEPT, C, C, "webrtc"),
    ("inviting", p.DECLINE, A, A, "webrtc"),
    ("inviting", m.SDP_OFFER, A, A, "webrtc"),  # sdp before consent
    ("inviting", p.ICE, C, A, "webrtc"),
    ("requested", p.CONNECTED, C, C, "webrtc"),
    ("connecting", m.SDP_OFFER, C, A, "webrtc"),  # the customer never offers
    ("connecting", m.SDP_ANSWER, A, A, "webrtc"),
    ("active", m.SDP_OFFER, A, A, "webrtc"),  # no renegotiation
    ("connecting", p.ACCEPT, C, A, "webrtc"),
    ("active", p.DECLINE, C, A, "webrtc"),
    ("ended", p.ACCEPT, C, A, "webrtc"),
    ("ended", p.DECLINE, A, C, "webrtc"),
    ("active", p.ICE, C, A, "jitsi"),
    ("active", p.CONNECTED, A, A, "jitsi"),
    ("active", m.SDP_OFFER, A, A, "jitsi"),
]


@pytest.mark.parametrize("state, action, role, starter, provider, reason, expected", ALLOWED)
def test_allowed_steps(state, action, role, starter, provider, reason, expected):
    step = m.step(state, action, role, starter, provider=provider, reason=reason)
    assert (step.to, step.end_reason, step.history, step.changed, step.late) == expected


@pytest.mark.parametrize("state, action, role, starter, provider", REFUSED)
def test_everything_else_is_invalid_state(state, action, role, starter, provider):
    with pytest.raises(CallRefused) as refused:
        m.step(state, action, role, starter, provider=provider)
    assert refused.value.code == "invalid_state" and refused.value.status == 409


NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.timezone.utc)
SETTINGS = CallSettings(ring_seconds=30, connect_seconds=20, max_minutes=120)


@pytest.mark.parametrize(
    "state, expected",
    [
        ("requested", NOW + dt.timedelta(seconds=30)),
        ("inviting", NOW + dt.timedelta(seconds=30)),
        ("connecting", NOW + dt.timedelta(seconds=20)),
        ("active", NOW + dt.timedelta(minutes=120)),
        ("ended", None),
    ],
)
def test_deadlines(state, expected):
    assert m.deadline(state, SETTINGS, NOW) == expected
