"""Hardening of single units: each test failed on the code before its fix.

- Regular expressions that read customer text take time linear in its length: an
  adversarial message of 100,000 characters is read well inside a 5-second guard
  (before: minutes, since each one rescanned the rest of the text from every position).
- The customer-token settings are checked at start and name the variable.
- Expired console sessions and long-ended calls are deleted by the escalation clock's
  loop (before: by nothing), on SQLite and PostgreSQL, judged by the clock's `now`.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot.calls.config import CallSettings
from bot.calls.providers import make_provider
from bot.calls.service import CallService
from bot.csat import parse_rating
from bot.desk.agents import AgentDirectory
from bot.desk.records import AgentRecord
from bot.desk.sessions import DeskSessions
from bot.escalation.clock import DEFAULT_PRUNE_INTERVAL, Pruner, run_clock
from bot.escalation.engine import load_default_policy
from bot.sentiment.lexicon import load_lexicon
from bot.sentiment.rules import FrustrationRules
from bot.settings import Settings, SettingsError
from bot.store.models import AgentSession, Call
from tests.calls.conftest import CHEAP_HASHER, CONNECTION_A, T0, TEAMS, add_agent, handed_off

# Far beyond BATON_MAX_MESSAGE_LENGTH's default (2,000), so the guard is about the shape of
# the cost, not the machine: quadratic is tens of minutes here, linear well under a second.
ADVERSARIAL_LENGTH = 100_000


@pytest.fixture(scope="module")
def rules() -> FrustrationRules:
    return FrustrationRules(load_lexicon())


@pytest.mark.timeout(5)
@pytest.mark.parametrize(
    "unit",
    [
        "a",  # one run without a digit: `\S*\d\S*` tried each position against the rest
        "hi, ",  # lead-ins across commas: each comma rescanned the rest of the message
        "which, ",  # an opener per clause, no "?": each one scanned to the sentence's end
        "WHY-",  # a capitalised run with dashes, no digit
    ],
    ids=["letters", "lead-ins", "openers", "dashes"],
)
def test_an_adversarial_message_is_read_in_linear_time(rules: FrustrationRules, unit: str):
    text = (unit * (ADVERSARIAL_LENGTH // len(unit) + 1))[:ADVERSARIAL_LENGTH]
    assert rules.read(text).weight is not None


@pytest.mark.parametrize(
    "text, capitals",
    [
        ("my order BW-100234 is LATE", "LATE"),  # the reference is not shouting
        ("4G DOWN since 9am", "DOWN"),
        ("x1y NOW", "NOW"),  # a digit anywhere in the run takes the whole run out
        ("ROUTER\tfault\nAGAIN", "ROUTERAGAIN"),
    ],
)
def test_words_with_a_digit_are_still_left_out_of_shouting(
    rules: FrustrationRules, text: str, capitals: str
):
    letters = sum(len(word) for word in text.split() if not any(c.isdigit() for c in word))
    assert rules.read(text).capital_share == pytest.approx(len(capitals) / letters)


@pytest.mark.parametrize(
    "text, calm",
    [
        ("Hi, how do I reset my router?", True),
        ("hi,how do i pay my bill?", True),
        ("OK so, hello, please is there an outage?", True),
        ("I tried. How do I pay? Thanks", True),
        ("My bill is wrong, which one do I pay?", True),
        ("How do I pay. Now!", False),  # the sentence with the opener ends in "."
        ("Why is this so slow?", False),  # no calm opener
        ("hello hello", False),
    ],
)
def test_a_calm_question_is_found_as_before(rules: FrustrationRules, text: str, calm: bool):
    assert rules.read(text).evidence["calm_question"] is calm


@pytest.mark.timeout(5)
def test_a_rating_with_a_long_run_of_spaces_is_read_in_linear_time():
    assert parse_rating("4" + " " * ADVERSARIAL_LENGTH + "stars") == 4


@pytest.mark.parametrize(
    "text, rating", [("4/5", 4), ("4 / 5", 4), ("3 out of 5", 3), ("five  OUT  OF  5", 5)]
)
def test_the_scale_is_still_not_a_second_rating(text: str, rating: int):
    assert parse_rating(text) == rating


def test_the_token_rules_default_to_the_widget_audience_and_a_day():
    settings = Settings.from_env({})
    assert settings.jwt_audience == "baton-widget"
    assert settings.jwt_issuer == "baton"
    assert settings.jwt_max_lifetime_seconds == 86_400


def test_the_token_rules_are_read():
    settings = Settings.from_env(
        {
            "BATON_JWT_AUDIENCE": " brightwave-chat ",
            "BATON_JWT_ISSUER": "https://www.brightwave.example",
            "BATON_JWT_MAX_LIFETIME_SECONDS": "3600",
        }
    )
    assert settings.jwt_audience == "brightwave-chat"
    assert settings.jwt_issuer == "https://www.brightwave.example"
    assert settings.jwt_max_lifetime_seconds == 3600


@pytest.mark.parametrize(
    "env, message",
    [
        ({"BATON_JWT_AUDIENCE": "baton widget"}, "BATON_JWT_AUDIENCE is 'baton widget'; expected"),
        ({"BATON_JWT_ISSUER": "x" * 256}, "BATON_JWT_ISSUER is 'x+'; expected 1 to 255"),
        (
            {"BATON_JWT_MAX_LIFETIME_SECONDS": "1d"},
            "BATON_JWT_MAX_LIFETIME_SECONDS is '1d'; expected a whole number",
        ),
        (
            {"BATON_JWT_MAX_LIFETIME_SECONDS": "59"},
            "BATON_JWT_MAX_LIFETIME_SECONDS is 59; allowed: 60 to 604800",
        ),
        (
            {"BATON_JWT_MAX_LIFETIME_SECONDS": "604801"},
            "BATON_JWT_MAX_LIFETIME_SECONDS is 604801; allowed: 60 to 604800",
        ),
    ],
)
def test_bad_token_rules_are_refused_naming_the_variable(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


# --- pruning -----------------------------------------------------------------------------

NOW = T0 + dt.timedelta(days=2)
SESSION_IDLE = dt.timedelta(hours=8)


@pytest.fixture
def agent(session_factory: sessionmaker) -> AgentRecord:
    directory = AgentDirectory(session_factory, hasher=CHEAP_HASHER)
    directory.sync_teams(TEAMS)
    return add_agent(directory, "Sam")


def _count(session_factory: sessionmaker, model: type) -> int:
    with session_factory() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def _stale_and_fresh_rows(session_factory: sessionmaker, agent: AgentRecord) -> None:
    """One expired and one live console session; one long-ended and one live call."""
    sessions = DeskSessions(session_factory, idle=SESSION_IDLE)
    sessions.start(agent.id, T0)
    sessions.start(agent.id, NOW - dt.timedelta(hours=1))
    settings = CallSettings.from_env({})
    calls = CallService(session_factory, settings, make_provider(settings))
    ended, live = handed_off(session_factory, agent), handed_off(session_factory, agent)
    calls.invite(agent, ended, "video", CONNECTION_A, T0)
    calls.conversation_closed(ended, "conversation_closed", "desk", T0)
    calls.invite(agent, live, "screen", CONNECTION_A, NOW - dt.timedelta(minutes=1))


def test_the_clock_loop_prunes_sessions_and_calls(
    migrated_url: str, session_factory: sessionmaker, agent: AgentRecord
):
    _stale_and_fresh_rows(session_factory, agent)
    stop = threading.Event()

    def one_tick() -> dt.datetime:
        # The loop's clock: asked first by the sweep; setting `stop` makes this the last tick.
        stop.set()
        return NOW

    run_clock(Settings(database_url=migrated_url), load_default_policy(), 0.0, stop, now=one_tick)

    assert _count(session_factory, AgentSession) == 1
    assert _count(session_factory, Call) == 1
    with session_factory() as session:
        assert session.execute(select(Call.state)).scalar_one() == "inviting"


def test_pruning_waits_for_its_interval(session_factory: sessionmaker, agent: AgentRecord):
    pruner = Pruner(session_factory, SESSION_IDLE)
    assert pruner.prune_if_due(T0) is not None  # the first call prunes at once
    _stale_and_fresh_rows(session_factory, agent)

    assert pruner.prune_if_due(T0 + DEFAULT_PRUNE_INTERVAL - dt.timedelta(seconds=1)) is None
    assert _count(session_factory, AgentSession) == 2

    pruned = pruner.prune_if_due(NOW)
    assert pruned is not None and (pruned.desk_sessions, pruned.calls) == (1, 1)
    assert (_count(session_factory, AgentSession), _count(session_factory, Call)) == (1, 1)
