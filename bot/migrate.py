"""Apply Baton's schema migrations programmatically (used by `bot migrate` and tests)."""

from __future__ import annotations

from typing import Callable

from alembic import command
from alembic.config import Config

from bot.db import make_engine
from bot.settings import PROJECT_ROOT


def alembic_config() -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "bot" / "migrations"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at `database_url` to `revision`."""
    _run(database_url, lambda config: command.upgrade(config, revision))


def downgrade(database_url: str, revision: str = "base") -> None:
    """Take the database at `database_url` back to `revision`."""
    _run(database_url, lambda config: command.downgrade(config, revision))


def _run(database_url: str, operation: Callable[[Config], object]) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            operation(config)
    finally:
        engine.dispose()
