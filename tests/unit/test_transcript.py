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
        {
            "sender": "bot",
            "text": "Pick one",
            "timestamp": 3,
            "buttons": [{"title": "Yes", "payload": "/affirm"}],
        },
    ]


def test_the_owner_is_the_last_verified_customer():
    events = [
        {"event": "user", "text": "hi", "metadata": {}},
        {"event": "user", "text": "my bill", "metadata": {"customer_id": "C-1001"}},
        {"event": "user", "text": "thanks", "metadata": {}},
    ]
    assert conversation_owner(events) == "C-1001"
    assert conversation_owner(events[:1]) is None


RATING_BUTTONS = [
    {"title": str(n), "payload": f'/rate_support{{"csat_rating": "{n}"}}'} for n in (1, 2, 3, 4, 5)
]


def test_triggered_intents_are_not_shown_and_a_button_click_shows_its_title():
    events = [
        {
            "event": "user",
            "text": "EXTERNAL: handoff_resolved",
            "timestamp": 1,
            "metadata": {"is_external": True},
        },
        {
            "event": "bot",
            "text": "How did we do?",
            "timestamp": 2,
            "data": {"buttons": RATING_BUTTONS},
        },
        {
            "event": "user",
            "text": '/rate_support{"csat_rating": "4"}',
            "timestamp": 3,
            "metadata": {},
        },
        {"event": "bot", "text": "Thanks", "timestamp": 4, "data": {}},
        # Typed later, after other buttons were gone: shown as typed.
        {
            "event": "user",
            "text": '/rate_support{"csat_rating": "4"}',
            "timestamp": 5,
            "metadata": {},
        },
    ]
    assert [(m["sender"], m["text"]) for m in visible_messages(events)] == [
        ("bot", "How did we do?"),
        ("user", "4"),
        ("bot", "Thanks"),
        ("user", '/rate_support{"csat_rating": "4"}'),
    ]


def test_an_agents_message_is_labelled_with_their_name():
    events = [
        {
            "event": "bot",
            "text": "Hi, Sam here",
            "timestamp": 1,
            "data": {},
            "metadata": {"agent": {"id": 3, "name": "Sam"}},
        }
    ]
    assert visible_messages(events) == [
        {"sender": "bot", "text": "Hi, Sam here", "timestamp": 1, "agent": {"name": "Sam"}}
    ]
