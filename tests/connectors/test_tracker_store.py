"""The tuned tracker store: Rasa's SQL tracker store on a pooled WAL SQLite file, off the loop."""

from __future__ import annotations

import asyncio
import threading

from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store.sql import TunedSQLTrackerStore, appendable_store

DOMAIN = Domain.from_dict({"intents": ["greet"], "responses": {"utter_hi": [{"text": "hi"}]}})


def store_at(tmp_path) -> TunedSQLTrackerStore:
    return TunedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))


async def test_saves_and_retrieves_like_rasas_store_in_wal_mode(tmp_path):
    store = store_at(tmp_path)
    tracker = DialogueStateTracker.from_events("c1", [UserUttered("hello", {"name": "greet"})])
    await store.save(tracker)
    tracker.update(BotUttered("hi there"))
    await store.save(tracker)

    again = await store.retrieve("c1")
    assert [event.type_name for event in again.events] == ["user", "bot"]
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert await store.retrieve("nobody") is None


async def test_reads_and_writes_leave_the_event_loop(tmp_path):
    store = store_at(tmp_path)
    loop_thread = threading.get_ident()
    seen = []
    original = store.session_scope

    def recording_scope():
        seen.append(threading.get_ident())
        return original()

    store.session_scope = recording_scope  # type: ignore[method-assign]
    await store.save(DialogueStateTracker.from_events("c2", [UserUttered("hey")]))
    await store.retrieve("c2")
    assert seen and loop_thread not in seen


async def test_appended_events_are_in_the_tracker_in_order(tmp_path):
    store = store_at(tmp_path)
    await store.save(DialogueStateTracker.from_events("c3", [UserUttered("first")]))
    wrapped = FailSafeTrackerStore(store)
    appender = appendable_store(wrapped)
    assert appender is store
    await asyncio.to_thread(
        appender.append_events,
        "c3",
        [BotUttered("from Sam", metadata={"agent": {"id": 1, "name": "Sam"}}), BotUttered("again")],
    )
    tracker = await store.retrieve("c3")
    assert [(event.type_name, getattr(event, "text", None)) for event in tracker.events] == [
        ("user", "first"),
        ("bot", "from Sam"),
        ("bot", "again"),
    ]
    assert tracker.events[1].metadata["agent"] == {"id": 1, "name": "Sam"}
    # A later save by Rasa adds after them and duplicates nothing.
    tracker.update(UserUttered("then me"))
    await store.save(tracker)
    assert [event.type_name for event in (await store.retrieve("c3")).events] == [
        "user",
        "bot",
        "bot",
        "user",
    ]
