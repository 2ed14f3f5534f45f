"""The open sockets: which conversation each shows, and from which client address."""

from __future__ import annotations

from collections import OrderedDict
from typing import Dict, Generic, List, Set, TypeVar

# Conversations whose verified owner is remembered in memory (the tracker knows the
# rest once they have spoken), and server-issued session ids not yet in the tracker.
MAX_REMEMBERED_SESSIONS = 50_000
# What the logs show of a session id: enough to follow one conversation, too little to join it.
SESSION_LOG_PREFIX = 8

Value = TypeVar("Value")


class Recent(Generic[Value]):
    """A dict of at most `max_items` entries that forgets the least recently set first."""

    def __init__(self, max_items: int = MAX_REMEMBERED_SESSIONS) -> None:
        self.max_items = max_items
        self._items: OrderedDict[str, Value] = OrderedDict()

    def set(self, key: str, value: Value) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    def get(self, key: str) -> Value | None:
        return self._items.get(key)


class OpenSockets:
    """sid -> client address of every open socket, sid -> session of every confirmed one."""

    def __init__(self) -> None:
        self._address_of_sid: Dict[str, str] = {}
        self._session_of_sid: Dict[str, str] = {}

    def opened(self, sid: str, address: str) -> None:
        self._address_of_sid[sid] = address

    def shows(self, sid: str, session_id: str) -> None:
        """The socket's session was confirmed (it shows this conversation now)."""
        self._session_of_sid[sid] = session_id

    def closed(self, sid: str) -> str | None:
        """Forget a socket; the session it showed, if it had one."""
        self._address_of_sid.pop(sid, None)
        return self._session_of_sid.pop(sid, None)

    def showing(self, session_id: str) -> List[str]:
        """The sockets showing a conversation now."""
        return [sid for sid, shown in self._session_of_sid.items() if shown == session_id]

    def addresses_of(self, session_id: str) -> Set[str]:
        """The client addresses of the sockets showing a conversation now."""
        return {
            self._address_of_sid[sid]
            for sid, shown in self._session_of_sid.items()
            if shown == session_id and sid in self._address_of_sid
        }


def short(session_id: str) -> str:
    """What the logs show of a session id."""
    # A session id is the bearer secret of a guest's conversation: logs show its start only.
    return session_id[:SESSION_LOG_PREFIX] + "…"
