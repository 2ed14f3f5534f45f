"""Rows the agent desk writes (agents, their teams, conversation states, resolutions), for tests.

Written with plain inserts and updates, as the desk leaves them in the database,
so the bot's side can be tested without the desk's code.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Iterable

from sqlalchemy import insert, select, update
from sqlalchemy.orm import sessionmaker

from bot.store.models import Agent, Conversation, Team, Ticket, agent_teams

_numbers = itertools.count(1)
T_CREATED = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.timezone.utc)


def add_agent(session_factory: sessionmaker, teams: Iterable[str], status: str = "online") -> int:
    """An agent of `teams` (team keys; missing teams are created) with `status`."""
    number = next(_numbers)
    with session_factory.begin() as session:
        agent_id = session.execute(
            insert(Agent.__table__),
            {
                "email": f"agent{number}@example.com",
                "name": f"Agent {number}",
                "role": "agent",
                "status": status,
                "capacity": 3,
                "languages": "en",
                "created_at": T_CREATED,
            },
        ).inserted_primary_key[0]
        for key in teams:
            team_id = session.execute(select(Team.id).where(Team.key == key)).scalar()
            if team_id is None:
                team_id = session.execute(
                    insert(Team.__table__), {"key": key, "name": key.title()}
                ).inserted_primary_key[0]
            session.execute(insert(agent_teams), {"agent_id": agent_id, "team_id": team_id})
    return int(agent_id)


def set_state(session_factory: sessionmaker, sender_id: str, state: str) -> None:
    """The conversation's desk state (`bot`, `queued`, `with_agent`, `resolved`)."""
    with session_factory.begin() as session:
        session.execute(
            update(Conversation.__table__)
            .where(Conversation.sender_id == sender_id)
            .values(state=state)
        )


def resolve(session_factory: sessionmaker, reference: str, at: dt.datetime) -> None:
    """An agent resolved the ticket at `at` (ticket `resolved`, conversation `resolved`)."""
    with session_factory.begin() as session:
        conversation_id = session.execute(
            select(Ticket.conversation_id).where(Ticket.reference == reference)
        ).scalar_one()
        session.execute(
            update(Ticket.__table__)
            .where(Ticket.reference == reference)
            .values(status="resolved", resolved_at=at, updated_at=at)
        )
        session.execute(
            update(Conversation.__table__)
            .where(Conversation.id == conversation_id)
            .values(state="resolved", updated_at=at)
        )
