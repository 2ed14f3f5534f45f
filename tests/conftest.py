"""Shared fixtures: real databases, no fakes of our own code.

`database_url` runs a test on SQLite (a file in `tmp_path`) and on PostgreSQL
(a throwaway schema, dropped afterwards, so parallel runs never collide).
PostgreSQL comes from `BATON_TEST_POSTGRES_URL`, else the local server at
127.0.0.1:5432, database `test`, as `postgres` or the current user; when none
answers, the PostgreSQL cases are skipped with the reason.
"""

from __future__ import annotations

import getpass
import os
import uuid
from pathlib import Path
from typing import Iterator, List

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

POSTGRES_URL_VARIABLE = "BATON_TEST_POSTGRES_URL"
# The port of the "company website" page that embeds the widget from another origin.
CROSS_ORIGIN_PORT = 18731


def _postgres_candidates() -> List[str]:
    configured = os.environ.get(POSTGRES_URL_VARIABLE)
    if configured:
        return [configured]
    users = ["postgres"]
    current = getpass.getuser()
    if current not in users:
        users.append(current)
    return [f"postgresql://{user}@127.0.0.1:5432/test" for user in users]


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL URL that answers, or skip the test saying why not."""
    failures = []
    for url in _postgres_candidates():
        # A short connect timeout: an absent server should skip, not hang.
        engine = create_engine(url, future=True, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return url
        except OperationalError as exc:
            first_line = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            failures.append(f"{make_url(url).render_as_string(hide_password=True)}: {first_line}")
        finally:
            engine.dispose()
    reason = f"PostgreSQL unreachable (set {POSTGRES_URL_VARIABLE} to run these): " + "; ".join(
        failures
    )
    if os.environ.get("BATON_REQUIRE_POSTGRES"):
        pytest.fail(reason)  # CI has PostgreSQL: a skip there would hide a broken store
    pytest.skip(reason)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'baton-test.db'}"
        return
    base_url: str = request.getfixturevalue("postgres_url")
    schema = f"baton_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, future=True)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        # Every connection made through this URL resolves names in the schema;
        # commits skip the WAL flush wait (throwaway data, much faster DDL).
        options = f"-csearch_path={schema} -csynchronous_commit=off"
        yield _with_query(base_url, options=options)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _with_query(url: str, **query: str | None) -> str:
    parsed = make_url(url)
    merged = dict(parsed.query)
    merged.update({key: value for key, value in query.items() if value is not None})
    return parsed.set(query=merged).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def baton_server(tmp_path_factory: pytest.TempPathFactory):
    """The real product, started as `make run` starts it, shared by the e2e and browser tests."""
    from tests.baton_server import ONE_ADDRESS_FOR_EVERYBODY, start_baton_server

    server = start_baton_server(
        tmp_path_factory.mktemp("baton"),
        # A page of another origin embeds the widget in the browser tests.
        extra_env={
            "BATON_ALLOWED_ORIGINS": f"http://127.0.0.1:{CROSS_ORIGIN_PORT}",
            # A closed console's conversations go back to the queue after 1 s, not 30:
            # the disconnect test waits for that event.
            "BATON_DISCONNECT_GRACE_SECONDS": "1",
            # Per-socket budgets stay; per-address ones would see one client.
            **ONE_ADDRESS_FOR_EVERYBODY,
        },
    )
    yield server
    server.stop()


@pytest.fixture
def migrated_url(database_url: str) -> str:
    """`database_url`, migrated to the latest schema."""
    from bot.migrate import upgrade

    upgrade(database_url)
    return database_url


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    from bot.db import make_engine

    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker:
    from bot.db import make_session_factory

    return make_session_factory(engine)
