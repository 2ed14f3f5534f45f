"""Tickets: customers, conversations, teams, agents, tickets, their history and CSAT.

`handoff_requests` (0001) is left alone here; 0003 drops it, tickets having replaced it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("tier", sa.String(32), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.UniqueConstraint("external_id", name="uq_customers_external_id"),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column(
            "customer_id",
            sa.Integer(),
            sa.ForeignKey("customers.id", name="fk_conversations_customer_id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("state", sa.String(16), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.UniqueConstraint("sender_id", name="uq_conversations_sender_id"),
        sa.CheckConstraint(
            _one_of("state", ("bot", "queued", "with_agent", "resolved")),
            name="ck_conversations_state",
        ),
    )
    op.create_index("ix_conversations_customer_id", "conversations", ["customer_id"])
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.UniqueConstraint("key", name="uq_teams_key"),
    )
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        sa.UniqueConstraint("email", name="uq_agents_email"),
        sa.CheckConstraint(
            _one_of("role", ("agent", "supervisor", "admin")), name="ck_agents_role"
        ),
        sa.CheckConstraint(
            _one_of("status", ("online", "away", "offline")), name="ck_agents_status"
        ),
        sa.CheckConstraint("capacity >= 0", name="ck_agents_capacity"),
    )
    op.create_table(
        "agent_teams",
        sa.Column(
            "agent_id",
            sa.Integer(),
            sa.ForeignKey("agents.id", name="fk_agent_teams_agent_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "team_id",
            sa.Integer(),
            sa.ForeignKey("teams.id", name="fk_agent_teams_team_id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", sa.String(16), nullable=False),
        sa.Column(
            "conversation_id",
            sa.Integer(),
            sa.ForeignKey("conversations.id", name="fk_tickets_conversation_id"),
            nullable=False,
        ),
        sa.Column(
            "customer_id",
            sa.Integer(),
            sa.ForeignKey("customers.id", name="fk_tickets_customer_id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(2), nullable=False),
        sa.Column("category", sa.String(64), nullable=True),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(32), nullable=False),
        sa.Column(
            "assigned_agent_id",
            sa.Integer(),
            sa.ForeignKey("agents.id", name="fk_tickets_assigned_agent_id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("context", sa.JSON(), nullable=False),
        _timestamp("first_response_due"),
        _timestamp("resolution_due"),
        _timestamp("first_response_at", nullable=True),
        _timestamp("resolved_at", nullable=True),
        _timestamp("first_response_breached_at", nullable=True),
        _timestamp("resolution_breached_at", nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.UniqueConstraint("reference", name="uq_tickets_reference"),
        sa.UniqueConstraint("idempotency_key", name="uq_tickets_idempotency_key"),
        sa.CheckConstraint(
            _one_of("status", ("open", "assigned", "resolved", "closed")), name="ck_tickets_status"
        ),
        sa.CheckConstraint(
            _one_of("priority", ("P1", "P2", "P3", "P4")), name="ck_tickets_priority"
        ),
        sa.CheckConstraint("level >= 0", name="ck_tickets_level"),
    )
    op.create_index("ix_tickets_conversation_id", "tickets", ["conversation_id"])
    op.create_index("ix_tickets_customer_id", "tickets", ["customer_id"])
    op.create_index(
        "ix_tickets_status_first_response_due", "tickets", ["status", "first_response_due"]
    )
    op.create_index("ix_tickets_status_resolution_due", "tickets", ["status", "resolution_due"])
    op.create_table(
        "ticket_history",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", name="fk_ticket_history_ticket_id", ondelete="CASCADE"),
            nullable=False,
        ),
        _timestamp("at"),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_value", sa.String(255), nullable=True),
        sa.Column("to_value", sa.String(255), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("escalation_type", sa.String(32), nullable=True),
        sa.Column("breach_key", sa.String(255), nullable=True),
        sa.UniqueConstraint("ticket_id", "breach_key", name="uq_ticket_history_breach"),
    )
    op.create_table(
        "csat_answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", name="fk_csat_answers_ticket_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        _timestamp("at"),
        sa.UniqueConstraint("ticket_id", name="uq_csat_answers_ticket_id"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_csat_answers_rating"),
    )


def downgrade() -> None:
    # Children before parents: the foreign keys point up this list.
    op.drop_table("csat_answers")
    op.drop_table("ticket_history")
    op.drop_index("ix_tickets_status_resolution_due", table_name="tickets")
    op.drop_index("ix_tickets_status_first_response_due", table_name="tickets")
    op.drop_index("ix_tickets_customer_id", table_name="tickets")
    op.drop_index("ix_tickets_conversation_id", table_name="tickets")
    op.drop_table("tickets")
    op.drop_table("agent_teams")
    op.drop_table("agents")
    op.drop_table("teams")
    op.drop_index("ix_conversations_customer_id", table_name="conversations")
    op.drop_table("conversations")
    op.drop_table("customers")
