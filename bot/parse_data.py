"""Reading Rasa's parse data: what the customer's message was understood as."""

from __future__ import annotations

from typing import Any, Mapping

# The key of a ResponseSelector trained on every retrieval intent at once.
DEFAULT_SELECTOR = "default"


def full_intent_name(parse_data: Mapping[str, Any]) -> str:
    """The intent, with its retrieval part (faq/returns) when there is one."""
    intent_data = parse_data.get("intent") or {}
    intent = str(intent_data.get("name") or "")
    # Stories name it on the intent; the response selector's output names it in a live
    # parse, under the intent (config.yml has a selector per retrieval intent) or, for a
    # selector trained on all retrieval intents, "default".
    if intent_data.get("full_retrieval_intent_name"):
        return str(intent_data["full_retrieval_intent_name"])
    selector = parse_data.get("response_selector") or {}
    for key in (intent, DEFAULT_SELECTOR):
        retrieval = ((selector.get(key) or {}).get("response") or {}).get("intent_response_key")
        if isinstance(retrieval, str) and retrieval.startswith(f"{intent}/"):
            return retrieval
    return intent
