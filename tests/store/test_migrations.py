"""Migration 0002: an empty database goes to head and back to base, and the models match it."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import bot.store.models  # noqa: F401
from bot.db import Base, make_engine
from bot.migrate import downgrade, upgrade

TICKET_TABLES = {
    "customers",
    "conversations",
    "teams",
    "agents",
    "agent_teams",
    "tickets",
    "ticket_history",
    "csat_answers",
}


def test_upgrade_to_head_matches_the_models_and_downgrades_to_base(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert TICKET_TABLES <= set(inspect(connection).get_table_names())
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            assert compare_metadata(context, Base.metadata) == []

        downgrade(database_url)
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}

        # And up again: the downgrade left nothing behind that blocks a re-run.
        upgrade(database_url)
        with engine.connect() as connection:
            assert TICKET_TABLES <= set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_0006_files_existing_tickets_under_their_cause_and_last_customer_message(database_url):
    import datetime as dt

    from sqlalchemy import insert, select

    from bot.store.models import Conversation, Ticket

    upgrade(database_url, "0005")
    at = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    context = {
        "escalation_reasons": [
            {"type": "functional", "rule": "billing", "detail": "category billing"},
            {"type": "sentiment", "rule": "frustration_rising", "detail": "3 frustrated"},
        ],
        "transcript": [
            {"sender": "customer", "text": "my bill doubled", "intent": "ask_invoice"},
            {"sender": "bot", "text": "Let me check."},
        ],
    }
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            conversation_id = connection.execute(
                insert(Conversation.__table__),
                {"sender_id": "old", "state": "queued", "created_at": at, "updated_at": at},
            ).inserted_primary_key[0]
            # Only columns 0005 has (the new ones have no defaults, so none is sent).
            connection.execute(
                insert(Ticket.__table__),
                {
                    "reference": "OLD1",
                    "conversation_id": conversation_id,
                    "idempotency_key": "old",
                    "status": "open",
                    "priority": "P3",
                    "team": "billing",
                    "level": 0,
                    "tier": "agent",
                    "language": "en",
                    "context": context,
                    "first_response_due": at,
                    "resolution_due": at,
                    "created_at": at,
                    "updated_at": at,
                },
            )

        upgrade(database_url)

        with engine.connect() as connection:
            row = connection.execute(
                select(
                    Ticket.escalation_type,
                    Ticket.escalation_reason,
                    Ticket.trigger_intent,
                    Ticket.trigger_text,
                )
            ).one()
        assert tuple(row) == ("sentiment", "frustration_rising", "ask_invoice", "my bill doubled")
    finally:
        engine.dispose()
