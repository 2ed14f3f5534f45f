"""The context an agent needs, read from the conversation's tracker events.

Plain functions over Rasa's event dicts (the wire format), so the action server
and later the desk can build the same packet.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping

from bot.constants import (
    INTENT_AFFIRM,
    INTENT_BOT_CHALLENGE,
    INTENT_DENY,
    INTENT_GOODBYE,
    INTENT_GREET,
    INTENT_HANDOFF_RESOLVED,
    INTENT_HANDOFF_RETURNED,
    INTENT_INFORM,
    INTENT_NLU_FALLBACK,
    INTENT_OUT_OF_SCOPE,
    INTENT_RATE_SUPPORT,
    INTENT_REQUEST_HUMAN,
    INTENT_STOP,
    INTENT_THANK,
    METADATA_CALL,
    SLOT_CASE_CATEGORY,
    SLOT_CASE_URGENCY,
)
from bot.escalation.signals import SentimentReader, conversation_turns
from bot.escalation.types import CaseSignals
from bot.parse_data import full_intent_name
from bot.transcript import spoken_events

FALLBACK_INTENTS = (INTENT_NLU_FALLBACK, INTENT_OUT_OF_SCOPE)
# Messages that steer the conversation rather than say what it is about: the
# trigger of an escalation is the customer's last message on a topic before them.
_STEERING_INTENTS = frozenset(
    {
        INTENT_REQUEST_HUMAN,
        INTENT_AFFIRM,
        INTENT_DENY,
        INTENT_GREET,
        INTENT_GOODBYE,
        INTENT_THANK,
        INTENT_INFORM,
        INTENT_STOP,
        INTENT_BOT_CHALLENGE,
        INTENT_RATE_SUPPORT,
        INTENT_HANDOFF_RESOLVED,
        INTENT_HANDOFF_RETURNED,
    }
)
# A trigger's text is a sample for the root-cause report, not the transcript.
MAX_TRIGGER_TEXT = 500


def transcript(events: Iterable[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """Customer and bot turns with timestamps, intents and confidences."""
    turns: List[Dict[str, Any]] = []
    # Events are Mappings here; spoken_events only reads them.
    for event, text in spoken_events(events):  # type: ignore[arg-type]  # a Mapping, only read
        kind = event.get("event")
        if kind == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            turns.append(
                {
                    "sender": "customer",
                    "text": text,
                    "timestamp": event.get("timestamp"),
                    "intent": intent.get("name"),
                    "confidence": intent.get("confidence"),
                    # From the sentiment component (bot/rasa_components): the agent
                    # sees the customer's mood message by message.
                    "sentiment": (event.get("parse_data") or {}).get("sentiment"),
                }
            )
        elif kind == "bot" and text:
            # A call's line is the system's, not something the bot said.
            sender = (
                "system"
                if isinstance((event.get("metadata") or {}).get(METADATA_CALL), dict)
                else "bot"
            )
            turns.append({"sender": sender, "text": text, "timestamp": event.get("timestamp")})
    return turns


def escalation_trigger(events: Iterable[Mapping[str, Any]]) -> Dict[str, Any]:
    """What the conversation was about when it escalated: the customer's last message
    on a topic (not "yes", "a person please" or a form answer), with its intent
    (`faq/returns` for an FAQ question); the last message of all when every one steers.

    The metrics group escalations by it (root causes: which intents, FAQ answers and
    misunderstood messages most often come right before a person is needed).
    """
    last: Dict[str, Any] | None = None
    for event in reversed(list(events)):
        if event.get("event") != "user":
            continue
        parse_data = event.get("parse_data") or {}
        text = str(event.get("text") or "")
        intent = full_intent_name(parse_data) or None
        if text.startswith("/"):
            continue  # a button's payload, not the customer's words
        found = {"intent": intent, "text": text[:MAX_TRIGGER_TEXT]}
        last = last or found
        if intent not in _STEERING_INTENTS:
            return found
    return last or {"intent": None, "text": None}


def sentiment_summary(turns: Iterable[Mapping[str, Any]]) -> Dict[str, Any]:
    """The customer's mood over a `transcript()`: each message's score, oldest first
    (None where a message was not scored), how many were frustrated, and the latest label."""
    scored = [turn.get("sentiment") for turn in turns if turn.get("sender") == "customer"]
    known = [s for s in scored if isinstance(s, Mapping)]
    return {
        "trajectory": [s.get("compound") if isinstance(s, Mapping) else None for s in scored],
        "frustrated_messages": sum(1 for s in known if s.get("frustrated") is True),
        "latest": known[-1].get("label") if known else None,
    }


def fallback_count(events: Iterable[Mapping[str, Any]]) -> int:
    """How many customer turns in the conversation the bot did not understand."""
    return sum(
        1
        for event in events
        if event.get("event") == "user"
        and ((event.get("parse_data") or {}).get("intent") or {}).get("name") in FALLBACK_INTENTS
    )


def collected_details(slots: Mapping[str, Any], names: Iterable[str]) -> Dict[str, Any]:
    """The case details collected so far, leaving out the empty ones."""
    return {name: slots.get(name) for name in names if slots.get(name) is not None}


def latest_user_turn_key(events: Iterable[Mapping[str, Any]]) -> str | None:
    """A stable id of the latest customer turn: its message id, else its timestamp."""
    for event in reversed(list(events)):
        if event.get("event") == "user":
            message_id = event.get("message_id") or (event.get("parse_data") or {}).get(
                "message_id"
            )
            if message_id:
                return str(message_id)
            return f"ts:{event.get('timestamp')}"
    return None


def customer_turns(events: Iterable[Mapping[str, Any]]) -> List[Mapping[str, Any]]:
    return [event for event in events if event.get("event") == "user"]


def case_signals(
    events: Iterable[Mapping[str, Any]],
    slots: Mapping[str, Any],
    customer_tier: str | None,
    customer_requested: bool,
    analyze: SentimentReader | None = None,
) -> CaseSignals:
    """What the escalation policy needs to know, read from the conversation."""
    events = list(events)
    turns = customer_turns(events)
    return CaseSignals(
        texts=tuple(str(turn.get("text") or "") for turn in turns),
        intents=tuple(
            str(((turn.get("parse_data") or {}).get("intent") or {}).get("name") or "")
            for turn in turns
        ),
        category=slots.get(SLOT_CASE_CATEGORY),
        urgency=slots.get(SLOT_CASE_URGENCY),
        customer_tier=customer_tier,
        customer_requested=customer_requested,
        turns=tuple(conversation_turns(events, analyze)),
    )
