"""Baton's ticket tables: customers, conversations, teams, agents, tickets and their history.

Classic declarative on `bot.db.Base` (SQLAlchemy 1.4, no `mapped_column` yet), so
Alembic sees them through one metadata. Status-like columns are short strings
with named CHECK constraints rather than database enums: the same DDL works on
SQLite and PostgreSQL, and a new value is a constraint change, not a type change.
Every constraint and index is named, so migrations and `compare_metadata` agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import relationship
from sqlalchemy.types import TypeDecorator

from bot.db import Base
from bot.tickets.states import (
    AGENT_OFFLINE,
    AGENT_STATUSES,
    CONVERSATION_BOT,
    CONVERSATION_STATES,
    LIVE_TICKET_STATUSES,
    TICKET_OPEN,
    TICKET_STATUSES,
)

AGENT_ROLES = ("agent", "supervisor", "admin")
TICKET_PRIORITIES = ("P1", "P2", "P3", "P4")
CALL_MEDIA = ("video", "screen")
CALL_PROVIDERS = ("webrtc", "jitsi")
CALL_STATES = ("requested", "inviting", "connecting", "active", "ended")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    allowed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({allowed})"


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every database.

    PostgreSQL stores `timestamptz` and returns it in the session's zone; SQLite
    has no zone at all and returns naive values. Writing UTC and stamping UTC on
    the way out makes both return the same aware datetimes, so comparisons
    between database values and `now()` never mix naive and aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            # A naive value is a bug upstream (local time or UTC? nobody knows).
            raise ValueError(f"naive datetime {value.isoformat()}: pass an aware UTC datetime")
        value = value.astimezone(dt.timezone.utc)
        if dialect.name == "sqlite":
            # Stored as text: one fixed zone keeps string order equal to time order.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("external_id", name="uq_customers_external_id"),)

    id = Column(Integer, primary_key=True)
    # The id in the company's account system (what the identity token names).
    external_id = Column(String(64), nullable=False)
    name = Column(String(255), nullable=True)
    email = Column(String(320), nullable=True)
    tier = Column(String(32), nullable=True)
    created_at = Column(UTCDateTime, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("sender_id", name="uq_conversations_sender_id"),
        CheckConstraint(_one_of("state", CONVERSATION_STATES), name="ck_conversations_state"),
        Index("ix_conversations_customer_id", "customer_id"),
        # The metrics count conversations by the period they started in.
        Index("ix_conversations_created_at", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    # Rasa's sender_id: the key of the tracker that holds the transcript.
    sender_id = Column(String(255), nullable=False)
    channel = Column(String(64), nullable=True)
    # created_at is when the conversation's first session started (action_session_start);
    # rows from before migration 0006 were created at their first escalation instead.
    customer_id = Column(
        Integer,
        ForeignKey("customers.id", name="fk_conversations_customer_id", ondelete="SET NULL"),
        nullable=True,
    )
    state = Column(String(16), nullable=False, default=CONVERSATION_BOT)
    created_at = Column(UTCDateTime, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)

    customer = relationship(Customer, lazy="joined")


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("key", name="uq_teams_key"),)

    id = Column(Integer, primary_key=True)
    key = Column(String(64), nullable=False)
    name = Column(String(255), nullable=False)


agent_teams = Table(
    "agent_teams",
    Base.metadata,
    Column(
        "agent_id",
        Integer,
        ForeignKey("agents.id", name="fk_agent_teams_agent_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "team_id",
        Integer,
        ForeignKey("teams.id", name="fk_agent_teams_team_id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (
        UniqueConstraint("email", name="uq_agents_email"),
        CheckConstraint(_one_of("role", AGENT_ROLES), name="ck_agents_role"),
        CheckConstraint(_one_of("status", AGENT_STATUSES), name="ck_agents_status"),
        CheckConstraint("capacity >= 0", name="ck_agents_capacity"),
    )

    id = Column(Integer, primary_key=True)
    email = Column(String(320), nullable=False)
    name = Column(String(255), nullable=False)
    role = Column(String(16), nullable=False, default="agent")
    # Nullable: agents who sign in through the company's SSO have no password here.
    password_hash = Column(String(255), nullable=True)
    status = Column(String(16), nullable=False, default=AGENT_OFFLINE)
    # How many chats at once the router may give this agent.
    capacity = Column(Integer, nullable=False, default=3)
    # The languages the agent chats in, as comma-separated codes ("en,fr").
    languages = Column(String(64), nullable=False, default="en", server_default="en")
    created_at = Column(UTCDateTime, nullable=False)
    # The last sign of life from the console (login, websocket, API call).
    last_seen_at = Column(UTCDateTime, nullable=True)

    teams = relationship(Team, secondary=agent_teams, lazy="selectin")


class AgentSession(Base):
    """A signed-in console: the cookie holds the token, the table only its hash."""

    __tablename__ = "agent_sessions"
    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_agent_sessions_token_hash"),
        Index("ix_agent_sessions_agent_id", "agent_id"),
    )

    id = Column(Integer, primary_key=True)
    # sha256 hex of the session token: a leaked table does not sign anyone in.
    token_hash = Column(String(64), nullable=False)
    agent_id = Column(
        Integer,
        ForeignKey("agents.id", name="fk_agent_sessions_agent_id", ondelete="CASCADE"),
        nullable=False,
    )
    # Sent back in a header with every state-changing request (double submit).
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime, nullable=False)
    expires_at = Column(UTCDateTime, nullable=False)
    last_used_at = Column(UTCDateTime, nullable=False)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("reference", name="uq_tickets_reference"),
        UniqueConstraint("idempotency_key", name="uq_tickets_idempotency_key"),
        CheckConstraint(_one_of("status", TICKET_STATUSES), name="ck_tickets_status"),
        CheckConstraint(_one_of("priority", TICKET_PRIORITIES), name="ck_tickets_priority"),
        CheckConstraint("level >= 0", name="ck_tickets_level"),
        Index("ix_tickets_conversation_id", "conversation_id"),
        # One live ticket per conversation (migration 0007): a second handoff while one
        # is queued or with an agent gets that ticket (bot.store.tickets.open_ticket).
        Index(
            "uq_tickets_live_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text(_one_of("status", LIVE_TICKET_STATUSES)),
            postgresql_where=text(_one_of("status", LIVE_TICKET_STATUSES)),
        ),
        Index("ix_tickets_customer_id", "customer_id"),
        # The clock's two questions: open and past first response; unresolved and past resolution.
        Index("ix_tickets_status_first_response_due", "status", "first_response_due"),
        Index("ix_tickets_status_resolution_due", "status", "resolution_due"),
        # The metrics read tickets by the period they were created in.
        Index("ix_tickets_created_at", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    reference = Column(String(16), nullable=False)
    conversation_id = Column(
        Integer,
        ForeignKey("conversations.id", name="fk_tickets_conversation_id"),
        nullable=False,
    )
    # The customer at escalation time (a conversation may be verified later, or not at all).
    customer_id = Column(
        Integer,
        ForeignKey("customers.id", name="fk_tickets_customer_id", ondelete="SET NULL"),
        nullable=True,
    )
    # One ticket per escalation, however often the action is retried.
    idempotency_key = Column(String(255), nullable=False)
    status = Column(String(16), nullable=False, default=TICKET_OPEN)
    priority = Column(String(2), nullable=False)
    category = Column(String(64), nullable=True)
    # A team key of escalation.yml (not a foreign key: the policy file owns the teams).
    team = Column(String(64), nullable=False)
    level = Column(Integer, nullable=False, default=0)
    tier = Column(String(32), nullable=False)
    assigned_agent_id = Column(
        Integer,
        ForeignKey("agents.id", name="fk_tickets_assigned_agent_id", ondelete="SET NULL"),
        nullable=True,
    )
    # Offered to this agent until `offer_expires_at`; re-offered to another after.
    offered_agent_id = Column(
        Integer,
        ForeignKey("agents.id", name="fk_tickets_offered_agent_id", ondelete="SET NULL"),
        nullable=True,
    )
    offer_expires_at = Column(UTCDateTime, nullable=True)
    # The customer's language (a code such as "en"); routing prefers agents who speak it.
    language = Column(String(8), nullable=False, default="en", server_default="en")
    # The escalation packet: a versioned dict (transcript, details, signals, ...).
    context = Column(JSON, nullable=False)
    # What the metrics group by, copied out of the packet so a report over many
    # tickets never parses their JSON: the first reason's type and rule, and the
    # customer's last message on a topic before the handoff, with its intent.
    escalation_type = Column(String(32), nullable=True)
    escalation_reason = Column(String(64), nullable=True)
    trigger_intent = Column(String(128), nullable=True)
    trigger_text = Column(Text, nullable=True)
    first_response_due = Column(UTCDateTime, nullable=False)
    resolution_due = Column(UTCDateTime, nullable=False)
    first_response_at = Column(UTCDateTime, nullable=True)
    resolved_at = Column(UTCDateTime, nullable=True)
    # Set when the clock has handled the breach of the *current* deadline, so later
    # sweeps skip the ticket in SQL; a new deadline clears it. The exactly-once
    # guarantee itself is the unique (ticket_id, breach_key) in ticket_history.
    first_response_breached_at = Column(UTCDateTime, nullable=True)
    resolution_breached_at = Column(UTCDateTime, nullable=True)
    created_at = Column(UTCDateTime, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)

    conversation = relationship(Conversation, lazy="joined")
    customer = relationship(Customer, lazy="joined")


class TicketHistory(Base):
    __tablename__ = "ticket_history"
    __table_args__ = (
        # NULL keys are distinct on both databases, so only clock rows are constrained:
        # the same breach of the same ticket can be recorded (and so applied) once.
        # Its index also serves "the history of ticket N" (ticket_id is its first column).
        UniqueConstraint("ticket_id", "breach_key", name="uq_ticket_history_breach"),
    )

    id = Column(Integer, primary_key=True)
    ticket_id = Column(
        Integer,
        ForeignKey("tickets.id", name="fk_ticket_history_ticket_id", ondelete="CASCADE"),
        nullable=False,
    )
    at = Column(UTCDateTime, nullable=False)
    # "bot", "clock", "agent:<id>", "customer"
    actor = Column(String(64), nullable=False)
    # created, escalated, priority_raised, assigned, sla_breached, resolved, ... (the clock
    # records a notification in its sla_breached row; older databases may hold "notified" rows);
    # calls write call_offered, call_started and call_ended (docs/calls.md 1.3.2)
    action = Column(String(32), nullable=False)
    from_value = Column(String(255), nullable=True)
    to_value = Column(String(255), nullable=True)
    reason = Column(Text, nullable=True)
    escalation_type = Column(String(32), nullable=True)
    breach_key = Column(String(255), nullable=True)


class CsatAnswer(Base):
    __tablename__ = "csat_answers"
    __table_args__ = (
        UniqueConstraint("ticket_id", name="uq_csat_answers_ticket_id"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="ck_csat_answers_rating"),
    )

    id = Column(Integer, primary_key=True)
    ticket_id = Column(
        Integer,
        ForeignKey("tickets.id", name="fk_csat_answers_ticket_id", ondelete="CASCADE"),
        nullable=False,
    )
    rating = Column(Integer, nullable=False)
    comment = Column(Text, nullable=True)
    at = Column(UTCDateTime, nullable=False)


class Call(Base):
    """One video call or screen share in a conversation, from the offer to its end
    (docs/calls.md)."""

    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint(_one_of("media", CALL_MEDIA), name="ck_calls_media"),
        CheckConstraint(_one_of("provider", CALL_PROVIDERS), name="ck_calls_provider"),
        CheckConstraint(_one_of("state", CALL_STATES), name="ck_calls_state"),
        # One live call per conversation, also when an agent's offer crosses a customer's request.
        Index(
            "uq_calls_live_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text("state <> 'ended'"),
            postgresql_where=text("state <> 'ended'"),
        ),
        # The deadline sweep: live calls whose expires_at has passed.
        Index("ix_calls_state_expires_at", "state", "expires_at"),
        Index("ix_calls_agent_id", "agent_id"),
    )

    # secrets.token_hex(16): unguessable, so a probe learns nothing.
    id = Column(String(32), primary_key=True)
    conversation_id = Column(
        Integer, ForeignKey("conversations.id", name="fk_calls_conversation_id"), nullable=False
    )
    # The conversation's current ticket when the call was offered (its history gets the rows).
    ticket_id = Column(
        Integer,
        ForeignKey("tickets.id", name="fk_calls_ticket_id", ondelete="CASCADE"),
        nullable=False,
    )
    agent_id = Column(
        Integer,
        ForeignKey("agents.id", name="fk_calls_agent_id", ondelete="SET NULL"),
        nullable=True,
    )
    media = Column(String(8), nullable=False)
    provider = Column(String(8), nullable=False)
    state = Column(String(12), nullable=False)
    # History actors: "agent:<id>" or "customer" (and "desk" for ended_by).
    started_by = Column(String(64), nullable=False)
    # The customer's socket and the agent's console bound to the call (webrtc).
    customer_sid = Column(String(64), nullable=True)
    agent_connection = Column(String(32), nullable=True)
    room = Column(String(128), nullable=True)
    created_at = Column(UTCDateTime, nullable=False)
    # The deadline of the current state; null once ended.
    expires_at = Column(UTCDateTime, nullable=True)
    answered_at = Column(UTCDateTime, nullable=True)
    connected_at = Column(UTCDateTime, nullable=True)
    ended_at = Column(UTCDateTime, nullable=True)
    end_reason = Column(String(32), nullable=True)
    ended_by = Column(String(64), nullable=True)


AUDIT_OUTCOMES = ("succeeded", "failed", "refused")
BLOCK_KINDS = ("session", "address")


class AuditEntry(Base):
    """One security-relevant act (a sign-in, a block), appended and never changed (bot.audit).

    Triggers (migration 0008) refuse UPDATE and DELETE on both databases, so the
    log is append-only even for code that forgets it.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(_one_of("outcome", AUDIT_OUTCOMES), name="ck_audit_log_outcome"),
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_action_at", "action", "at"),
    )

    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime, nullable=False)
    # Dotted, stable names: desk.signin, desk.customer_blocked, ...
    action = Column(String(64), nullable=False)
    outcome = Column(String(16), nullable=False)
    # Who acted: "agent:<id>", or "anonymous" for a sign-in that did not verify.
    actor = Column(String(64), nullable=False)
    # What it was about: the e-mail address a sign-in named, "conversation:<id>", ...
    subject = Column(String(320), nullable=True)
    # The client's address as the trusted proxies report it (bot.proxies).
    client_address = Column(String(64), nullable=True)
    details = Column(JSON, nullable=True)


class CustomerBlock(Base):
    """A customer kept out of the widget: by conversation (session id) or by address
    (bot.desk.blocks)."""

    __tablename__ = "customer_blocks"
    __table_args__ = (
        CheckConstraint(_one_of("kind", BLOCK_KINDS), name="ck_customer_blocks_kind"),
        Index("ix_customer_blocks_expires_at", "expires_at"),
    )

    id = Column(Integer, primary_key=True)
    kind = Column(String(16), nullable=False)
    # The conversation's sender_id, or the client address.
    value = Column(String(255), nullable=False)
    reason = Column(Text, nullable=False)
    created_by = Column(
        Integer,
        ForeignKey("agents.id", name="fk_customer_blocks_created_by", ondelete="SET NULL"),
        nullable=True,
    )
    created_at = Column(UTCDateTime, nullable=False)
    # Address blocks end (an office or a carrier's NAT shares an address); null: until lifted.
    expires_at = Column(UTCDateTime, nullable=True)
    lifted_at = Column(UTCDateTime, nullable=True)
