"""Building rasa_sdk trackers the way Rasa sends them to the action server."""

from __future__ import annotations

import itertools
from typing import Any, Dict, List

from rasa_sdk import Tracker

from bot.constants import (
    METADATA_CHANNEL,
    METADATA_CUSTOMER_ID,
    METADATA_CUSTOMER_TOKEN,
    WEBCHAT_CHANNEL,
)

_clock = itertools.count(1_700_000_000)


def user_event(
    text: str,
    intent: str,
    confidence: float = 0.95,
    entities: List[Dict[str, Any]] | None = None,
    metadata: Dict[str, Any] | None = None,
    message_id: str | None = None,
) -> Dict[str, Any]:
    timestamp = float(next(_clock))
    parse_data = {
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "text": text,
        "message_id": message_id or f"m{int(timestamp)}",
        "metadata": metadata or {},
    }
    return {
        "event": "user",
        "timestamp": timestamp,
        "text": text,
        "parse_data": parse_data,
        "input_channel": WEBCHAT_CHANNEL,
        "message_id": parse_data["message_id"],
        "metadata": metadata or {},
    }


def bot_event(text: str) -> Dict[str, Any]:
    return {"event": "bot", "timestamp": float(next(_clock)), "text": text, "data": {}}


def action_event(name: str) -> Dict[str, Any]:
    return {"event": "action", "timestamp": float(next(_clock)), "name": name}


def metadata_for(token: str | None, customer_id: str | None = None) -> Dict[str, Any]:
    metadata: Dict[str, Any] = {METADATA_CHANNEL: WEBCHAT_CHANNEL}
    if token:
        metadata[METADATA_CUSTOMER_TOKEN] = token
        metadata[METADATA_CUSTOMER_ID] = customer_id
    return metadata


def tracker(
    events: List[Dict[str, Any]],
    slots: Dict[str, Any] | None = None,
    sender_id: str = "c0ffee",
    active_loop: str | None = None,
) -> Tracker:
    """A tracker whose latest message is the last user event in `events`."""
    latest = next((event for event in reversed(events) if event["event"] == "user"), None)
    latest_message = dict(latest["parse_data"]) if latest else {}
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": slots or {},
            "latest_message": latest_message,
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
            "latest_input_channel": WEBCHAT_CHANNEL,
        }
    )
