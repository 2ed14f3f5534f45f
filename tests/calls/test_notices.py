"""A call's transcript lines: their text, and how the widget, the console and the packet show
them."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot import handoff_context, transcript
from bot.calls.notices import format_duration, notice_metadata, notice_text
from bot.calls.records import CallRecord
from bot.desk import views

T0 = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.timezone.utc)
CALL = CallRecord(
    id="ab" * 16,
    conversation_pk=1,
    conversation_id="cd" * 16,
    ticket_id=1,
    team="billing",
    agent_id=3,
    agent_name="Sam Carter",
    media="video",
    provider="webrtc",
    state="active",
    started_by="agent:3",
    customer_sid="sid",
    agent_connection="a" * 32,
    room=None,
    created_at=T0,
    expires_at=None,
    answered_at=T0,
    connected_at=T0,
    ended_at=None,
    end_reason=None,
    ended_by=None,
)


def ended(reason: str, seconds: int | None = None, media: str = "video") -> CallRecord:
    return dataclasses.replace(
        CALL,
        state="ended",
        media=media,
        end_reason=reason,
        ended_by="customer",
        connected_at=T0 if seconds is not None else None,
        ended_at=T0 + dt.timedelta(seconds=seconds or 0),
    )


@pytest.mark.parametrize(
    "record, text",
    [
        (CALL, "Video call started"),
        (dataclasses.replace(CALL, media="screen"), "Screen sharing started"),
        (ended("hung_up", 45), "Video call ended after 45 s"),
        (ended("hung_up", 252), "Video call ended after 4 min 12 s"),
        (ended("media_failed", 3720, "screen"), "Screen sharing ended after 1 h 2 min"),
        (ended("declined", media="screen"), "Screen sharing declined"),
        (
            ended("permission_denied"),
            "Video call could not start: access was blocked in the browser",
        ),
        (ended("no_device"), "Video call could not start: no camera or microphone found"),
        (ended("unsupported"), "Video call could not start: this browser cannot do it"),
        (ended("unanswered"), "Video call not answered"),
        (ended("cancelled"), "Video call cancelled"),
        (ended("conversation_closed"), "Video call cancelled"),
        (ended("agent_changed"), "Video call cancelled"),
        (ended("connect_timeout"), "Video call could not connect"),
        (ended("customer_disconnected"), "Video call could not connect"),
    ],
)
def test_notice_texts(record, text):
    assert notice_text(record) == text


def test_durations():
    assert [format_duration(s) for s in (0, 59, 60, 252, 3600, 3720)] == [
        "0 s",
        "59 s",
        "1 min",
        "4 min 12 s",
        "1 h",
        "1 h 2 min",
    ]


def bot_event(record: CallRecord, event: str) -> dict:
    return {
        "event": "bot",
        "text": notice_text(record),
        "timestamp": 1764842400.0,
        "data": {},
        "metadata": notice_metadata(record, event),
    }


def test_call_lines_are_system_messages_everywhere():
    events = [
        {"event": "user", "text": "hello", "timestamp": 1764842399.0, "parse_data": {}},
        bot_event(CALL, "started"),
        bot_event(ended("hung_up", 252), "ended"),
        {
            "event": "bot",
            "text": "agent line",
            "timestamp": 1764842401.0,
            "metadata": {"agent": {"id": 3, "name": "Sam Carter"}, "message_id": "m" * 32},
        },
    ]
    widget = transcript.visible_messages(events)
    assert [m["sender"] for m in widget] == ["user", "system", "system", "bot"]
    assert widget[2] == {
        "sender": "system",
        "text": "Video call ended after 4 min 12 s",
        "timestamp": 1764842400.0,
        "call": {
            "id": CALL.id,
            "event": "ended",
            "media": "video",
            "provider": "webrtc",
            "started_by": "agent",
            "agent": {"id": 3, "name": "Sam Carter"},
            "duration_seconds": 252,
            "end_reason": "hung_up",
        },
    }
    console = views.transcript(events)
    assert [m["sender"] for m in console] == ["customer", "system", "system", "agent"]
    assert console[1]["call"]["event"] == "started" and console[1]["agent"] is None
    assert len(console[1]["id"]) == 32
    packet = handoff_context.transcript(events)
    assert [t["sender"] for t in packet] == ["customer", "system", "system", "bot"]
