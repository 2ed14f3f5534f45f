"""`GET /metrics` of the real product (`bot run`): a handoff, an accept and a message each way.

The escalation is created by the action server and counted by the Rasa server's
/metrics (read from the database); the queue wait and both relay directions are
observed by the real desk and webchat code. One test: the database's counts are
cached for a few seconds, so its first scrape is the first of this server.
"""

from __future__ import annotations

import os
from typing import Dict, Tuple

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import and_, create_engine, func, select

from bot.metrics.prometheus import AGENT_TO_CUSTOMER, CUSTOMER_TO_AGENT
from bot.store.models import Conversation, Ticket
from tests.e2e.desk_client import LiveSocket
from tests.e2e.test_desk_api import ALL_TEAMS, hand_off, next_status, signed_in

pytestmark = pytest.mark.e2e

Samples = Dict[Tuple[str, Tuple[Tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    # The server inherits this environment: with a token set there, it wants it.
    token = os.environ.get("BATON_METRICS_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = requests.get(f"{url}/metrics", headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(parsed: Samples, name: str, **labels: str) -> float:
    return parsed[(name, tuple(sorted(labels.items())))]


async def test_a_handoff_is_counted_and_its_wait_and_relay_are_observed(baton_server):
    customer, conversation_id = await hand_off(baton_server)
    try:
        engine = create_engine(baton_server.database_url, future=True)
        tickets = Ticket.__table__
        try:
            with engine.connect() as connection:
                ticket = connection.execute(
                    select(tickets.c.escalation_type, tickets.c.team, tickets.c.priority)
                    .join(Conversation.__table__)
                    .where(Conversation.__table__.c.sender_id == conversation_id)
                ).one()
                first = scrape(baton_server.url)
                escalations = connection.execute(
                    select(func.count()).where(tickets.c.escalation_type == ticket.escalation_type)
                ).scalar_one()
                waiting = connection.execute(
                    select(func.count()).where(
                        and_(
                            tickets.c.status == "open",
                            tickets.c.assigned_agent_id.is_(None),
                            tickets.c.team == ticket.team,
                            tickets.c.priority == ticket.priority,
                        )
                    )
                ).scalar_one()
        finally:
            engine.dispose()

        # The action server's ticket, counted by the Rasa server: as many as the database holds.
        assert ticket.escalation_type == "customer_initiated"
        assert value(first, "baton_metrics_database_up") == 1
        assert (
            value(first, "baton_escalations_total", type="customer_initiated") == escalations >= 1
        )
        assert (
            value(first, "baton_queue_length", team=ticket.team, priority=ticket.priority)
            == waiting
            >= 1
        )
        assert value(first, "baton_conversations_by_state", channel="webchat", state="queued") >= 1

        desk, _ = signed_in(baton_server, name="Metrics Watcher", teams=ALL_TEAMS)
        async with LiveSocket(baton_server.url, desk.cookie_header()) as live:
            accepted = desk.call("POST", f"/conversations/{conversation_id}/accept")
            assert accepted.status_code == 200, accepted.text
            await next_status(customer, "agent_joined")

            # The answer comes once the message is on the customer's socket.
            sent = desk.call(
                "POST",
                f"/conversations/{conversation_id}/messages",
                {"text": "Hello, how can I help?"},
            )
            assert sent.status_code == 201, sent.text
            assert (await customer.next_message())["text"] == "Hello, how can I help?"

            # Observed before the console's socket writes it, so before it arrives here.
            await customer.send(
                {"message": "My router keeps restarting", "session_id": conversation_id}
            )
            assert (await live.messages(conversation_id, 1))[0][
                "text"
            ] == "My router keeps restarting"

            second = scrape(baton_server.url)
            assert desk.call("POST", f"/conversations/{conversation_id}/resolve").status_code == 200

        assert (
            value(second, "baton_queue_wait_seconds_count")
            == value(first, "baton_queue_wait_seconds_count") + 1
        )
        for direction in (CUSTOMER_TO_AGENT, AGENT_TO_CUSTOMER):
            before = value(first, "baton_relay_latency_seconds_count", direction=direction)
            assert (
                value(second, "baton_relay_latency_seconds_count", direction=direction)
                == before + 1
            ), direction
            took = value(second, "baton_relay_latency_seconds_sum", direction=direction) - value(
                first, "baton_relay_latency_seconds_sum", direction=direction
            )
            assert 0 < took < 10, (direction, took)
    finally:
        await customer.__aexit__()
