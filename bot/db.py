"""Database engines and sessions (SQLAlchemy 1.4 in its 2.0 style).

SQLite is the embedded default; PostgreSQL comes through `DATABASE_URL`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.orm import declarative_base, sessionmaker
from sqlalchemy.pool import QueuePool

# Baton's own tables (migrated by Alembic). Never a table named `events`:
# Rasa's SQL tracker store uses that name.
Base = declarative_base()


def make_engine(database_url: str) -> Engine:
    """An engine for a URL, creating the folder of a SQLite file when missing."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        options: Dict[str, Any] = {}
        connect_args: Dict[str, Any] = {"timeout": 30}
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            # SQLAlchemy 1.4 gives a SQLite file a NullPool: every session opened
            # a new connection (and re-ran the pragmas), and closing the last one
            # checkpointed and deleted the WAL, a few ms per call. Pool them, as
            # SQLAlchemy 2.0 does by default; a pooled connection is used by one
            # thread at a time, so sqlite3's same-thread check can go.
            options["poolclass"] = QueuePool
            connect_args["check_same_thread"] = False
        engine = create_engine(url, future=True, connect_args=connect_args, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, future=True, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the Rasa server and the action server read while the other writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL syncs at checkpoints, not at every commit (FULL's fsync
    # of the WAL was most of a ticket's creation time). The database cannot be
    # corrupted by a crash or power loss; what a power loss (not an application
    # crash) may undo is the last transactions before it, which were durable
    # on disk with FULL. SQLite's documented setting for WAL.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker:
    """Sessions bound to an engine, 2.0 style (`with factory.begin() as session:`)."""
    return sessionmaker(engine, future=True, expire_on_commit=False)
