"""Pick the account service a deployment asked for (`BATON_ACCOUNT_BACKEND`)."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.exc import IntegrityError

from bot.accounts.http import HttpAccountService
from bot.accounts.interface import AccountService
from bot.accounts.sql import (
    SqlAccountService,
    create_demo_schema,
    demo_schema_is_empty,
    seed_demo_customers,
)
from bot.db import make_engine, make_session_factory
from bot.settings import Settings, SettingsError

logger = logging.getLogger(__name__)


def account_service_from_settings(settings: Settings) -> AccountService:
    """The account service for these settings.

    `demo`: the demo account system in `settings.database_url`, its tables
    created and seeded with the demo customers the first time. `http`: the
    company's REST API at `settings.account_api_url`.

    Raises:
        SettingsError: An unknown backend, or `http` without an API URL.
    """
    if settings.account_backend == "http":
        if not settings.account_api_url:
            raise SettingsError(
                "BATON_ACCOUNT_BACKEND=http needs BATON_ACCOUNT_API_URL "
                "(the base URL of the company's account API)"
            )
        return HttpAccountService(settings.account_api_url, token=settings.account_api_token)
    if settings.account_backend == "demo":
        engine = make_engine(settings.database_url)
        session_factory = make_session_factory(engine)
        create_demo_schema(engine)
        if demo_schema_is_empty(session_factory):
            try:
                seed_demo_customers(session_factory, dt.date.today())
            except IntegrityError:
                # The Rasa server and the action server may start together;
                # the other one seeded first, which is all we wanted.
                logger.info("accounts.demo.seeded_elsewhere")
        return SqlAccountService(session_factory)
    raise SettingsError(
        f"BATON_ACCOUNT_BACKEND is {settings.account_backend!r}; allowed: 'demo' or 'http'"
    )
