"""The desk's JSON: what the console receives for a handoff, a message, a note (docs/desk.md).

Pure functions from records and tracker events to dicts; no I/O.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Iterable, List

from bot.constants import METADATA_AGENT, METADATA_CALL
from bot.desk.records import AgentRecord
from bot.desk.service import Handoff, HistoryItem
from bot.escalation.engine import YamlEscalationPolicy
from bot.transcript import spoken_events

# Metadata key of the id the channel gives each message (customer and agent alike),
# so a console can show a message exactly once whether it came live or in a reload.
METADATA_MESSAGE_ID = "message_id"


def iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.timezone.utc).isoformat() if moment is not None else None


def from_timestamp(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return iso(dt.datetime.fromtimestamp(timestamp, dt.timezone.utc))


def ticket_json(handoff: Handoff, policy: YamlEscalationPolicy) -> Dict[str, Any]:
    team_keys = policy.config.team_keys
    return {
        "reference": handoff.reference,
        "status": handoff.status,
        "priority": handoff.priority,
        "team": handoff.team,
        "team_name": policy.config.team(handoff.team).name
        if handoff.team in team_keys
        else handoff.team,
        "level": handoff.level,
        "tier": handoff.tier,
        "category": handoff.category,
        "language": handoff.language,
        "first_response_due": iso(handoff.first_response_due),
        "resolution_due": iso(handoff.resolution_due),
        "first_response_at": iso(handoff.first_response_at),
        "resolved_at": iso(handoff.resolved_at),
        "created_at": iso(handoff.created_at),
        "assigned_agent": (
            {"id": handoff.assigned_agent_id, "name": handoff.assigned_agent_name}
            if handoff.assigned_agent_id is not None
            else None
        ),
        "reasons": _reasons(handoff.context),
    }


def summary_json(
    handoff: Handoff,
    policy: YamlEscalationPolicy,
    viewer: AgentRecord,
    last_message: Dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Dict[str, Any]:
    customer = handoff.context.get("customer") or {}
    offered = (
        handoff.offered_agent_id == viewer.id
        and handoff.offer_expires_at is not None
        and (now is None or handoff.offer_expires_at > now)
    )
    return {
        "conversation_id": handoff.conversation_id,
        "state": handoff.state,
        "customer": {
            "name": handoff.customer_name or customer.get("name"),
            "verified": bool(customer.get("verified")),
            "tier": handoff.customer_tier or customer.get("tier"),
            "customer_id": handoff.customer_external_id or customer.get("customer_id"),
        },
        "ticket": ticket_json(handoff, policy),
        "last_message": last_message,
        "waiting_since": iso(handoff.created_at),
        "offered_to_me": offered,
        "offer_expires_at": iso(handoff.offer_expires_at) if offered else None,
    }


def detail_json(
    handoff: Handoff,
    policy: YamlEscalationPolicy,
    viewer: AgentRecord,
    transcript: List[Dict[str, Any]],
    history: List[HistoryItem],
    now: dt.datetime | None = None,
) -> Dict[str, Any]:
    detail = summary_json(handoff, policy, viewer, transcript[-1] if transcript else None, now)
    detail["context"] = handoff.context
    detail["transcript"] = transcript
    detail["history"] = [history_json(item) for item in history if item.action != "note"]
    detail["notes"] = [note_json(item) for item in history if item.action == "note"]
    return detail


def history_json(item: HistoryItem) -> Dict[str, Any]:
    return {
        "at": iso(item.at),
        "actor": item.actor_name or item.actor,
        "action": item.action,
        "from": item.from_value,
        "to": item.to_value,
        "reason": item.reason,
        "type": item.escalation_type,
    }


def note_json(item: HistoryItem) -> Dict[str, Any]:
    agent_id = int(item.actor.split(":", 1)[1]) if item.actor.startswith("agent:") else None
    return {
        "at": iso(item.at),
        "agent": {"id": agent_id, "name": item.actor_name},
        "text": item.reason,
    }


def transcript(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Customer, bot and agent messages from a tracker's events, in order, for the agent."""
    messages: List[Dict[str, Any]] = []
    for event, text in spoken_events(events):
        kind = event.get("event")
        if kind == "user":
            messages.append(customer_message_json(event, text))
        elif kind == "bot" and (text or (event.get("data") or {}).get("buttons")):
            messages.append(bot_message_json(event))
    return messages


def customer_message_json(event: Dict[str, Any], text: str | None = None) -> Dict[str, Any]:
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    sentiment = parse.get("sentiment")
    return {
        "id": event.get("message_id") or (event.get("metadata") or {}).get(METADATA_MESSAGE_ID),
        "sender": "customer",
        "text": text if text is not None else event.get("text") or "",
        "at": from_timestamp(event.get("timestamp")),
        "agent": None,
        "intent": (
            {"name": intent.get("name"), "confidence": intent.get("confidence")}
            if intent.get("name")
            else None
        ),
        "sentiment": sentiment if isinstance(sentiment, dict) else None,
    }


def bot_message_json(event: Dict[str, Any]) -> Dict[str, Any]:
    metadata = event.get("metadata") or {}
    call = metadata.get(METADATA_CALL)
    if isinstance(call, dict):
        # A call's line (docs/calls.md 1.3.3): a system message, not the bot's nor an agent's.
        return {
            "id": metadata.get(METADATA_MESSAGE_ID),
            "sender": "system",
            "text": event.get("text") or "",
            "at": from_timestamp(event.get("timestamp")),
            "agent": None,
            "intent": None,
            "sentiment": None,
            "call": call,
        }
    agent = metadata.get(METADATA_AGENT)
    return {
        "id": metadata.get(METADATA_MESSAGE_ID),
        "sender": "agent" if agent else "bot",
        "text": event.get("text") or "",
        "at": from_timestamp(event.get("timestamp")),
        "agent": {"id": agent.get("id"), "name": agent.get("name")} if agent else None,
        "intent": None,
        "sentiment": None,
    }


def _reasons(context: Dict[str, Any]) -> List[Dict[str, Any]]:
    # The packet's `escalation_reasons` (bot/escalation/packet.py).
    reasons = context.get("escalation_reasons") or []
    return [
        {"type": reason.get("type"), "code": reason.get("rule"), "text": reason.get("detail")}
        for reason in reasons
        if isinstance(reason, dict)
    ]
