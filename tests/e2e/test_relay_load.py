"""100 handed-off conversations talking both ways at once: nothing lost, doubled or reordered."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine

from bot.desk.views import transcript
from tests.e2e.relay_load import exchange, open_floor

pytestmark = pytest.mark.e2e

CONVERSATIONS = 100
MESSAGES_PER_SIDE = 5


async def test_100_conversations_relay_every_message_once_and_in_order(baton_server):
    floor = await open_floor(baton_server, CONVERSATIONS)
    try:
        assert len(floor.conversations) == CONVERSATIONS
        # As fast as the load generator can send: the hardest case for ordering.
        await exchange(floor, MESSAGES_PER_SIDE, interval=0)

        for conversation in floor.conversations.values():
            customer_texts = [text for text, _ in conversation.customer_sent]
            agent_texts = [text for text, _ in conversation.agent_sent]
            assert [text for text, _ in conversation.agent_received] == customer_texts
            assert [text for text, _ in conversation.customer_received] == agent_texts
    finally:
        await floor.close()

    # The tracker holds every message once, each side in the order it was sent.
    engine = create_engine(f"sqlite:///{baton_server.tracker_db}")
    try:
        with engine.connect() as connection:
            for conversation in floor.conversations.values():
                rows = connection.exec_driver_sql(
                    "SELECT data FROM events WHERE sender_id = ? ORDER BY id",
                    (conversation.conversation_id,),
                ).all()
                spoken = transcript(json.loads(row[0]) for row in rows)
                said_by_customer = [m["text"] for m in spoken if m["sender"] == "customer"]
                said_by_agent = [m["text"] for m in spoken if m["sender"] == "agent"]
                assert said_by_customer[1:] == [text for text, _ in conversation.customer_sent]
                assert said_by_agent == [text for text, _ in conversation.agent_sent]
    finally:
        engine.dispose()
