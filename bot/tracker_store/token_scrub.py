"""Customer tokens never rest in the tracker store; this removes the ones already there.

The webchat channel attaches the customer's signed token (a bearer credential
for their account data until it expires) to each message's metadata, because
the action server checks it again for the turn in progress. Rasa would store
that metadata with the user event, and copy it into the
`session_started_metadata` slot. `TunedSQLTrackerStore` removes it from every
event it saves (`scrub_event`); `scrub_stored_tokens` removes it from the
events saved before that, once: the store runs it when it opens a database
that has not been scrubbed yet (every `bot run`, `rasa run`), and records that
in the table `baton_tracker_maintenance`, so later starts cost one query.
`python -m connectors.token_scrub` runs it again by hand.

It is idempotent: a scrubbed event has nothing left to remove.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.constants import METADATA_CUSTOMER_TOKEN

logger = logging.getLogger(__name__)

MAINTENANCE_TABLE = "baton_tracker_maintenance"
SCRUB_TASK = "scrub_customer_tokens"
BATCH_ROWS = 500
# How the key appears in a stored event's JSON (json.dumps' default separators).
_STORED_KEY = f'%"{METADATA_CUSTOMER_TOKEN}"%'


def scrub_event(data: Any) -> bool:
    """Remove every customer token from an event's dict, in place; True if one was there.

    Every level is searched, not only `metadata`: the token is copied into
    slot values (`session_started_metadata`, and the slots a new session
    carries over), and a future Rasa may copy metadata elsewhere.
    """
    changed = False
    if isinstance(data, dict):
        if METADATA_CUSTOMER_TOKEN in data:
            del data[METADATA_CUSTOMER_TOKEN]
            changed = True
        for value in data.values():
            changed = scrub_event(value) or changed
    elif isinstance(data, list):
        for value in data:
            changed = scrub_event(value) or changed
    return changed


def _maintenance_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        MAINTENANCE_TABLE,
        metadata,
        sa.Column("task", sa.String(64), primary_key=True),
        sa.Column("done_at", sa.Float, nullable=False),
        sa.Column("rows_changed", sa.Integer, nullable=False),
    )


def scrub_stored_tokens(store: Any, force: bool = False) -> int | None:
    """Remove customer tokens from the events a `SQLTrackerStore` already holds.

    Args:
        store: Rasa's `SQLTrackerStore` (or a subclass): its engine and event table are used.
        force: Scrub even when the database says it was done already.

    Returns:
        How many events were changed, or None when it had been done already.
    """
    table = _maintenance_table(sa.MetaData())
    table.create(store.engine, checkfirst=True)
    with store.engine.connect() as connection:
        done = connection.execute(sa.select(table.c.task).where(table.c.task == SCRUB_TASK)).first()
    if done is not None and not force:
        return None
    changed = _scrub_rows(store)
    with store.engine.begin() as connection:
        connection.execute(table.delete().where(table.c.task == SCRUB_TASK))
        try:
            connection.execute(
                table.insert().values(task=SCRUB_TASK, done_at=time.time(), rows_changed=changed)
            )
        except IntegrityError:  # another replica finished the same scrub at the same moment
            pass
    logger.info("tracker_store.tokens_scrubbed events=%d", changed)
    return changed


def _scrub_rows(store: Any) -> int:
    events = store.SQLEvent
    changed = 0
    last_id = 0
    while True:
        # Batches by id: the LIKE narrows the scan to rows that may hold a token,
        # and memory stays bounded whatever the size of the table.
        with store.session_scope() as session:
            rows: Sequence[Any] = (
                session.execute(
                    sa.select(events)
                    .where(events.id > last_id, events.data.like(_STORED_KEY))
                    .order_by(events.id)
                    .limit(BATCH_ROWS)
                )
                .scalars()
                .all()
            )
            if not rows:
                return changed
            for row in rows:
                data = json.loads(row.data)
                if scrub_event(data):
                    row.data = json.dumps(data)
                    changed += 1
            last_id = rows[-1].id
            session.commit()
