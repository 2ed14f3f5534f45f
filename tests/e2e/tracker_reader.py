"""Reading the server's tracker store from a test, once the server has written what is awaited.

The server saves a turn after it sent the turn's replies, so a test that saw a
reply may read the tracker a moment before the turn is there: it waits for
`ready` (a condition on the events), polling, with a deadline.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

WAIT_SECONDS = 30.0
POLL_SECONDS = 0.05

Events = List[Dict[str, Any]]


def tracker_events(tracker_db: Path, conversation_id: str) -> Events:
    with sqlite3.connect(tracker_db) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (conversation_id,)
        ).fetchall()
    return [json.loads(row[0]) for row in rows]


def tracker_events_when(
    tracker_db: Path, conversation_id: str, ready: Callable[[Events], bool]
) -> Events:
    """The conversation's events once `ready(events)`; the last read after the deadline."""
    deadline = time.monotonic() + WAIT_SECONDS
    events = tracker_events(tracker_db, conversation_id)
    while not ready(events) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)  # polling for a condition, not timing a behaviour
        events = tracker_events(tracker_db, conversation_id)
    return events
