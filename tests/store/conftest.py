"""Fixtures of the store tests: a migrated database (SQLite and PostgreSQL) and a store on it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import sessionmaker

from bot.escalation.types import EscalationReason, EscalationType, RoutingDecision
from bot.store import RetryPolicy, TicketStore

T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone.utc)
# Tests never wait: retries back off through this.
NO_WAIT = RetryPolicy(attempts=4, base_delay=0.0, max_delay=0.0, sleep=lambda _seconds: None)


@pytest.fixture
def store(session_factory: sessionmaker) -> TicketStore:
    return TicketStore(session_factory, retry=NO_WAIT)


def decision(
    now: dt.datetime = T0,
    *,
    team: str = "billing",
    level: int = 0,
    priority: str = "P3",
    first_response: dt.timedelta = dt.timedelta(minutes=15),
    resolution: dt.timedelta = dt.timedelta(hours=4),
    reasons: tuple = (
        EscalationReason(
            EscalationType.CUSTOMER_INITIATED, "asked_for_human", "asked for a person"
        ),
        EscalationReason(EscalationType.FUNCTIONAL, "category_billing", "category billing"),
    ),
) -> RoutingDecision:
    return RoutingDecision(
        team=team,
        level=level,
        tier=("agent", "specialist", "supervisor")[level],
        priority=priority,
        priority_rules=(),
        reasons=reasons,
        first_response_due=now + first_response,
        resolution_due=now + resolution,
    )


def transcript(turns: int) -> list:
    return [
        {
            "sender": "customer" if index % 2 == 0 else "bot",
            "text": f"message number {index} about my bill, which looks wrong this month",
            "timestamp": 1764493200.0 + index,
            "intent": "billing_question" if index % 2 == 0 else None,
            "confidence": 0.91,
        }
        for index in range(turns)
    ]
