"""Many breached tickets at once, in two bulk inserts: shared by the clock tests and `make
bench`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select
from sqlalchemy.orm import sessionmaker

from bot.escalation.types import RoutingDecision
from bot.store.models import Conversation, Ticket


def seed_breached(
    session_factory: sessionmaker, count: int, routed: RoutingDecision, created_at: dt.datetime
) -> None:
    """`count` open tickets routed as `routed`, created at `created_at` (not through the store)."""
    with session_factory.begin() as session:
        session.execute(
            insert(Conversation),
            [
                {
                    "sender_id": f"seed-{index}",
                    "state": "queued",
                    "created_at": created_at,
                    "updated_at": created_at,
                }
                for index in range(count)
            ],
        )
        ids = dict(session.execute(select(Conversation.sender_id, Conversation.id)).all())
        session.execute(
            insert(Ticket),
            [
                {
                    "reference": f"CS-S{index:05d}",
                    "conversation_id": ids[f"seed-{index}"],
                    "idempotency_key": f"seed-{index}",
                    "status": "open",
                    "priority": routed.priority,
                    "team": routed.team,
                    "level": routed.level,
                    "tier": routed.tier,
                    "context": {"version": 1},
                    "first_response_due": routed.first_response_due,
                    "resolution_due": routed.resolution_due,
                    "created_at": created_at,
                    "updated_at": created_at,
                }
                for index in range(count)
            ],
        )
