"""Calls: one video call or screen share per row, bound to the conversation's ticket.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "conversation_id",
            sa.Integer(),
            sa.ForeignKey("conversations.id", name="fk_calls_conversation_id"),
            nullable=False,
        ),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", name="fk_calls_ticket_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "agent_id",
            sa.Integer(),
            sa.ForeignKey("agents.id", name="fk_calls_agent_id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("media", sa.String(8), nullable=False),
        sa.Column("provider", sa.String(8), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("started_by", sa.String(64), nullable=False),
        sa.Column("customer_sid", sa.String(64), nullable=True),
        sa.Column("agent_connection", sa.String(32), nullable=True),
        sa.Column("room", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("ended_by", sa.String(64), nullable=True),
        sa.CheckConstraint("media IN ('video', 'screen')", name="ck_calls_media"),
        sa.CheckConstraint("provider IN ('webrtc', 'jitsi')", name="ck_calls_provider"),
        sa.CheckConstraint(
            "state IN ('requested', 'inviting', 'connecting', 'active', 'ended')",
            name="ck_calls_state",
        ),
    )
    op.create_index(
        "uq_calls_live_conversation",
        "calls",
        ["conversation_id"],
        unique=True,
        sqlite_where=sa.text("state <> 'ended'"),
        postgresql_where=sa.text("state <> 'ended'"),
    )
    op.create_index("ix_calls_state_expires_at", "calls", ["state", "expires_at"])
    op.create_index("ix_calls_agent_id", "calls", ["agent_id"])


def downgrade() -> None:
    op.drop_index("ix_calls_agent_id", table_name="calls")
    op.drop_index("ix_calls_state_expires_at", table_name="calls")
    op.drop_index("uq_calls_live_conversation", table_name="calls")
    op.drop_table("calls")
