"""Shared fixtures: real databases, no fakes of our own code; and what each test costs.

`database_url` runs a test on SQLite (a file in `tmp_path`) and on PostgreSQL
(a schema of its own). It is an empty database, unless the test also uses
`migrated_url` (or `engine`, `session_factory`): then it is the same database,
migrated to head, made cheaply from one migration per session
(tests/database_templates.py). PostgreSQL comes from `BATON_TEST_POSTGRES_URL`,
else the local server at 127.0.0.1:5432, database `test`, as `postgres` or the
current user; when none answers, the PostgreSQL cases are skipped with the reason.

`pytest_collection_modifyitems` marks every test with what it needs (the markers
of pyproject.toml), from the fixtures it uses, so `make quick` can leave out the
model, the browser, PostgreSQL and the servers.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Iterator, List

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from tests.database_templates import (
    PostgresSchema,
    copy_sqlite_template,
    drop_schema,
    migrate_postgres_schema,
    migrate_sqlite_template,
    new_schema,
    schema_url,
)

POSTGRES_URL_VARIABLE = "BATON_TEST_POSTGRES_URL"
# What Settings reads for the store (bot/settings.py).
DATABASE_URL_VARIABLE = "DATABASE_URL"

# --- what a test costs --------------------------------------------------------------------------

# Session servers started as `make run` starts them (`bot run`: Rasa, the action server and
# the trained model), each shared by the tests that use it.
BOT_RUN_FIXTURES = ("baton_server", "isolated_server", "production_server")
# A desk server in a subprocess of its own, on a seeded database; no model.
SUBPROCESS_FIXTURES = ("seeded_desk",)
BROWSER_FIXTURES = {"browser", "media_browser", "context", "page"}
# Modules that load the trained model in this process, without a server.
MODEL_MODULES = {"test_handoff_resume.py", "test_external_model.py"}


# tryfirst: xdist's own hook reads the xdist_group markers to group the tests, and a later
# plugin's hook runs first, so without it the groups added here would come too late.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    """Mark each test with what it needs, and keep a shared server on one xdist worker."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        bot_run = [name for name in BOT_RUN_FIXTURES if name in names]
        if bot_run or item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.server)
            item.add_marker(pytest.mark.model)
        subprocess_servers = [name for name in SUBPROCESS_FIXTURES if name in names]
        if subprocess_servers:
            item.add_marker(pytest.mark.server)
        if item.path.name in MODEL_MODULES:
            item.add_marker(pytest.mark.model)
        if names & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("database_url") == "postgresql" or "postgres_url" in names:
            item.add_marker(pytest.mark.postgres)
        # Under `-n --dist loadgroup` the tests of one session server run on one worker, so it
        # starts once; a module's browser, its module-scoped servers and its model likewise.
        if bot_run or subprocess_servers:
            item.add_marker(pytest.mark.xdist_group((bot_run + subprocess_servers)[0]))
        elif names & BROWSER_FIXTURES or item.path.name in MODEL_MODULES:
            item.add_marker(pytest.mark.xdist_group(item.path.name))


# --- databases ----------------------------------------------------------------------------------


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


@pytest.fixture(scope="session", autouse=True)
def process_default_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A database of this session's own for code that falls back to the process's default
    services (an action run without injected services reads DATABASE_URL): never the
    project's var/baton.db, which another xdist worker may be creating at the same moment."""
    previous = os.environ.get(DATABASE_URL_VARIABLE)
    database = tmp_path_factory.mktemp("process-default") / "baton.db"
    os.environ[DATABASE_URL_VARIABLE] = f"sqlite:///{database}"
    yield
    if previous is None:
        os.environ.pop(DATABASE_URL_VARIABLE, None)
    else:
        os.environ[DATABASE_URL_VARIABLE] = previous


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session (per xdist worker)."""
    return migrate_sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_schema(postgres_url: str) -> Iterator[PostgresSchema]:
    """A PostgreSQL schema migrated to head once per session (per xdist worker)."""
    schema = migrate_postgres_schema(postgres_url)
    yield schema
    schema.drop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to a database: a SQLite file, or a PostgreSQL schema of its own.

    Empty, unless the test uses `migrated_url`: then it is that migrated database.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'baton-test.db'}"
        return
    base_url: str = request.getfixturevalue("postgres_url")
    if "migrated_url" in request.fixturenames:
        yield request.getfixturevalue("postgres_schema").url
        return
    schema = new_schema(base_url, "baton_test")
    try:
        yield schema_url(base_url, schema)
    finally:
        drop_schema(base_url, schema)


@pytest.fixture
def migrated_url(request: pytest.FixtureRequest, database_url: str) -> str:
    """`database_url`, migrated to head and holding no rows.

    SQLite: a copy of the session's migrated template. PostgreSQL: the session's migrated
    schema, emptied (every sequence restarted, alembic_version kept).
    """
    if make_url(database_url).get_backend_name() == "sqlite":
        copy_sqlite_template(request.getfixturevalue("sqlite_template"), database_url)
    else:
        request.getfixturevalue("postgres_schema").empty()
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


# --- servers ------------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def sanic_test_mode() -> None:
    """Sanic's test mode for every server a test starts in this process, whatever the order.

    Sanic rewrites its request handler when an app starts (sanic/touchup). Out of test mode
    it rewrites the previous app's rewrite, which fails (KeyError 'http1_response_header')
    once a second app starts in the process; in test mode it starts from the original
    each time. Under xdist, tests reach a worker in another order than alone, so every
    process sets it first rather than the first test that happens to need it.
    """
    from sanic import Sanic

    Sanic.test_mode = True


@pytest.fixture(scope="session")
def cross_origin_port() -> int:
    """The port of the "company website" page that embeds the widget from another origin.

    Free when the session starts, and a different one per xdist worker.
    """
    from tests.baton_server import free_port

    return free_port()


@pytest.fixture(scope="session")
def baton_server(tmp_path_factory: pytest.TempPathFactory, cross_origin_port: int):
    """The real product, started as `make run` starts it, shared by the e2e and browser tests."""
    from tests.baton_server import ONE_ADDRESS_FOR_EVERYBODY, start_baton_server

    server = start_baton_server(
        tmp_path_factory.mktemp("baton"),
        # A page of another origin embeds the widget in the browser tests.
        extra_env={
            "BATON_ALLOWED_ORIGINS": f"http://127.0.0.1:{cross_origin_port}",
            # A closed console's conversations go back to the queue after 1 s, not 30:
            # the disconnect test waits for that event.
            "BATON_DISCONNECT_GRACE_SECONDS": "1",
            # Per-socket budgets stay; per-address ones would see one client.
            **ONE_ADDRESS_FOR_EVERYBODY,
        },
    )
    yield server
    server.stop()
