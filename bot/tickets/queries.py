"""The lifecycle's shared questions: a conversation's current ticket, an agent's active chats.

Read-only SQLAlchemy expressions the desk, the router and the calls build their own
reads with, so "current" and "active" mean one thing everywhere.
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from bot.store.models import Conversation, Ticket
from bot.tickets.states import TICKET_ASSIGNED

_TICKETS = Ticket.__table__
_CONVERSATIONS = Conversation.__table__


def latest_ticket_id() -> Any:
    """The id of the conversation's latest ticket (correlated to `conversations`)."""
    return (
        select(func.max(_TICKETS.c.id))
        .where(_TICKETS.c.conversation_id == _CONVERSATIONS.c.id)
        .correlate(_CONVERSATIONS)
        .scalar_subquery()
    )


def current_ticket() -> Any:
    """Join condition of `conversations` to its current ticket: the latest one."""
    return and_(
        _TICKETS.c.conversation_id == _CONVERSATIONS.c.id,
        _TICKETS.c.id == latest_ticket_id(),
    )


def active_chats_by_agent(agent_ids: Iterable[int] | None = None) -> Any:
    """(agent id, tickets assigned to them) for every agent with one, or for `agent_ids`."""
    statement = (
        select(_TICKETS.c.assigned_agent_id, func.count())
        .where(_TICKETS.c.status == TICKET_ASSIGNED, _TICKETS.c.assigned_agent_id.is_not(None))
        .group_by(_TICKETS.c.assigned_agent_id)
    )
    if agent_ids is not None:
        statement = statement.where(_TICKETS.c.assigned_agent_id.in_(list(agent_ids)))
    return statement


def count_active_chats(session: Session, agent_id: int) -> int:
    """How many tickets are assigned to the agent (their load, offers aside)."""
    return int(
        session.execute(
            select(func.count())
            .select_from(_TICKETS)
            .where(_TICKETS.c.assigned_agent_id == agent_id, _TICKETS.c.status == TICKET_ASSIGNED)
        ).scalar_one()
    )
