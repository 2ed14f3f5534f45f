"""Console sessions: a token only its owner holds, idle and absolute expiry, sign-out."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import func, select

from bot.desk.agents import UnknownAgent
from bot.desk.sessions import DeskSessions
from bot.store.models import Agent, AgentSession
from tests.desk.conftest import T0, add_agent

IDLE = dt.timedelta(hours=8)
ABSOLUTE = dt.timedelta(hours=24)
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def sessions(session_factory) -> DeskSessions:
    return DeskSessions(session_factory, idle=IDLE, absolute=ABSOLUTE)


@pytest.fixture
def sam(directory):
    return add_agent(directory, "Sam", status="offline")


def rows(session_factory) -> list:
    with session_factory() as session:
        return session.execute(select(AgentSession)).scalars().all()


def test_a_started_session_resolves_to_its_agent_and_csrf_token(sessions, sam):
    token, started = sessions.start(sam.id, T0)

    resolved = sessions.resolve(token, T0 + MINUTE)

    assert resolved is not None
    assert resolved.agent == sam
    assert resolved.csrf_token == started.csrf_token
    assert started.expires_at == T0 + IDLE
    assert len(token) >= 43 and len(started.csrf_token) >= 43
    assert started.csrf_token != token


def test_only_the_tokens_hash_is_stored(sessions, sam, session_factory):
    token, _ = sessions.start(sam.id, T0)

    (row,) = rows(session_factory)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.token_hash, row.csrf_token)
    assert sessions.resolve(row.token_hash, T0) is None  # the hash itself signs nobody in


def test_every_session_gets_its_own_tokens(sessions, sam):
    first_token, first = sessions.start(sam.id, T0)
    second_token, second = sessions.start(sam.id, T0)

    assert first_token != second_token
    assert first.csrf_token != second.csrf_token


@pytest.mark.parametrize("token", [None, "", "not-a-token", "x" * 500])
def test_an_unknown_token_resolves_to_nothing(sessions, sam, token):
    sessions.start(sam.id, T0)

    assert sessions.resolve(token, T0) is None


def test_a_session_unused_for_the_idle_time_has_ended(sessions, sam):
    untouched, _ = sessions.start(sam.id, T0)
    token, _ = sessions.start(sam.id, T0)

    assert sessions.resolve(untouched, T0 + IDLE) is None
    assert sessions.resolve(token, T0 + IDLE - MINUTE) is not None
    assert sessions.resolve(token, T0 + IDLE - MINUTE + IDLE) is None


def test_use_slides_the_idle_deadline(sessions, sam):
    token, _ = sessions.start(sam.id, T0)

    used = sessions.resolve(token, T0 + dt.timedelta(hours=7))

    assert used.expires_at == T0 + dt.timedelta(hours=15)
    assert sessions.resolve(token, T0 + dt.timedelta(hours=14)) is not None
    assert sessions.resolve(token, T0 + dt.timedelta(hours=21, minutes=59)) is not None


def test_no_use_keeps_a_session_past_the_absolute_limit(sessions, sam):
    token, _ = sessions.start(sam.id, T0)
    now = T0
    while now < T0 + ABSOLUTE - dt.timedelta(hours=4):
        now += dt.timedelta(hours=4)
        assert sessions.resolve(token, now) is not None

    last = sessions.resolve(token, T0 + ABSOLUTE - MINUTE)
    assert last is not None and last.expires_at == T0 + ABSOLUTE  # capped, not now + idle
    assert sessions.resolve(token, T0 + ABSOLUTE) is None


def test_a_shorter_absolute_limit_applies_to_sessions_started_before(
    session_factory, sessions, sam
):
    token, _ = sessions.start(sam.id, T0)
    stricter = DeskSessions(session_factory, idle=IDLE, absolute=dt.timedelta(hours=2))

    assert stricter.resolve(token, T0 + dt.timedelta(hours=1)) is not None
    assert stricter.resolve(token, T0 + dt.timedelta(hours=2)) is None


def test_requests_within_a_minute_write_nothing(sessions, sam, session_factory):
    token, _ = sessions.start(sam.id, T0)

    sessions.resolve(token, T0 + dt.timedelta(seconds=59))
    (row,) = rows(session_factory)
    assert (row.last_used_at, row.expires_at) == (T0, T0 + IDLE)

    sessions.resolve(token, T0 + MINUTE)
    (row,) = rows(session_factory)
    assert (row.last_used_at, row.expires_at) == (T0 + MINUTE, T0 + MINUTE + IDLE)
    with session_factory() as session:
        assert session.get(Agent, sam.id).last_seen_at == T0 + MINUTE


def test_the_session_shows_the_agents_current_details(sessions, sam, directory):
    token, _ = sessions.start(sam.id, T0)
    directory.set_status(sam.id, "online", T0)

    assert sessions.resolve(token, T0).agent.status == "online"


def test_ending_a_session_signs_that_console_out_only(sessions, sam):
    token, _ = sessions.start(sam.id, T0)
    other, _ = sessions.start(sam.id, T0)

    assert sessions.end(token) is True
    assert sessions.resolve(token, T0) is None
    assert sessions.resolve(other, T0) is not None
    assert sessions.end(token) is False
    assert sessions.end(None) is False


def test_ending_all_of_an_agents_sessions_leaves_the_others(sessions, sam, directory):
    dana = add_agent(directory, "Dana", role="supervisor")
    tokens = [sessions.start(sam.id, T0)[0] for _ in range(3)]
    danas, _ = sessions.start(dana.id, T0)

    assert sessions.end_all_for(sam.id) == 3
    assert all(sessions.resolve(token, T0) is None for token in tokens)
    assert sessions.resolve(danas, T0) is not None


def test_purge_removes_only_sessions_that_cannot_resolve(sessions, sam, session_factory):
    sessions.start(sam.id, T0)
    fresh, _ = sessions.start(sam.id, T0 + dt.timedelta(hours=5))
    now = T0 + IDLE

    assert sessions.purge_expired(now) == 1
    assert sessions.resolve(fresh, now) is not None
    with session_factory() as session:
        assert session.execute(select(func.count()).select_from(AgentSession)).scalar_one() == 1


def test_a_session_for_nobody_cannot_start(sessions):
    with pytest.raises(UnknownAgent):
        sessions.start(999, T0)


@pytest.mark.parametrize("presented, matches", [(None, False), ("", False), ("wrong", False)])
def test_the_csrf_check_refuses_anything_but_the_sessions_token(sessions, sam, presented, matches):
    _, started = sessions.start(sam.id, T0)

    assert started.csrf_matches(presented) is matches
    assert started.csrf_matches(started.csrf_token) is True
