"""One migrated database per backend, handed to each test as if it were new.

Migrating a fresh database costs 100-260 ms on SQLite and about a second on
PostgreSQL, and most database tests want nothing else. So each session (each
xdist worker) migrates once:

- SQLite: into a template file, copied for every test (under a millisecond).
- PostgreSQL: into a schema of its own, emptied before every test: every table but
  `alembic_version` loses its rows and every sequence starts again at 1, which is
  what a freshly migrated schema holds.

Emptying is `DELETE` with triggers and foreign keys switched off for the
transaction (`session_replication_role = replica`, a superuser's setting): a
`TRUNCATE … RESTART IDENTITY CASCADE` of the twelve tables takes about half a
second, since it gives every table and index new files, while the deletes take
a few milliseconds. Without that right, `TRUNCATE` does it. Neither fires the
audit log's triggers, which refuse row-level `UPDATE` and `DELETE` (migration
0008): replica mode skips user triggers, and `TRUNCATE` is not a row-level event.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import List

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

# Alembic's record of the schema's revision: emptying it would make the schema look unmigrated.
KEPT_TABLE = "alembic_version"
# A test that left a row locked would otherwise make the next one hang here.
LOCK_TIMEOUT = "10s"


def migrate_sqlite_template(directory: Path) -> Path:
    """A SQLite file in `directory`, migrated to head, to copy for each test."""
    from bot.migrate import upgrade

    template = directory / "baton-template.db"
    upgrade(f"sqlite:///{template}")
    # The migration's engine is disposed: its last connection folded the WAL into the file.
    leftovers = [path.name for path in directory.iterdir() if path != template]
    assert not leftovers, f"the migrated template left {leftovers} beside it"
    return template


def copy_sqlite_template(template: Path, database_url: str) -> None:
    """Put a copy of the migrated template where `database_url` points (a new file)."""
    target = Path(make_url(database_url).database or "")
    if target.exists():
        raise FileExistsError(f"{target} exists already: a migrated copy goes to a new file")
    shutil.copyfile(template, target)


@dataclass
class PostgresSchema:
    """A schema migrated once, emptied before each test that uses it."""

    name: str
    url: str  # resolves names in the schema (search_path)
    admin: Engine  # on the server's default search path, for the schema's own DDL
    deletes: bool  # True: DELETE in replica mode; False: TRUNCATE

    def empty(self) -> None:
        """Every table but alembic_version empty, every sequence back at its start."""
        with self.admin.begin() as connection:
            connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            tables = _names(
                connection,
                "SELECT tablename FROM pg_tables WHERE schemaname = :schema "
                "AND tablename <> :kept ORDER BY tablename",
                self.name,
            )
            starts = connection.execute(
                text(
                    "SELECT sequencename, start_value FROM pg_sequences "
                    "WHERE schemaname = :schema ORDER BY sequencename"
                ),
                {"schema": self.name},
            ).all()
            if not tables:
                return
            if self.deletes:
                connection.execute(text("SET LOCAL session_replication_role = replica"))
                for table in tables:
                    # The names come from the catalogue, quoted: nothing a test wrote.
                    delete = f"DELETE FROM {self._qualified(table)}"  # noqa: S608
                    connection.execute(text(delete))
                for sequence, start in starts:
                    # is_called false: the next value is `start` itself, as in a new sequence.
                    connection.execute(
                        text("SELECT setval(CAST(:sequence AS regclass), :start, false)"),
                        {"sequence": self._qualified(sequence), "start": start},
                    )
            else:
                listed = ", ".join(self._qualified(table) for table in tables)
                connection.execute(text(f"TRUNCATE {listed} RESTART IDENTITY CASCADE"))

    def drop(self) -> None:
        with self.admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        self.admin.dispose()

    def _qualified(self, name: str) -> str:
        return f'"{self.name}"."{name}"'


def _names(connection, query: str, schema: str) -> List[str]:  # type: ignore[no-untyped-def]
    return list(connection.execute(text(query), {"schema": schema, "kept": KEPT_TABLE}).scalars())


def schema_url(base_url: str, schema: str) -> str:
    """`base_url` with every connection resolving names in `schema`.

    Commits skip the WAL flush wait (throwaway data, much faster DDL).
    """
    parsed = make_url(base_url)
    query = dict(parsed.query)
    query["options"] = f"-csearch_path={schema} -csynchronous_commit=off"
    return parsed.set(query=query).render_as_string(hide_password=False)


def new_schema(base_url: str, prefix: str) -> str:
    """Create an empty schema with a unique name; return its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, future=True)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
    finally:
        admin.dispose()
    return name


def drop_schema(base_url: str, name: str) -> None:
    admin = create_engine(base_url, future=True)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    finally:
        admin.dispose()


def migrate_postgres_schema(base_url: str, *, deletes: bool | None = None) -> PostgresSchema:
    """A new schema on the server at `base_url`, migrated to head.

    Args:
        deletes: how `empty` works; None picks DELETE when this user may use replica mode.
    """
    from bot.migrate import upgrade

    name = new_schema(base_url, "baton_migrated")
    admin = create_engine(base_url, future=True)
    try:
        url = schema_url(base_url, name)
        upgrade(url)
        if deletes is None:
            deletes = _is_superuser(admin)
    except BaseException:
        drop_schema(base_url, name)
        admin.dispose()
        raise
    return PostgresSchema(name=name, url=url, admin=admin, deletes=deletes)


def _is_superuser(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(
            connection.execute(
                text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            ).scalar()
        )
