"""Fixtures of the call tests: a migrated database (SQLite and PostgreSQL), agents, handed-off
conversations."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Sequence

import pytest
from argon2 import PasswordHasher
from sqlalchemy import insert
from sqlalchemy.orm import sessionmaker

from bot.calls.config import CallSettings
from bot.calls.providers import make_provider
from bot.calls.service import CallService
from bot.desk.agents import AgentDirectory
from bot.desk.records import AgentRecord
from bot.store.models import Conversation, Ticket

T0 = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.timezone.utc)
TEAMS = (("billing", "Billing & Payments"), ("technical", "Technical Support"))
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
CONNECTION_A = "a" * 32
CONNECTION_B = "b" * 32

_numbers = itertools.count(1)


@pytest.fixture
def directory(session_factory: sessionmaker) -> AgentDirectory:
    directory = AgentDirectory(session_factory, hasher=CHEAP_HASHER)
    directory.sync_teams(TEAMS)
    return directory


@pytest.fixture
def service(session_factory: sessionmaker) -> CallService:
    settings = CallSettings.from_env({})
    return CallService(session_factory, settings, make_provider(settings))


def add_agent(
    directory: AgentDirectory,
    name: str,
    *,
    teams: Sequence[str] = ("billing",),
    role: str = "agent",
) -> AgentRecord:
    agent = directory.create_agent(
        email=f"{name.lower()}.{next(_numbers)}@example.com",
        name=name,
        password="correct horse battery staple",
        role=role,
        teams=teams,
        capacity=3,
        languages=("en",),
        now=T0,
    )
    return directory.set_status(agent.id, "online", T0)


def handed_off(
    session_factory: sessionmaker, agent: AgentRecord | None, *, team: str = "billing"
) -> str:
    """A conversation with a ticket, with `agent` (or queued when None); returns its sender id."""
    number = next(_numbers)
    sender_id = uuid.uuid4().hex
    with session_factory.begin() as session:
        conversation_pk = session.execute(
            insert(Conversation).values(
                sender_id=sender_id,
                state="with_agent" if agent else "queued",
                created_at=T0,
                updated_at=T0,
            )
        ).inserted_primary_key[0]
        session.execute(
            insert(Ticket).values(
                reference=f"CS-C{number:05d}",
                conversation_id=conversation_pk,
                idempotency_key=f"call-key-{sender_id}",
                status="assigned" if agent else "open",
                priority="P3",
                team=team,
                level=0,
                tier="agent",
                language="en",
                assigned_agent_id=agent.id if agent else None,
                context={"version": 1},
                first_response_due=T0 + dt.timedelta(minutes=15),
                resolution_due=T0 + dt.timedelta(hours=4),
                created_at=T0,
                updated_at=T0,
            )
        )
    return sender_id
