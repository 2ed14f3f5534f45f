"""Conversations and tickets with known answers, written straight into the tables.

`add_conversation` / `add_ticket` build one row each, exactly as described (for
tests that check a metric against hand-computed numbers); `seed_history` writes a
whole period in bulk (for the dashboard's browser test and the report benchmark).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Sequence, Tuple

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import Conversation, CsatAnswer, Ticket, TicketHistory

_CONVERSATIONS = Conversation.__table__
_TICKETS = Ticket.__table__
_HISTORY = TicketHistory.__table__
_CSAT = CsatAnswer.__table__
CHUNK = 5000


def add_conversation(
    session: Session, sender_id: str, started_at: dt.datetime, channel: str | None = "webchat"
) -> int:
    result = session.execute(
        insert(_CONVERSATIONS),
        {
            "sender_id": sender_id,
            "channel": channel,
            "customer_id": None,
            "state": "bot",
            "created_at": started_at,
            "updated_at": started_at,
        },
    )
    return int(result.inserted_primary_key[0])


def add_ticket(
    session: Session,
    conversation_id: int,
    created_at: dt.datetime,
    *,
    reference: str | None = None,
    team: str = "billing",
    category: str | None = "billing",
    escalation_type: str = "customer_initiated",
    escalation_reason: str = "customer_initiated",
    types: Sequence[str] | None = None,
    trigger_intent: str | None = "ask_invoice",
    trigger_text: str | None = "where is my invoice",
    first_reply_after: dt.timedelta | None = None,
    resolved_after: dt.timedelta | None = None,
    first_response_sla: dt.timedelta = dt.timedelta(minutes=15),
    resolution_sla: dt.timedelta = dt.timedelta(hours=4),
    rating: int | None = None,
) -> int:
    """One ticket; `types` are the escalation types of its history (default: its own type)."""
    values = ticket_values(
        conversation_id,
        created_at,
        reference=reference or f"T-{conversation_id}-{int(created_at.timestamp())}",
        team=team,
        category=category,
        escalation_type=escalation_type,
        escalation_reason=escalation_reason,
        trigger_intent=trigger_intent,
        trigger_text=trigger_text,
        first_reply_after=first_reply_after,
        resolved_after=resolved_after,
        first_response_sla=first_response_sla,
        resolution_sla=resolution_sla,
    )
    ticket_id = int(session.execute(insert(_TICKETS), values).inserted_primary_key[0])
    session.execute(
        insert(_HISTORY),
        [history_values(ticket_id, created_at, kind) for kind in (types or [escalation_type])],
    )
    if rating is not None:
        session.execute(
            insert(_CSAT),
            {"ticket_id": ticket_id, "rating": rating, "comment": None, "at": created_at},
        )
    return ticket_id


def ticket_values(
    conversation_id: int,
    created_at: dt.datetime,
    *,
    reference: str,
    team: str,
    category: str | None,
    escalation_type: str,
    escalation_reason: str,
    trigger_intent: str | None,
    trigger_text: str | None,
    first_reply_after: dt.timedelta | None,
    resolved_after: dt.timedelta | None,
    first_response_sla: dt.timedelta,
    resolution_sla: dt.timedelta,
) -> Dict[str, Any]:
    resolved_at = created_at + resolved_after if resolved_after is not None else None
    first_reply_at = created_at + first_reply_after if first_reply_after is not None else None
    return {
        "reference": reference,
        "conversation_id": conversation_id,
        "customer_id": None,
        "idempotency_key": f"seed:{reference}",
        "status": "resolved" if resolved_at else ("assigned" if first_reply_at else "open"),
        "priority": "P3",
        "category": category,
        "team": team,
        "level": 0,
        "tier": "agent",
        "assigned_agent_id": None,
        "context": {"version": 3, "seeded": True},
        "escalation_type": escalation_type,
        "escalation_reason": escalation_reason,
        "trigger_intent": trigger_intent,
        "trigger_text": trigger_text,
        "first_response_due": created_at + first_response_sla,
        "resolution_due": created_at + resolution_sla,
        "first_response_at": first_reply_at,
        "resolved_at": resolved_at,
        "created_at": created_at,
        "updated_at": resolved_at or first_reply_at or created_at,
    }


def history_values(ticket_id: int, at: dt.datetime, escalation_type: str) -> Dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "at": at,
        "actor": "bot",
        "action": "created",
        "from_value": None,
        "to_value": None,
        "reason": None,
        "escalation_type": escalation_type,
        "breach_key": None,
    }


# What the seeded escalations were about, in turn: (type, reason, intent, trigger text).
CAUSES: Tuple[Tuple[str, str, str, str], ...] = (
    ("customer_initiated", "customer_initiated", "request_human", "can I talk to a person"),
    ("sentiment", "frustration_rising", "faq/returns", "this return policy makes no sense"),
    ("functional", "billing", "ask_invoice", "I was charged twice this month"),
    ("automatic", "repeated_fallback", "nlu_fallback", "my router keeps blinking red"),
    ("automatic", "repeated_fallback", "nlu_fallback", "router blinking red again!!"),
    ("priority", "outage", "report_problem", "the whole service is down"),
)
TEAMS = ("billing", "technical")
CHANNELS = ("webchat", "rest")


@dataclass(frozen=True)
class SeededHistory:
    conversations: int
    escalated: int
    # Of the escalated: answered by an agent, resolved, rated (and rated 4 or 5).
    answered: int
    resolved: int
    rated: int
    satisfied: int


def seed_history(
    session_factory: sessionmaker,
    *,
    start: dt.datetime,
    days: int,
    conversations: int,
    escalated: int,
    prefix: str = "seed",
) -> SeededHistory:
    """`conversations` spread evenly over `days` from `start`, `escalated` of them
    (spread evenly too) with one ticket each, 2 minutes after their start.

    Escalation k: cause `CAUSES[k % 6]`, team `TEAMS[k % 2]`; answered after 1 minute
    unless k % 10 == 9; resolved after 30 minutes unless k % 5 == 4; rated
    (5, 4, 3, 5, 2)[k % 5] when resolved and k is even. Conversation i's channel is
    `CHANNELS[i % 2]`.
    """
    if not 0 <= escalated <= conversations:
        raise ValueError("escalated must be between 0 and conversations")
    spacing = dt.timedelta(days=days) / conversations
    chosen = {k * conversations // escalated: k for k in range(escalated)} if escalated else {}
    summary = {"answered": 0, "resolved": 0, "rated": 0, "satisfied": 0}
    with session_factory.begin() as session:
        for chunk in _chunks(range(conversations), CHUNK):
            session.execute(
                insert(_CONVERSATIONS),
                [
                    {
                        "sender_id": f"{prefix}-{i}",
                        "channel": CHANNELS[i % len(CHANNELS)],
                        "customer_id": None,
                        "state": "bot",
                        "created_at": start + spacing * i,
                        "updated_at": start + spacing * i,
                    }
                    for i in chunk
                ],
            )
        ids = dict(
            session.execute(
                select(_CONVERSATIONS.c.sender_id, _CONVERSATIONS.c.id).where(
                    _CONVERSATIONS.c.sender_id.like(f"{prefix}-%")
                )
            ).all()
        )
        tickets, ratings_by_reference = [], {}
        for i, k in sorted(chosen.items()):
            kind, reason, intent, text = CAUSES[k % len(CAUSES)]
            created = start + spacing * i + dt.timedelta(minutes=2)
            answered = k % 10 != 9
            resolved = k % 5 != 4
            reference = f"{prefix[:6].upper()}{k:09d}"
            tickets.append(
                ticket_values(
                    ids[f"{prefix}-{i}"],
                    created,
                    reference=reference,
                    team=TEAMS[k % len(TEAMS)],
                    category=TEAMS[k % len(TEAMS)],
                    escalation_type=kind,
                    escalation_reason=reason,
                    trigger_intent=intent,
                    trigger_text=text,
                    first_reply_after=dt.timedelta(minutes=1) if answered else None,
                    resolved_after=dt.timedelta(minutes=30) if resolved else None,
                    first_response_sla=dt.timedelta(minutes=15),
                    resolution_sla=dt.timedelta(hours=4),
                )
            )
            summary["answered"] += answered
            summary["resolved"] += resolved
            if resolved and k % 2 == 0:
                rating = (5, 4, 3, 5, 2)[k % 5]
                ratings_by_reference[reference] = (rating, created + dt.timedelta(minutes=31))
                summary["rated"] += 1
                summary["satisfied"] += rating >= 4
        for chunk in _chunks(tickets, CHUNK):
            session.execute(insert(_TICKETS), list(chunk))
        ticket_ids = dict(
            session.execute(
                select(_TICKETS.c.reference, _TICKETS.c.id).where(
                    _TICKETS.c.idempotency_key.like(f"seed:{prefix[:6].upper()}%")
                )
            ).all()
        )
        history = [
            history_values(ticket_ids[t["reference"]], t["created_at"], t["escalation_type"])
            for t in tickets
        ]
        for chunk in _chunks(history, CHUNK):
            session.execute(insert(_HISTORY), list(chunk))
        answers = [
            {"ticket_id": ticket_ids[reference], "rating": rating, "comment": None, "at": at}
            for reference, (rating, at) in ratings_by_reference.items()
        ]
        for chunk in _chunks(answers, CHUNK):
            session.execute(insert(_CSAT), list(chunk))
    return SeededHistory(conversations=conversations, escalated=escalated, **summary)


def _chunks(items: Iterable[Any], size: int) -> Iterable[List[Any]]:
    batch: List[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
