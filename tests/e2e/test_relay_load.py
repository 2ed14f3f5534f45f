"""Handed-off conversations talking both ways at once: nothing lost, doubled or reordered.

Five conversations in the default tier (the same assertions, at a size that costs
seconds); the load of 100 is `slow`: `make bench` runs it, `make test` does not.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sqlalchemy import create_engine

from bot.desk.views import transcript
from tests.e2e.relay_load import exchange, open_floor

pytestmark = pytest.mark.e2e

MESSAGES_PER_SIDE = 5
TRACKER_WAIT_SECONDS = 60


@pytest.mark.parametrize("conversations", [5, pytest.param(100, marks=pytest.mark.slow)])
async def test_conversations_relay_every_message_once_and_in_order(baton_server, conversations):
    floor = await open_floor(baton_server, conversations)
    try:
        assert len(floor.conversations) == conversations
        # As fast as the load generator can send: the hardest case for ordering.
        await exchange(floor, MESSAGES_PER_SIDE, interval=0)

        for conversation in floor.conversations.values():
            customer_texts = [text for text, _ in conversation.customer_sent]
            agent_texts = [text for text, _ in conversation.agent_sent]
            assert [text for text, _ in conversation.agent_received] == customer_texts
            assert [text for text, _ in conversation.customer_received] == agent_texts
    finally:
        await floor.close()

    # The tracker holds every message once, each side in the order it was sent. A
    # customer message reaches the agent before Rasa has parsed and logged it, so
    # the last ones may still be on their way into the tracker: wait for that.
    engine = create_engine(f"sqlite:///{baton_server.tracker_db}")
    try:
        for conversation in floor.conversations.values():
            sent_by_customer = [text for text, _ in conversation.customer_sent]
            sent_by_agent = [text for text, _ in conversation.agent_sent]
            deadline = time.monotonic() + TRACKER_WAIT_SECONDS
            while True:
                spoken = _spoken(engine, conversation.conversation_id)
                said_by_customer = [m["text"] for m in spoken if m["sender"] == "customer"][1:]
                said_by_agent = [m["text"] for m in spoken if m["sender"] == "agent"]
                if len(said_by_customer) >= len(sent_by_customer) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)  # polling for a condition, not timing a behaviour
            assert said_by_customer == sent_by_customer
            assert said_by_agent == sent_by_agent
    finally:
        engine.dispose()


def _spoken(engine, conversation_id: str) -> list:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (conversation_id,)
        ).all()
    return transcript(json.loads(row[0]) for row in rows)
