"""Fixtures of the desk tests: a migrated database (SQLite and PostgreSQL), teams, people,
tickets."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Sequence

import pytest
from argon2 import PasswordHasher
from sqlalchemy import insert
from sqlalchemy.orm import sessionmaker

from bot.desk.agents import AgentDirectory
from bot.desk.records import AgentRecord
from bot.store.models import Conversation, Ticket

T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone.utc)
TEAMS = (("billing", "Billing & Payments"), ("technical", "Technical Support"))
PASSWORD = "correct horse battery staple"
# Real Argon2id, at the lowest cost it allows: the tests hash dozens of passwords.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

_numbers = itertools.count(1)


@pytest.fixture
def directory(session_factory: sessionmaker) -> AgentDirectory:
    directory = AgentDirectory(session_factory, hasher=CHEAP_HASHER)
    directory.sync_teams(TEAMS)
    return directory


def add_agent(
    directory: AgentDirectory,
    name: str,
    *,
    teams: Sequence[str] = ("billing",),
    status: str = "online",
    capacity: int = 3,
    languages: Sequence[str] = ("en",),
    role: str = "agent",
) -> AgentRecord:
    agent = directory.create_agent(
        email=f"{name.lower()}@example.com",
        name=name,
        password=PASSWORD,
        role=role,
        teams=teams,
        capacity=capacity,
        languages=languages,
        now=T0,
    )
    return directory.set_status(agent.id, status, T0)


def add_ticket(
    session_factory: sessionmaker,
    *,
    team: str = "billing",
    priority: str = "P3",
    language: str = "en",
    created_at: dt.datetime = T0,
    first_response_due: dt.datetime | None = None,
    state: str = "queued",
    status: str = "open",
    assigned_agent_id: int | None = None,
) -> int:
    """A ticket and its conversation, inserted directly (the ticket store is not under test)."""
    number = next(_numbers)
    with session_factory.begin() as session:
        conversation_id = session.execute(
            insert(Conversation).values(
                sender_id=f"conv-{number}",
                state=state,
                created_at=created_at,
                updated_at=created_at,
            )
        ).inserted_primary_key[0]
        return session.execute(
            insert(Ticket).values(
                reference=f"CS-T{number:05d}",
                conversation_id=conversation_id,
                idempotency_key=f"key-{number}",
                status=status,
                priority=priority,
                team=team,
                level=0,
                tier="agent",
                language=language,
                assigned_agent_id=assigned_agent_id,
                context={"version": 1},
                first_response_due=first_response_due or created_at + dt.timedelta(minutes=15),
                resolution_due=created_at + dt.timedelta(hours=4),
                created_at=created_at,
                updated_at=created_at,
            )
        ).inserted_primary_key[0]
