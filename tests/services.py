"""Real services for action tests: the demo account system and the ticket store on one database."""

from __future__ import annotations

import datetime as dt
from typing import Callable

from sqlalchemy import inspect

from actions.services import Services, sentiment_reader, utc_now
from bot.accounts.sql import SqlAccountService, create_demo_schema, seed_demo_customers
from bot.db import make_engine, make_session_factory
from bot.escalation.engine import load_default_policy
from bot.migrate import upgrade
from bot.sentiment.analyzer import shared_analyzer
from bot.settings import Settings
from bot.store.tickets import TicketStore

TEST_JWT_SECRET = "test-secret-" + "x" * 40


def build_services(
    database_url: str, *, clock: Callable[[], dt.datetime] = utc_now, **settings: object
) -> Services:
    """Services on `database_url`, a migrated database (the `migrated_url` fixture).

    An empty one is migrated first, at the cost of a migration (100 ms to a second).
    """
    engine = make_engine(database_url)
    if not inspect(engine).has_table("alembic_version"):
        upgrade(database_url)
    session_factory = make_session_factory(engine)
    create_demo_schema(engine)
    seed_demo_customers(session_factory, dt.date(2026, 11, 27))
    return Services(
        settings=Settings(database_url=database_url, jwt_secret=TEST_JWT_SECRET, **settings),  # type: ignore[arg-type]
        accounts=SqlAccountService(session_factory),
        tickets=TicketStore(session_factory),
        policy=load_default_policy({}),
        clock=clock,
        sentiment=sentiment_reader(shared_analyzer()),
    )
