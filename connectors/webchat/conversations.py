"""The Rasa side of a conversation as the channel reads it: its events and the NLU."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.shared.core.trackers import EventVerbosity
from sanic import Sanic

# How often a read waits for a conversation's lock (Rasa's default, a second, is a chat's eternity).
LOCK_POLL_SECONDS = 0.01


class RasaConversations:
    """Rasa's agent of the app the channel is registered on (none until then)."""

    def __init__(self) -> None:
        self.app: Sanic | None = None

    def agent(self) -> Any:
        """Rasa's `Agent`, or None (no app yet, or no model loaded)."""
        return getattr(self.app.ctx, "agent", None) if self.app else None

    async def events(self, session_id: str) -> List[Dict[str, Any]] | None:
        """The conversation's events, or None when the tracker store does not hold it."""
        agent = self.agent()
        if agent is None or agent.tracker_store is None:
            return None
        # Under the conversation's lock: a turn's replies go out before the turn
        # is saved, and a page reloaded in between must not miss that turn.
        async with agent.lock_store.lock(session_id, wait_time_in_seconds=LOCK_POLL_SECONDS):
            tracker = await agent.tracker_store.retrieve(session_id)
        if tracker is None:
            return None
        return tracker.current_state(EventVerbosity.ALL).get("events") or []
