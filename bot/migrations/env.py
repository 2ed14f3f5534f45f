"""Alembic environment: migrates the database named by the caller or DATABASE_URL."""

from alembic import context
from sqlalchemy.engine import Connection

import bot.store.models  # noqa: F401  (the ticket tables, revision 0002)
from bot.db import Base, make_engine
from bot.settings import Settings

config = context.config
connection = config.attributes.get("connection")


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run_migrations(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    engine = make_engine(url)
    with engine.connect() as new_connection:
        run_migrations(new_connection)
    engine.dispose()
