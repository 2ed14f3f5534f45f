"""Customer tokens at rest: never saved in the tracker store, and scrubbed once from old events.

On SQLite and PostgreSQL (`database_url`). The token is a bearer credential
for the customer's account data: whoever reads the tracker store (a backup, an
analyst's export) must not be able to act as the customer with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url

from bot.constants import METADATA_CHANNEL, METADATA_CUSTOMER_ID, METADATA_CUSTOMER_TOKEN
from bot.tracker_store.sql import TunedSQLTrackerStore
from bot.tracker_store.token_scrub import scrub_stored_tokens
from connectors.token_scrub import main

DOMAIN = Domain.from_dict({"intents": ["greet"], "responses": {"utter_hi": [{"text": "hi"}]}})
TOKEN = "eyJhbGciOiJIUzI1NiJ9.secret-claims.signature"
SESSION_METADATA = "session_started_metadata"


def store_for(url: str, store_class: type = TunedSQLTrackerStore) -> SQLTrackerStore:
    """Rasa's SQL tracker store on the test's database, as endpoints.yml would configure it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return store_class(domain=DOMAIN, dialect="sqlite", db=parsed.database)
    return store_class(
        domain=DOMAIN,
        dialect="postgresql",
        host=parsed.host,
        port=parsed.port,
        db=parsed.database,
        username=parsed.username,
        password=parsed.password,
        query=dict(parsed.query),
    )


def a_verified_turn(sender_id: str) -> DialogueStateTracker:
    """What Rasa holds in memory during a verified customer's first turn."""
    metadata = {
        METADATA_CHANNEL: "webchat",
        METADATA_CUSTOMER_ID: "C-1001",
        METADATA_CUSTOMER_TOKEN: TOKEN,
    }
    return DialogueStateTracker.from_events(
        sender_id,
        [
            ActionExecuted("action_session_start"),
            SessionStarted(),
            SlotSet(SESSION_METADATA, dict(metadata)),
            ActionExecuted("action_listen"),
            UserUttered("what's my latest invoice?", {"name": "greet"}, metadata=dict(metadata)),
        ],
        slots=DOMAIN.slots,
    )


def stored_rows(store: SQLTrackerStore, sender_id: str) -> List[str]:
    with store.session_scope() as session:
        rows = session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender_id).all()
        return [row.data for row in rows]


async def test_a_saved_turn_keeps_everything_but_the_token(database_url):
    store = store_for(database_url)
    tracker = a_verified_turn("c1")
    await store.save(tracker)

    rows = stored_rows(store, "c1")
    assert rows and not any(METADATA_CUSTOMER_TOKEN in row for row in rows)
    # The turn in progress still has it: the action server is sent this tracker.
    assert tracker.latest_message is not None
    assert tracker.latest_message.metadata[METADATA_CUSTOMER_TOKEN] == TOKEN
    assert tracker.get_slot(SESSION_METADATA)[METADATA_CUSTOMER_TOKEN] == TOKEN

    again = await store.retrieve("c1")
    assert again is not None and again.latest_message is not None
    assert again.latest_message.metadata == {
        METADATA_CHANNEL: "webchat",
        METADATA_CUSTOMER_ID: "C-1001",
    }
    assert again.get_slot(SESSION_METADATA) == {
        METADATA_CHANNEL: "webchat",
        METADATA_CUSTOMER_ID: "C-1001",
    }


async def test_appended_events_are_scrubbed_too(database_url):
    store = store_for(database_url)
    store.append_events("c2", [UserUttered("hi", metadata={METADATA_CUSTOMER_TOKEN: TOKEN})])
    assert not any(METADATA_CUSTOMER_TOKEN in row for row in stored_rows(store, "c2"))


async def test_tokens_stored_before_are_scrubbed_once_when_the_store_opens(database_url):
    # What earlier versions stored: Rasa's own store writes the metadata as it is.
    old = store_for(database_url, SQLTrackerStore)
    await old.save(a_verified_turn("c3"))
    assert sum(METADATA_CUSTOMER_TOKEN in row for row in stored_rows(old, "c3")) == 2
    old.engine.dispose()

    store = store_for(database_url)  # `bot run` opening the store
    rows = stored_rows(store, "c3")
    assert len(rows) == 5 and not any(METADATA_CUSTOMER_TOKEN in row for row in rows)
    user = json.loads(rows[-1])
    assert user["text"] == "what's my latest invoice?"
    assert user["metadata"] == {METADATA_CHANNEL: "webchat", METADATA_CUSTOMER_ID: "C-1001"}

    # Done once: later starts only look at the record of it; a forced run finds nothing.
    assert scrub_stored_tokens(store) is None
    assert scrub_stored_tokens(store, force=True) == 0


def test_the_scrub_command_reads_the_endpoints_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    db = tmp_path / "tracker.db"
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "tracker_store:\n"
        "  type: connectors.tracker_store.TunedSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {db}\n"
    )
    assert main(["--endpoints", str(endpoints)]) == 0
    assert "removed from 0 stored events" in capsys.readouterr().out
