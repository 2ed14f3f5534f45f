"""What the store hands out: frozen snapshots, never live ORM objects.

A caller cannot lazy-load, mutate or flush through these, so a ticket read in
the action server is safe to pass around after its session has closed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict


@dataclass(frozen=True)
class CustomerInfo:
    """A verified customer as the bot knows them (`external_id` is the account system's id)."""

    external_id: str
    name: str | None = None
    email: str | None = None
    tier: str | None = None


@dataclass(frozen=True)
class TicketRecord:
    id: int
    reference: str
    conversation_sender_id: str
    customer_external_id: str | None
    idempotency_key: str
    status: str
    priority: str
    category: str | None
    team: str
    level: int
    tier: str
    assigned_agent_id: int | None
    context: Dict[str, Any]
    first_response_due: dt.datetime
    resolution_due: dt.datetime
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    ticket_id: int
    at: dt.datetime
    actor: str
    action: str
    from_value: str | None
    to_value: str | None
    reason: str | None
    escalation_type: str | None
    breach_key: str | None
