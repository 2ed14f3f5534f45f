"""The desk's named events: what consoles and customers' widgets are told, and their shape.

Two audiences, two transports:

- consoles, over the desk's live socket (JSON objects with a `type`, docs/desk.md);
- the customer's widget, over the webchat channel's socket.io (an event name and a
  JSON payload, docs/webchat.md).

Events are plain dicts built by the small functions below: the JSON is the truth,
and each name is written once here.
"""

from __future__ import annotations

from typing import Any, Dict, Final

from bot.calls.protocol import CALL_EVENT
from bot.tickets.states import CONVERSATION_QUEUED, CONVERSATION_RESOLVED

# --- To consoles (the live socket's `type`) ---------------------------------------
CONSOLE_MESSAGE: Final = "message"
CONSOLE_TYPING: Final = "typing"
CONSOLE_QUEUE_CHANGED: Final = "queue_changed"
CONSOLE_CONVERSATION_CHANGED: Final = "conversation_changed"
CONSOLE_OFFER: Final = "offer"
CONSOLE_ERROR: Final = "error"
CONSOLE_PONG: Final = "pong"
# From a console: the keep-alive it sends every 25 s.
CONSOLE_PING: Final = "ping"

# --- To the customer's widget (socket.io event names) ------------------------------
CUSTOMER_BOT_MESSAGE: Final = "bot_uttered"
CUSTOMER_STATUS: Final = "baton_status"
CUSTOMER_TYPING: Final = "baton_typing"
CUSTOMER_CALL: Final = CALL_EVENT

# The `state` of a CUSTOMER_STATUS event.
STATUS_QUEUED: Final = CONVERSATION_QUEUED
STATUS_AGENT_JOINED: Final = "agent_joined"
STATUS_RESOLVED: Final = CONVERSATION_RESOLVED
STATUS_BACK_TO_BOT: Final = "back_to_bot"

# Who typed, in a CONSOLE_TYPING event.
SENDER_CUSTOMER: Final = "customer"

Event = Dict[str, Any]


# --- Console events ----------------------------------------------------------------


def console_message(conversation_id: str, message: Dict[str, Any]) -> Event:
    """A message of the conversation, as the console shows it (bot.desk.views)."""
    return {"type": CONSOLE_MESSAGE, "conversation_id": conversation_id, "message": message}


def console_typing(conversation_id: str, sender: str, typing: bool) -> Event:
    return {
        "type": CONSOLE_TYPING,
        "conversation_id": conversation_id,
        "sender": sender,
        "typing": typing,
    }


def queue_changed(conversation_id: str | None = None) -> Event:
    """The queue moved; with the conversation that joined it when one did."""
    if conversation_id is None:
        return {"type": CONSOLE_QUEUE_CHANGED}
    return {"type": CONSOLE_QUEUE_CHANGED, "conversation_id": conversation_id}


def conversation_changed(conversation_id: str, state: str) -> Event:
    return {
        "type": CONSOLE_CONVERSATION_CHANGED,
        "conversation_id": conversation_id,
        "state": state,
    }


def offer(conversation_id: str, expires_at: str | None) -> Event:
    """A conversation offered to one agent until `expires_at` (ISO 8601)."""
    return {"type": CONSOLE_OFFER, "conversation_id": conversation_id, "expires_at": expires_at}


def console_error(status: int, message: str) -> Event:
    """Why the live socket closes (the same status the API would answer)."""
    return {"type": CONSOLE_ERROR, "status": status, "error": message}


def pong() -> Event:
    return {"type": CONSOLE_PONG}


# --- Customer events (payloads of the socket.io events above) -----------------------


def agent_joined(agent_name: str) -> Event:
    return {"state": STATUS_AGENT_JOINED, "agent_name": agent_name}


def resolved(agent_name: str) -> Event:
    return {"state": STATUS_RESOLVED, "agent_name": agent_name}


def back_to_bot() -> Event:
    return {"state": STATUS_BACK_TO_BOT}


def queued(position: int | None, wait_minutes: Any, team_name: str) -> Event:
    """A waiting customer's place in the queue and expected wait (None: unknown)."""
    return {
        "state": STATUS_QUEUED,
        "position": position,
        "wait_minutes": wait_minutes,
        "team_name": team_name,
    }


def agent_typing(typing: bool, agent_name: str) -> Event:
    return {"typing": typing, "agent_name": agent_name}


def agent_message(text: str, message_id: str, agent_name: str) -> Event:
    """An agent's message as the widget shows it (a bot message naming the agent)."""
    return {"text": text, "message_id": message_id, "baton": {"agent": {"name": agent_name}}}


def call_notice(text: str, message_id: Any, call: Any) -> Event:
    """A call's transcript line as the widget shows it (docs/calls.md 1.3.3)."""
    return {"text": text, "message_id": message_id, "baton": {"notice": "call", "call": call}}
