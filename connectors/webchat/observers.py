"""Who hears about customer activity: the agent desk, through these two interfaces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Protocol

# Whether a conversation id or a client address is blocked (the desk's blocks, bot.desk.blocks).
BlockCheck = Callable[[str | None, str | None], bool]


class ConversationObserver(Protocol):
    """Told about customer activity; the agent desk relays it to the person handling it."""

    async def before_customer_message(
        self, session_id: str, message_id: str, text: str, at: float
    ) -> None:
        """A message is about to be handled (logged, parsed, answered unless paused)."""

    async def after_customer_message(self, session_id: str, message_id: str) -> None:
        """The message is in the tracker and the bot's turn, if any, is over."""

    async def customer_typing(self, session_id: str, typing: bool) -> None:
        """The customer started or stopped typing."""


class CallObserver(Protocol):
    """Told about call signals and the sockets calls are bound to (docs/calls.md 1.2)."""

    async def customer_call_signal(self, session_id: str, sid: str, data: Dict[str, Any]) -> None:
        """A `baton_call` payload from a socket with a confirmed session."""

    async def customer_socket_closed(self, session_id: str, sid: str) -> None:
        """A socket that had a session disconnected."""

    async def customer_session_started(self, session_id: str, sid: str) -> None:
        """A socket's session was confirmed and its history sent."""


@dataclass
class Listeners:
    """What the desk plugs into the channel when it starts; None: nobody listens (or blocks)."""

    observer: ConversationObserver | None = None
    call_observer: CallObserver | None = None
    blocks: BlockCheck | None = None

    def blocked(self, session_id: str | None, address: str | None) -> bool:
        """Whether the desk blocked this conversation or this client address."""
        return self.blocks is not None and self.blocks(session_id, address)
