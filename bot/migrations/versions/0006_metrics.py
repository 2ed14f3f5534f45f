"""Metrics: what each ticket is filed under, and indexes for reading a period.

Adds the columns the escalation metrics group by (copied out of the context packet
so a report never parses thousands of JSON documents), fills them for the tickets
already there, and indexes conversations and tickets by creation time.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# As bot.escalation.types.CAUSE_PRECEDENCE when this migration was written: a
# migration keeps its own copy, so later changes to the code don't rewrite history.
_CAUSE_PRECEDENCE = (
    "sentiment",
    "automatic",
    "customer_initiated",
    "priority",
    "hierarchical",
    "functional",
)


def upgrade() -> None:
    with op.batch_alter_table("tickets") as tickets:
        tickets.add_column(sa.Column("escalation_type", sa.String(32), nullable=True))
        tickets.add_column(sa.Column("escalation_reason", sa.String(64), nullable=True))
        tickets.add_column(sa.Column("trigger_intent", sa.String(128), nullable=True))
        tickets.add_column(sa.Column("trigger_text", sa.Text(), nullable=True))
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])
    op.create_index("ix_conversations_created_at", "conversations", ["created_at"])
    _fill_existing_tickets()


def downgrade() -> None:
    op.drop_index("ix_conversations_created_at", table_name="conversations")
    op.drop_index("ix_tickets_created_at", table_name="tickets")
    with op.batch_alter_table("tickets") as tickets:
        tickets.drop_column("trigger_text")
        tickets.drop_column("trigger_intent")
        tickets.drop_column("escalation_reason")
        tickets.drop_column("escalation_type")


def _fill_existing_tickets() -> None:
    connection = op.get_bind()
    tickets = sa.table(
        "tickets",
        sa.column("id", sa.Integer),
        sa.column("context", sa.Text),
        sa.column("escalation_type", sa.String),
        sa.column("escalation_reason", sa.String),
        sa.column("trigger_intent", sa.String),
        sa.column("trigger_text", sa.Text),
    )
    rows = connection.execute(sa.select(tickets.c.id, tickets.c.context)).fetchall()
    for row in rows:
        values = _filed_under(row.context)
        if values:
            connection.execute(sa.update(tickets).where(tickets.c.id == row.id).values(**values))


def _filed_under(raw_context: object) -> dict[str, str | None]:
    try:
        context = json.loads(raw_context) if isinstance(raw_context, str) else raw_context
    except ValueError:
        return {}
    if not isinstance(context, dict):
        return {}
    values: dict[str, str | None] = {}
    reasons = [r for r in context.get("escalation_reasons") or [] if isinstance(r, dict)]
    for kind in _CAUSE_PRECEDENCE:
        cause = next((r for r in reasons if r.get("type") == kind), None)
        if cause is not None:
            values["escalation_type"] = kind
            values["escalation_reason"] = str(cause.get("rule") or "")[:64] or None
            break
    # Packets before version 3 have no trigger: the last customer message stands in.
    customer_turns = [
        turn
        for turn in context.get("transcript") or []
        if isinstance(turn, dict) and turn.get("sender") == "customer"
    ]
    if customer_turns:
        values["trigger_intent"] = str(customer_turns[-1].get("intent") or "") or None
        values["trigger_text"] = str(customer_turns[-1].get("text") or "")[:500] or None
    return values
