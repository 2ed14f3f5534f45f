"""What a reloaded widget shows, and who owns a conversation."""

from __future__ import annotations

from bot.transcript import conversation_owner, visible_messages


def test_only_user_and_bot_messages_are_shown_in_order():
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "hi", "timestamp": 1, "metadata": {}},
        {"event": "slot", "name": "x", "value": 1},
        {"event": "bot", "text": "Hello!", "timestamp": 2, "data": {}},
        {
            "event": "bot",
            "text": "Pick one",
            "timestamp": 3,
            "data": {"buttons": [{"title": "Yes", "payload": "/affirm"}]},
        },
        {"event": "bot", "text": None, "timestamp": 4, "data": {}},
    ]
    assert visible_messages(events) == [
        {"sender": "user", "text": "hi", "timestamp": 1},
        {"sender": "bot", "text": "Hello!", "timestamp": 2},
        {"sender": "bot", "text": "Pick one", "timestamp": 3, "buttons": [{"title": "Yes", "payload": "/affirm"}]},
    ]


def test_the_owner_is_the_last_verified_customer():
    events = [
        {"event": "user", "text": "hi", "metadata": {}},
        {"event": "user", "text": "my bill", "metadata": {"customer_id": "C-1001"}},
        {"event": "user", "text": "thanks", "metadata": {}},
    ]
    assert conversation_owner(events) == "C-1001"
    assert conversation_owner(events[:1]) is None
