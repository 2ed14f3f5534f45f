"""The services actions use, built once per action-server process on first use.

Actions take a `Services` in their constructor so tests inject their own; the
action server constructs actions without arguments and gets these defaults.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Dict

from rasa_sdk import Tracker

from bot import identity
from bot.accounts.factory import account_service_from_settings
from bot.accounts.interface import AccountService
from bot.constants import METADATA_CUSTOMER_TOKEN
from bot.db import make_engine, make_session_factory
from bot.escalation.engine import YamlEscalationPolicy, load_default_policy
from bot.escalation.signals import SentimentReader
from bot.sentiment.analyzer import SentimentAnalyzer, shared_analyzer
from bot.settings import DEFAULT_AVERAGE_HANDLING_MINUTES, Settings
from bot.store.tickets import TicketStore


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class Services:
    settings: Settings
    accounts: AccountService
    tickets: TicketStore
    policy: YamlEscalationPolicy
    # Injected so tests can stand at a chosen moment (inside or outside business hours).
    clock: Callable[[], dt.datetime] = utc_now
    # The queue's wait estimate (bot.desk.availability), from BATON_AVERAGE_HANDLING_MINUTES.
    average_handling_minutes: float = DEFAULT_AVERAGE_HANDLING_MINUTES
    # Scores a message whose parse data has no sentiment (parsed before the component ran).
    sentiment: SentimentReader | None = None


@lru_cache(maxsize=1)
def default_services() -> Services:
    settings = Settings.from_env()
    session_factory = make_session_factory(make_engine(settings.database_url))
    return Services(
        settings=settings,
        accounts=account_service_from_settings(settings),
        tickets=TicketStore(session_factory),
        policy=load_default_policy(),
        average_handling_minutes=settings.average_handling_minutes,
        sentiment=sentiment_reader(shared_analyzer()),
    )


def sentiment_reader(analyzer: SentimentAnalyzer) -> SentimentReader:
    return lambda text: analyzer.analyze(text).as_dict()


class UsesServices:
    """Mixin: `self.services` is the injected `Services`, or the process default."""

    def __init__(self, services: Services | None = None) -> None:
        self._services = services

    @property
    def services(self) -> Services:
        return self._services or default_services()


def latest_metadata(tracker: Tracker) -> Dict[str, Any]:
    return (tracker.latest_message or {}).get("metadata") or {}


def verified_customer(tracker: Tracker, settings: Settings) -> identity.VerifiedCustomer | None:
    """The customer whose signed token came with the latest message, if it verifies.

    Only the channel sets message metadata, and the token is checked here again,
    so neither typed text nor another channel's metadata can claim an identity.
    """
    token = latest_metadata(tracker).get(METADATA_CUSTOMER_TOKEN)
    return identity.customer_from_token(token, settings.jwt_secret)
