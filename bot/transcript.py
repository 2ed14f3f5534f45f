"""The customer-visible transcript, derived from a Rasa tracker's events.

The tracker store holds the one transcript; this turns its event dicts into
the messages the widget shows after a page reload. Only user and bot
utterances are shown: slots, actions and NLU details stay server-side.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Iterator, List, Tuple

from bot.constants import METADATA_AGENT, METADATA_CALL, METADATA_CUSTOMER_ID

# Rasa's marker on a user event nobody typed (`trigger_intent`, the desk's resume).
METADATA_IS_EXTERNAL = "is_external"


def spoken_events(events: Iterable[Dict[str, Any]]) -> Iterator[Tuple[Dict[str, Any], str]]:
    """The user and bot events a person said or saw, each with the text they saw.

    Skips user events Rasa made up (external triggers), and shows a button click
    as the button's title ("4"), not its payload (`/rate_support{...}`).
    """
    button_titles: Dict[str, str] = {}
    for event in events:
        kind = event.get("event")
        if kind == "user":
            text = event.get("text")
            if not text or (event.get("metadata") or {}).get(METADATA_IS_EXTERNAL):
                continue
            yield event, button_titles.get(text, text)
        elif kind == "bot":
            data = event.get("data") or {}
            buttons = data.get("buttons") or data.get("quick_replies") or []
            button_titles = {
                button.get("payload", ""): button.get("title", "") for button in buttons
            }
            yield event, event.get("text") or ""


def visible_messages(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """User and bot messages, in tracker order, in the widget's history format."""
    messages: List[Dict[str, Any]] = []
    for event, text in spoken_events(events):
        kind = event.get("event")
        if kind == "user":
            messages.append({"sender": "user", "text": text, "timestamp": event.get("timestamp")})
        elif kind == "bot":
            message = _bot_message(event)
            if message is not None:
                messages.append(message)
    return messages


def _bot_message(event: Dict[str, Any]) -> Dict[str, Any] | None:
    data = event.get("data") or {}
    text = event.get("text")
    call = (event.get("metadata") or {}).get(METADATA_CALL)
    if isinstance(call, dict):
        # A call's line (docs/calls.md 1.3.3): the widget shows it as a system line.
        return {
            "sender": "system",
            "text": text or "",
            "timestamp": event.get("timestamp"),
            "call": call,
        }
    buttons = data.get("buttons") or data.get("quick_replies") or []
    image = data.get("image")
    if not text and not buttons and not image:
        return None
    message: Dict[str, Any] = {
        "sender": "bot",
        "text": text or "",
        "timestamp": event.get("timestamp"),
    }
    if buttons:
        message["buttons"] = [
            {"title": button.get("title", ""), "payload": button.get("payload", "")}
            for button in buttons
        ]
    if image:
        message["image"] = image
    agent = (event.get("metadata") or {}).get(METADATA_AGENT)
    if isinstance(agent, dict) and agent.get("name"):
        # Written by a person at the desk: the widget labels it with their name.
        message["agent"] = {"name": agent["name"]}
    return message


def conversation_owner(events: Iterable[Dict[str, Any]]) -> str | None:
    """The verified customer who last spoke in a conversation, if any."""
    owner: str | None = None
    for event in events:
        if event.get("event") == "user":
            customer_id = (event.get("metadata") or {}).get(METADATA_CUSTOMER_ID)
            if customer_id:
                owner = customer_id
    return owner
