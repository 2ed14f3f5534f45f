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

And customer tokens never rest in it: every event is saved (and streamed to a
broker) without the `customer_token` the webchat channel attached to the turn
(`bot.tracker_store.token_scrub`); the action server got the token with the tracker
Rasa sent it during the turn, before the save. Events stored before that are
scrubbed once, when the store first opens the database.

endpoints.yml: `tracker_store: {type: connectors.tracker_store.TunedSQLTrackerStore, ...}`
(the connector re-exports it from here) with the same keys as Rasa's `type: SQL`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Coroutine, Dict, List, Sequence, Tuple, TypeVar

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.constants import METADATA_CUSTOMER_TOKEN
from bot.db import make_engine
from bot.tracker_store.token_scrub import scrub_event, scrub_stored_tokens

logger = logging.getLogger(__name__)


# Rasa ships no type information: its SQLTrackerStore is `Any`, and there is no typed class
# to subclass instead.
class TunedSQLTrackerStore(SQLTrackerStore):  # type: ignore[misc]
    """`SQLTrackerStore`; on SQLite, pooled connections in WAL mode."""

    # Set by Rasa's `__init__`; replaced here on SQLite.
    engine: Engine

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (
            None,
            "",
            ":memory:",
        ):
            url = self.engine.url.render_as_string(hide_password=False)
            self.engine.dispose()
            self.engine = make_engine(url)
            self.sessionmaker = sessionmaker(bind=self.engine)
        try:
            scrub_stored_tokens(self)
        except Exception:  # a failed scrub must not keep the bot down; the next start retries
            logger.exception("tracker_store.token_scrub_failed")

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        parent = super()._retrieve
        return await asyncio.to_thread(
            lambda: finish_without_awaiting(parent(sender_id, fetch_events_from_all_sessions))
        )

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events, as Rasa's `save`, without customer tokens."""
        # Streaming to a broker awaits real I/O: on the loop, as Rasa does (tokens
        # are removed in `_stream_new_events`).
        await self.stream_events(tracker)
        await asyncio.to_thread(self._save_new_events, tracker)

    def _save_new_events(self, tracker: DialogueStateTracker) -> None:
        # Rasa's SQLTrackerStore.save body, with the rows of `_row`.
        with self.session_scope() as session:
            events = self._additional_events(session, tracker)
            session.add_all([self.SQLEvent(**_row(tracker.sender_id, event)) for event in events])
            session.commit()

    async def _stream_new_events(
        self, event_broker: EventBroker, new_events: List[Event], sender_id: str
    ) -> None:
        for event in new_events:
            body = {"sender_id": sender_id}
            body.update(_stored(event)[0])
            event_broker.publish(body)

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


def _stored(event: Event) -> Tuple[Dict[str, Any], str]:
    """What is stored of an event, as a dict and as JSON: all of it but customer tokens."""
    # `as_dict` shares the event's metadata and slot values: tokens are removed
    # from a copy, and the tracker in memory keeps them for the rest of the turn.
    data = event.as_dict()
    serialised = json.dumps(data)
    if METADATA_CUSTOMER_TOKEN in serialised:
        data = json.loads(serialised)
        scrub_event(data)
        serialised = json.dumps(data)
    return data, serialised


def _row(sender_id: str, event: Event) -> Dict[str, Any]:
    # The columns Rasa's SQLTrackerStore.save writes for an event.
    data, serialised = _stored(event)
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": (data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": serialised,
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
        result: Result = finished.value
        return result
    coroutine.close()
    raise RuntimeError(f"{coroutine!r} awaited; it can't run in a worker thread")
