"""Reading Rasa's parse data: what the customer's message was understood as."""

from __future__ import annotations

from typing import Any, Mapping

# The key of a ResponseSelector trained on every retrieval intent at once.
DEFAULT_SELECTOR = "default"


def selected_response(parse_data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ResponseSelector's top answer for the parsed intent ({"intent_response_key":
    "faq/returns", "confidence": ...}), or None when the intent has no selected answer."""
    return selected_response_for(
        parse_data, str((parse_data.get("intent") or {}).get("name") or "")
    )


def selected_response_for(parse_data: Mapping[str, Any], intent: str) -> Mapping[str, Any] | None:
    """The ResponseSelector's top answer under `intent` (`faq`), or None when no
    selector answered with one of that intent's responses."""
    # Under the intent's own key (config.yml has a selector per retrieval intent) or,
    # for a selector trained on all retrieval intents, "default".
    selector = parse_data.get("response_selector") or {}
    for key in (intent, DEFAULT_SELECTOR):
        response = (selector.get(key) or {}).get("response") or {}
        retrieval = response.get("intent_response_key")
        if isinstance(retrieval, str) and retrieval.startswith(f"{intent}/"):
            return response
    return None


def full_intent_name(parse_data: Mapping[str, Any]) -> str:
    """The intent, with its retrieval part (faq/returns) when there is one."""
    intent_data = parse_data.get("intent") or {}
    # Stories name it on the intent; a live parse names it in the selector's answer.
    if intent_data.get("full_retrieval_intent_name"):
        return str(intent_data["full_retrieval_intent_name"])
    response = selected_response(parse_data)
    return str(response["intent_response_key"]) if response else str(intent_data.get("name") or "")
