"""The agent desk: console sessions, agent languages, ticket offers and language.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column(
            "agent_id",
            sa.Integer(),
            sa.ForeignKey("agents.id", name="fk_agent_sessions_agent_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("token_hash", name="uq_agent_sessions_token_hash"),
    )
    op.create_index("ix_agent_sessions_agent_id", "agent_sessions", ["agent_id"])
    # batch mode: SQLite cannot add a foreign key to an existing table in place.
    with op.batch_alter_table("agents") as agents:
        agents.add_column(
            sa.Column("languages", sa.String(64), nullable=False, server_default="en")
        )
        agents.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("tickets") as tickets:
        tickets.add_column(sa.Column("offered_agent_id", sa.Integer(), nullable=True))
        tickets.add_column(sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True))
        tickets.add_column(sa.Column("language", sa.String(8), nullable=False, server_default="en"))
        tickets.create_foreign_key(
            "fk_tickets_offered_agent_id",
            "agents",
            ["offered_agent_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets") as tickets:
        tickets.drop_constraint("fk_tickets_offered_agent_id", type_="foreignkey")
        tickets.drop_column("language")
        tickets.drop_column("offer_expires_at")
        tickets.drop_column("offered_agent_id")
    with op.batch_alter_table("agents") as agents:
        agents.drop_column("last_seen_at")
        agents.drop_column("languages")
    op.drop_index("ix_agent_sessions_agent_id", table_name="agent_sessions")
    op.drop_table("agent_sessions")
