"""Rasa's SQL tracker store, with a SQLite file set up for a server.

Two changes to Rasa's `SQLTrackerStore`, both for the one event loop that parses
messages and relays them between customers and agents:

- Rasa 3.6 opens a SQLite tracker file with SQLAlchemy 1.4's defaults: a new
  connection per session (NullPool) in rollback-journal mode, so every message
  paid for a connect and for the fsyncs of a full-journal commit. On SQLite this
  store uses the engine Baton uses for its own data (`bot.db.make_engine`:
  pooled connections, WAL, synchronous=NORMAL). PostgreSQL keeps Rasa's engine.
- Rasa's `retrieve` and `save` are coroutines whose bodies never await: the
  query, the JSON and the tracker's reconstruction all ran on the event loop,
  and every other conversation waited. Here they run in a worker thread; the
  caller still awaits them, so the order of one conversation's reads and writes
  (guarded by Rasa's lock store) is unchanged.

It also appends events without reading the tracker first (`append_events`): the
agent desk writes each agent message that way, one INSERT instead of
reconstructing the whole conversation to add one line to it.

endpoints.yml: `tracker_store: {type: connectors.tracker_store.TunedSQLTrackerStore, ...}`
with the same keys as Rasa's `type: SQL`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Coroutine, Sequence, TypeVar

from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import sessionmaker

from bot.db import make_engine


class TunedSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore`; on SQLite, pooled connections in WAL mode."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            url = self.engine.url.render_as_string(hide_password=False)
            self.engine.dispose()
            self.engine = make_engine(url)
            self.sessionmaker = sessionmaker(bind=self.engine)

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        parent = super()._retrieve
        return await asyncio.to_thread(
            lambda: finish_without_awaiting(parent(sender_id, fetch_events_from_all_sessions))
        )

    async def save(self, tracker: DialogueStateTracker) -> None:
        if self.event_broker is not None:
            # Streaming to a broker awaits real I/O: keep Rasa's path as it is.
            await super().save(tracker)
            return
        parent = super().save
        await asyncio.to_thread(lambda: finish_without_awaiting(parent(tracker)))


    @property
    def can_append(self) -> bool:
        """Whether `append_events` may be used (not when a broker must see every event)."""
        return self.event_broker is None

    def append_events(self, sender_id: str, events: Sequence[Event]) -> None:
        """Add events at the end of a conversation, as `save` would store them.

        Blocking (call it from a worker thread). The caller holds the
        conversation's lock (Rasa's lock store), so no tracker read before this
        call can be saved over it.
        """
        if not self.can_append:
            raise RuntimeError("append_events can't stream to the event broker; use save")
        rows = [_row(sender_id, event) for event in events]
        with self.session_scope() as session:
            session.add_all([self.SQLEvent(**row) for row in rows])
            session.commit()


def appendable_store(store: TrackerStore | None) -> TunedSQLTrackerStore | None:
    """The `TunedSQLTrackerStore` inside Rasa's wrappers of a store, if it can append."""
    seen = 0
    while store is not None and seen < 5:
        if isinstance(store, TunedSQLTrackerStore):
            return store if store.can_append else None
        store = getattr(store, "_tracker_store", None)
        seen += 1
    return None


def _row(sender_id: str, event: Event) -> dict:
    # The columns Rasa's SQLTrackerStore.save writes for an event.
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": (data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


Result = TypeVar("Result")


def finish_without_awaiting(coroutine: Coroutine[Any, Any, Result]) -> Result:
    """Run a coroutine that never awaits to its end, outside any event loop.

    Raises:
        RuntimeError: it did await (a Rasa upgrade changed the method): the
            coroutine is closed, so the change is noticed, not silently half-run.
    """
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return finished.value
    coroutine.close()
    raise RuntimeError(f"{coroutine!r} awaited; it can't run in a worker thread")
