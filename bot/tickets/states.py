"""Every state a conversation, a ticket and an agent can be in, named once.

The database's CHECK constraints (bot/store/models.py) and every query, view and
rule use these names; a bare "assigned" or "with_agent" elsewhere is a bug that
tests/test_ticket_ownership.py reports.
"""

from __future__ import annotations

from typing import Final, Tuple

# Where a conversation is: with the bot, waiting for a person, with an agent, or over.
CONVERSATION_BOT: Final = "bot"
CONVERSATION_QUEUED: Final = "queued"
CONVERSATION_WITH_AGENT: Final = "with_agent"
CONVERSATION_RESOLVED: Final = "resolved"
CONVERSATION_STATES: Final[Tuple[str, ...]] = (
    CONVERSATION_BOT,
    CONVERSATION_QUEUED,
    CONVERSATION_WITH_AGENT,
    CONVERSATION_RESOLVED,
)
# A person has the conversation or is about to: the bot stays quiet.
HANDED_OFF_STATES: Final[Tuple[str, ...]] = (CONVERSATION_QUEUED, CONVERSATION_WITH_AGENT)

# A ticket: open (waiting for an agent), assigned (an agent has it), resolved, closed.
TICKET_OPEN: Final = "open"
TICKET_ASSIGNED: Final = "assigned"
TICKET_RESOLVED: Final = "resolved"
TICKET_CLOSED: Final = "closed"
TICKET_STATUSES: Final[Tuple[str, ...]] = (
    TICKET_OPEN,
    TICKET_ASSIGNED,
    TICKET_RESOLVED,
    TICKET_CLOSED,
)
# At most one such ticket per conversation (a partial unique index).
LIVE_TICKET_STATUSES: Final[Tuple[str, ...]] = (TICKET_OPEN, TICKET_ASSIGNED)

# An agent's presence.
AGENT_ONLINE: Final = "online"
AGENT_AWAY: Final = "away"
AGENT_OFFLINE: Final = "offline"
AGENT_STATUSES: Final[Tuple[str, ...]] = (AGENT_ONLINE, AGENT_AWAY, AGENT_OFFLINE)

# What a `ticket_history` row records (its `action`) when the lifecycle moves. Two are
# spelled as states ("assigned", "resolved") but name the event, not the status.
ACTION_CREATED: Final = "created"
ACTION_OFFERED: Final = "offered"
ACTION_ASSIGNED: Final = "assigned"
ACTION_REQUEUED: Final = "requeued"
ACTION_TRANSFERRED: Final = "transferred"
ACTION_ESCALATED: Final = "escalated"
ACTION_PRIORITY_RAISED: Final = "priority_raised"
ACTION_SLA_BREACHED: Final = "sla_breached"
ACTION_RESOLVED: Final = "resolved"
ACTION_RETURNED_TO_BOT: Final = "returned_to_bot"
ACTION_BLOCKED: Final = "blocked"
ACTION_NOTE: Final = "note"
ACTION_CSAT: Final = "csat"
