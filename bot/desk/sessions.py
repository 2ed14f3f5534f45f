"""Signed-in consoles: an opaque token in a cookie, only its hash in `agent_sessions`.

A session ends after `idle` without a request, and after `absolute` however
busy it is. A request extends the idle deadline, but writes at most once a
minute per session: the console polls and every API call resolves the cookie,
and a write per request would be most of the desk's database traffic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import sessionmaker

from bot.desk.agents import UnknownAgent, agent_record
from bot.desk.records import DeskSession
from bot.store.models import Agent, AgentSession

logger = logging.getLogger(__name__)

DEFAULT_IDLE = dt.timedelta(hours=8)
DEFAULT_ABSOLUTE = dt.timedelta(hours=24)
# How stale `last_used_at` (and the idle deadline) may get before a request writes.
TOUCH_INTERVAL = dt.timedelta(minutes=1)
TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters; anything much longer is not our token.
MAX_TOKEN_LENGTH = 128

_SESSIONS = AgentSession.__table__
_AGENTS = Agent.__table__


def token_hash(token: str) -> str:
    """What the table stores for a token: its sha256, hex (a leaked table signs nobody in)."""
    return hashlib.sha256(token.encode()).hexdigest()


class DeskSessions:
    """Start, resolve and end console sessions.

    Args:
        session_factory: from `bot.db.make_session_factory`.
        idle: a session unused this long has ended (`BATON_DESK_SESSION_HOURS`).
        absolute: no session lives longer than this, however active.
    """

    def __init__(
        self,
        session_factory: sessionmaker,
        idle: dt.timedelta = DEFAULT_IDLE,
        absolute: dt.timedelta = DEFAULT_ABSOLUTE,
    ) -> None:
        if idle <= dt.timedelta(0) or absolute <= dt.timedelta(0):
            raise ValueError("session lifetimes must be positive")
        self._session_factory = session_factory
        self._idle = idle
        self._absolute = absolute

    def start(self, agent_id: int, now: dt.datetime) -> tuple[str, DeskSession]:
        """A new session for a signed-in agent: the token for the cookie, and the session.

        Raises:
            UnknownAgent: no such agent.
        """
        token = secrets.token_urlsafe(TOKEN_BYTES)
        csrf_token = secrets.token_urlsafe(TOKEN_BYTES)
        expires_at = self._expiry(created_at=now, used_at=now)
        with self._session_factory.begin() as session:
            agent = session.get(Agent, agent_id)
            if agent is None:
                raise UnknownAgent(f"no agent has the id {agent_id}")
            session.execute(
                _SESSIONS.insert().values(
                    token_hash=token_hash(token),
                    agent_id=agent_id,
                    csrf_token=csrf_token,
                    created_at=now,
                    expires_at=expires_at,
                    last_used_at=now,
                )
            )
            record = agent_record(agent)
        logger.info("desk.session.started agent=%s", agent_id)
        return token, DeskSession(agent=record, csrf_token=csrf_token, expires_at=expires_at)

    def resolve(self, token: str | None, now: dt.datetime) -> DeskSession | None:
        """The live session of a cookie's token, or None (unknown, ended or expired)."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        with self._session_factory() as session:
            row = session.execute(
                select(AgentSession, Agent)
                .join(Agent, Agent.id == AgentSession.agent_id)
                .where(AgentSession.token_hash == token_hash(token))
            ).first()
            if row is None:
                return None
            stored, agent = row
            # Both checks: `absolute` may have been shortened since the session started.
            if stored.expires_at <= now or stored.created_at + self._absolute <= now:
                return None
            record = agent_record(agent)
            expires_at = stored.expires_at
            if now - stored.last_used_at >= TOUCH_INTERVAL:
                expires_at = self._expiry(created_at=stored.created_at, used_at=now)
                session.execute(
                    update(_SESSIONS)
                    .where(_SESSIONS.c.id == stored.id)
                    .values(last_used_at=now, expires_at=expires_at)
                )
                # The agents table's "last sign of life" follows the console's.
                session.execute(
                    update(_AGENTS).where(_AGENTS.c.id == agent.id).values(last_seen_at=now)
                )
                session.commit()
        return DeskSession(agent=record, csrf_token=stored.csrf_token, expires_at=expires_at)

    def end(self, token: str | None) -> bool:
        """Sign one console out; False when the token had no session."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return False
        with self._session_factory.begin() as session:
            removed: int = session.execute(
                delete(_SESSIONS).where(_SESSIONS.c.token_hash == token_hash(token))
            ).rowcount
        return removed > 0

    def end_all_for(self, agent_id: int) -> int:
        """Sign an agent out everywhere (a password change, a removed account); how many ended."""
        with self._session_factory.begin() as session:
            removed: int = session.execute(
                delete(_SESSIONS).where(_SESSIONS.c.agent_id == agent_id)
            ).rowcount
        if removed:
            logger.info("desk.session.ended_all agent=%s sessions=%d", agent_id, removed)
        return removed

    def purge_expired(self, now: dt.datetime) -> int:
        """Delete the sessions that can no longer be resolved; how many."""
        with self._session_factory.begin() as session:
            purged: int = session.execute(
                delete(_SESSIONS).where(
                    or_(
                        _SESSIONS.c.expires_at <= now,
                        _SESSIONS.c.created_at <= now - self._absolute,
                    )
                )
            ).rowcount
        return purged

    def _expiry(self, *, created_at: dt.datetime, used_at: dt.datetime) -> dt.datetime:
        return min(used_at + self._idle, created_at + self._absolute)
