"""What the console gets from a tracker: customer, bot and agent messages, said as seen."""

from __future__ import annotations

from bot.desk.views import transcript


def test_the_agents_transcript_names_agents_and_skips_triggers():
    events = [
        {
            "event": "user",
            "text": "I want a human",
            "timestamp": 1.0,
            "message_id": "m1",
            "metadata": {},
            "parse_data": {
                "intent": {"name": "request_human", "confidence": 0.97},
                "sentiment": {"compound": -0.2, "label": "neutral"},
            },
        },
        {
            "event": "bot",
            "text": "Hi, Sam here",
            "timestamp": 2.0,
            "data": {},
            "metadata": {"agent": {"id": 3, "name": "Sam"}, "message_id": "a1"},
        },
        {
            "event": "user",
            "text": "EXTERNAL: handoff_resolved",
            "timestamp": 3.0,
            "metadata": {"is_external": True},
        },
        {
            "event": "bot",
            "text": "Rate us",
            "timestamp": 4.0,
            "data": {"buttons": [{"title": "5", "payload": "/rate"}]},
        },
        {"event": "user", "text": "/rate", "timestamp": 5.0, "message_id": "m2", "metadata": {}},
    ]
    messages = transcript(events)
    assert [(m["sender"], m["text"], m["id"]) for m in messages] == [
        ("customer", "I want a human", "m1"),
        ("agent", "Hi, Sam here", "a1"),
        ("bot", "Rate us", None),
        ("customer", "5", "m2"),
    ]
    assert messages[0]["intent"] == {"name": "request_human", "confidence": 0.97}
    assert messages[0]["sentiment"] == {"compound": -0.2, "label": "neutral"}
    assert messages[1]["agent"] == {"id": 3, "name": "Sam"}
    assert messages[0]["at"].startswith("1970-01-01T00:00:01")
