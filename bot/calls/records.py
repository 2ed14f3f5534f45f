"""A call as the service sees it (a `calls` row plus its conversation), and its JSON (3.3.1)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict

from bot.calls import protocol as p

# How long the Detail keeps showing a call that ended (3.3.1).
RECENT_CALL_SECONDS = 60


def iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.timezone.utc).isoformat() if moment is not None else None


@dataclass(frozen=True)
class CallRecord:
    """One `calls` row, with its conversation's `sender_id`, ticket team and agent's name."""

    id: str
    conversation_pk: int
    conversation_id: str  # the conversation's sender_id: what every API names it by
    ticket_id: int
    team: str
    agent_id: int | None
    agent_name: str | None
    media: str
    provider: str
    state: str
    started_by: str  # history actor: "agent:<id>" | "customer"
    customer_sid: str | None
    agent_connection: str | None
    room: str | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    answered_at: dt.datetime | None
    connected_at: dt.datetime | None
    ended_at: dt.datetime | None
    end_reason: str | None
    ended_by: str | None  # history actor: "agent:<id>" | "customer" | "desk"

    @property
    def starter(self) -> str:
        """`agent` or `customer`: who started it."""
        return p.BY_CUSTOMER if self.started_by == p.ACTOR_CUSTOMER else p.BY_AGENT

    @property
    def live(self) -> bool:
        return self.state != p.STATE_ENDED

    @property
    def duration_seconds(self) -> int | None:
        """Whole seconds from connected to ended; None if it never became active."""
        if self.connected_at is None or self.ended_at is None:
            return None
        return max(int((self.ended_at - self.connected_at).total_seconds()), 0)


def wire_by(actor: str | None) -> str | None:
    """A history actor as `ended.by` on the wire: agent, customer or system."""
    if actor is None:
        return None
    if actor == p.ACTOR_CUSTOMER:
        return p.BY_CUSTOMER
    if actor.startswith("agent:"):
        return p.BY_AGENT
    return p.BY_SYSTEM


def call_json(
    record: CallRecord, viewer_agent_id: int | None, now: dt.datetime, join_url: str | None = None
) -> Dict[str, Any]:
    """The **Call** object of the desk API; `join_url` only for the call's own agent."""
    own = viewer_agent_id is not None and viewer_agent_id == record.agent_id
    return {
        "id": record.id,
        "conversation_id": record.conversation_id,
        "media": record.media,
        "provider": record.provider,
        "state": record.state,
        "started_by": record.starter,
        "agent": {"id": record.agent_id, "name": record.agent_name}
        if record.agent_id is not None
        else None,
        "connection_id": record.agent_connection,
        "created_at": iso(record.created_at),
        "expires_at": iso(record.expires_at),
        "answered_at": iso(record.answered_at),
        "connected_at": iso(record.connected_at),
        "ended_at": iso(record.ended_at),
        "end_reason": record.end_reason,
        "ended_by": wire_by(record.ended_by),
        "duration_seconds": record.duration_seconds,
        "join_url": join_url if own and record.live else None,
    }


def shown_in_detail(record: CallRecord | None, now: dt.datetime) -> bool:
    """The Detail's `call`: live, or ended less than a minute ago."""
    if record is None:
        return False
    if record.live:
        return True
    return (
        record.ended_at is not None
        and (now - record.ended_at).total_seconds() < RECENT_CALL_SECONDS
    )
