"""The escalation packet: the versioned context a ticket keeps for the person who picks it up.

Built from the conversation's tracker events (Rasa's wire format) and the
policy's routing decision; stored as JSON on the ticket, so its shape is a
contract: bump `PACKET_VERSION` when it changes.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Mapping

from bot.escalation.types import RoutingDecision
from bot.handoff_context import (
    collected_details,
    escalation_trigger,
    fallback_count,
    sentiment_summary,
    transcript,
)

# 2: adds "sentiment", the customer's mood over the conversation.
# 3: adds "trigger", the customer's last message on a topic before the handoff.
PACKET_VERSION = 3


def escalation_packet(
    *,
    conversation_id: str,
    channel: str | None,
    events: Iterable[Mapping[str, Any]],
    slots: Mapping[str, Any],
    detail_slots: Iterable[str],
    customer: Mapping[str, Any],
    reason: str,
    decision: RoutingDecision,
    team_name: str | None,
) -> Dict[str, Any]:
    events = list(events)
    turns = transcript(events)
    return {
        "version": PACKET_VERSION,
        "conversation_id": conversation_id,
        "channel": channel,
        "customer": dict(customer),
        "reason": reason,
        "details": collected_details(slots, detail_slots),
        "transcript": turns,
        "sentiment": sentiment_summary(turns),
        "fallback_count": fallback_count(events),
        "trigger": escalation_trigger(events),
        "escalation_reasons": [
            {"type": item.type.value, "rule": item.rule, "detail": item.detail}
            for item in decision.reasons
        ],
        "priority": {"value": decision.priority, "rules": list(decision.priority_rules)},
        "suggested_team": {"key": decision.team, "name": team_name},
        "level": {"index": decision.level, "tier": decision.tier},
        "sla": {
            "first_response_due": decision.first_response_due.isoformat(),
            "resolution_due": decision.resolution_due.isoformat(),
        },
    }
