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
