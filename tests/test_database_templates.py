"""The database fixtures hand every test what a fresh migration would (tests/database_templates.py).

A migrated database is a copy of one template (SQLite) or one schema emptied
between tests (PostgreSQL); these check that what a test receives is
indistinguishable from a new migration: the head revision, no rows, identities
starting at 1, and the audit log's triggers still in force.
"""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError

from bot.db import make_engine
from bot.migrate import alembic_config
from bot.store.models import AuditEntry, Team
from tests.database_templates import PostgresSchema, migrate_postgres_schema

AT = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.timezone.utc)


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def revision_of(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def fill(engine: Engine) -> None:
    """Rows in a table with an identity, and in the append-only audit log."""
    with engine.begin() as connection:
        connection.execute(
            insert(Team.__table__),
            [{"key": "billing", "name": "Billing"}, {"key": "shop", "name": "Shop"}],
        )
        connection.execute(
            insert(AuditEntry.__table__),
            [{"at": AT, "action": "desk.sign_in", "outcome": "succeeded", "actor": "agent:1"}],
        )


def assert_like_a_new_migration(engine: Engine) -> None:
    assert revision_of(engine) == head_revision()
    with engine.begin() as connection:
        for table in ("teams", "agents", "tickets", "conversations", "audit_log"):
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0  # noqa: S608
        # Identities start again at 1, as in a new database.
        connection.execute(insert(Team.__table__), [{"key": "technical", "name": "Technical"}])
        assert connection.execute(select(Team.__table__.c.id)).scalars().all() == [1]


def test_an_empty_database_has_no_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert inspect(connection).get_table_names() == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("turn", ["first", "second"])
def test_each_test_gets_a_migrated_database_without_the_rows_of_the_one_before(
    engine: Engine, turn: str
) -> None:
    # Run twice in a row: the second turn sees none of the first one's rows.
    assert_like_a_new_migration(engine)
    fill(engine)


def test_database_url_is_the_migrated_database_when_the_test_uses_both(
    database_url: str, migrated_url: str
) -> None:
    assert database_url == migrated_url


@pytest.mark.postgres
@pytest.mark.parametrize("deletes", [True, False], ids=["delete", "truncate"])
def test_emptying_the_schema_keeps_alembic_version_and_the_audit_logs_triggers(
    postgres_url: str, deletes: bool
) -> None:
    schema: PostgresSchema = migrate_postgres_schema(postgres_url, deletes=deletes)
    engine = make_engine(schema.url)
    try:
        fill(engine)

        schema.empty()

        assert_like_a_new_migration(engine)
        # The audit log still refuses to lose a row: emptying switched nothing off for good.
        fill(engine)
        with pytest.raises(DatabaseError, match="audit_log is append-only"):
            with engine.begin() as connection:
                connection.execute(text("DELETE FROM audit_log"))
    finally:
        engine.dispose()
        schema.drop()
