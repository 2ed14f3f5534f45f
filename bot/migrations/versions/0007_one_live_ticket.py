"""One live ticket per conversation: a partial unique index on tickets.conversation_id.

A conversation that already has a ticket in the queue (`open`) or with an agent
(`assigned`) must not get a second one: two live tickets would be offered to two
agents, who would both talk to the same customer. The store used to prevent it
only by its idempotency key (one ticket per customer turn), which a replayed or
forged action call with another turn gets around. From this revision the
database refuses it, on SQLite and PostgreSQL alike (both support partial
indexes), and the store answers a second handoff with the live ticket.

Databases that already hold such duplicates keep, per conversation, the ticket
an agent holds (else the oldest, the first in the queue) and close the others
with a history row naming the ticket kept.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import datetime as dt
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# As bot.store.tickets.LIVE_STATUSES when this migration was written: a migration
# keeps its own copy, so later changes to the code don't rewrite history.
_LIVE_WHERE = "status IN ('open', 'assigned')"
INDEX_NAME = "uq_tickets_live_conversation"


def upgrade() -> None:
    _close_duplicate_live_tickets()
    op.create_index(
        INDEX_NAME,
        "tickets",
        ["conversation_id"],
        unique=True,
        sqlite_where=sa.text(_LIVE_WHERE),
        postgresql_where=sa.text(_LIVE_WHERE),
    )


def downgrade() -> None:
    # The tickets closed on the way up stay closed: which one was a duplicate is history.
    op.drop_index(INDEX_NAME, table_name="tickets")


def _close_duplicate_live_tickets() -> None:
    connection = op.get_bind()
    tickets = sa.table(
        "tickets",
        sa.column("id", sa.Integer),
        sa.column("reference", sa.String),
        sa.column("conversation_id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("resolved_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    history = sa.table(
        "ticket_history",
        sa.column("ticket_id", sa.Integer),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor", sa.String),
        sa.column("action", sa.String),
        sa.column("from_value", sa.String),
        sa.column("to_value", sa.String),
        sa.column("reason", sa.Text),
    )
    rows = connection.execute(
        sa.select(tickets.c.id, tickets.c.reference, tickets.c.conversation_id, tickets.c.status)
        .where(tickets.c.status.in_(("open", "assigned")))
        .order_by(tickets.c.conversation_id, tickets.c.id)
    ).fetchall()
    by_conversation: dict[object, list[Any]] = {}
    for row in rows:
        by_conversation.setdefault(row.conversation_id, []).append(row)
    now = dt.datetime.now(dt.timezone.utc)
    if connection.dialect.name == "sqlite":
        # As bot.store.models.UTCDateTime stores it there: naive UTC text.
        now = now.replace(tzinfo=None)
    for live in by_conversation.values():
        if len(live) < 2:
            continue
        # The ticket a person holds wins; among queued ones, the first in the queue.
        kept = next((row for row in live if row.status == "assigned"), live[0])
        for row in live:
            if row.id == kept.id:
                continue
            connection.execute(
                sa.update(tickets)
                .where(tickets.c.id == row.id)
                .values(status="closed", resolved_at=now, updated_at=now)
            )
            connection.execute(
                sa.insert(history),
                {
                    "ticket_id": row.id,
                    "at": now,
                    "actor": "migration",
                    "action": "closed",
                    "from_value": row.status,
                    "to_value": "closed",
                    "reason": f"duplicate of {kept.reference}: one live ticket per conversation",
                },
            )
