"""The desk's people: accounts, passwords, statuses and team memberships.

A narrow repository over the `agents`, `agent_teams` and `teams` tables. Every
method opens its own short transaction and returns frozen `AgentRecord`s.
Password hashing (a tenth of a second by design) happens outside transactions.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from typing import Any, Dict, Iterable, List, Sequence, Tuple

from argon2 import PasswordHasher
from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.desk.passwords import (
    DEFAULT_HASHER,
    hash_password,
    needs_rehash,
    verify_password,
)
from bot.desk.records import AgentRecord, TeamRecord
from bot.store.models import AGENT_ROLES, Agent, Team, agent_teams
from bot.tickets.states import AGENT_OFFLINE, AGENT_STATUSES

logger = logging.getLogger(__name__)

MAX_CAPACITY = 50
MAX_EMAIL_LENGTH = 320
MAX_NAME_LENGTH = 255
# The `agents.languages` column: comma-separated codes in 64 characters.
MAX_LANGUAGES_LENGTH = 64
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# "en", "fr", "pt-br", "zh-hant": what `tickets.language` (8 characters) can hold.
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,4})?")

_AGENTS = Agent.__table__
_TEAMS = Team.__table__


class AgentExists(ValueError):
    """Somebody already has this email address (a ValueError: it is bad input)."""


class UnknownTeam(ValueError):
    """A team key that is not in the teams table (escalation.yml's teams)."""


class UnknownAgent(LookupError):
    """No agent has this id."""


def normalize_email(email: str) -> str:
    """An email address in its stored form (trimmed, lower-case).

    Raises:
        ValueError: it does not look like an email address.
    """
    cleaned = (email or "").strip().lower()
    if len(cleaned) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(cleaned):
        raise ValueError(f"{email!r} is not an email address (name@example.com)")
    return cleaned


def normalize_languages(languages: Iterable[str]) -> Tuple[str, ...]:
    """Language codes, lower-case, each once, in the order given.

    Raises:
        ValueError: none given, a malformed code, or too many to store.
    """
    if isinstance(languages, str):
        languages = languages.split(",")
    codes: List[str] = []
    for language in languages:
        code = language.strip().lower()
        if not _LANGUAGE.fullmatch(code):
            raise ValueError(f"{language!r} is not a language code (such as en, fr, pt-br)")
        if code not in codes:
            codes.append(code)
    if not codes:
        raise ValueError("an agent needs at least one language (such as en)")
    if len(",".join(codes)) > MAX_LANGUAGES_LENGTH:
        raise ValueError(f"too many languages: at most {MAX_LANGUAGES_LENGTH} characters in all")
    return tuple(codes)


def check_role(role: str) -> str:
    if role not in AGENT_ROLES:
        raise ValueError(f"role {role!r} is not a role; allowed: {', '.join(AGENT_ROLES)}")
    return role


def check_status(status: str) -> str:
    if status not in AGENT_STATUSES:
        raise ValueError(f"status {status!r} is not a status; allowed: {', '.join(AGENT_STATUSES)}")
    return status


def check_capacity(capacity: int) -> int:
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        raise ValueError(f"capacity {capacity!r} is not a whole number")
    if not 0 <= capacity <= MAX_CAPACITY:
        raise ValueError(
            f"capacity {capacity} is out of range; allowed: 0 (never offered chats) to "
            f"{MAX_CAPACITY}"
        )
    return capacity


def _check_name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ValueError("the name is empty; it is what customers see when this person joins")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise ValueError(f"the name is longer than {MAX_NAME_LENGTH} characters")
    return cleaned


def _team_keys(teams: Iterable[str]) -> Tuple[str, ...]:
    if isinstance(teams, str):
        teams = (teams,)
    keys: List[str] = []
    for team in teams:
        key = team.strip()
        if key and key not in keys:
            keys.append(key)
    return tuple(keys)


def agent_record(row: Agent) -> AgentRecord:
    """A frozen snapshot of a loaded agent (its teams are loaded with it)."""
    return AgentRecord(
        id=row.id,
        email=row.email,
        name=row.name,
        role=row.role,
        status=row.status,
        capacity=row.capacity,
        languages=tuple(code for code in (row.languages or "").split(",") if code),
        teams=tuple(sorted(team.key for team in row.teams)),
    )


class AgentDirectory:
    """Agents and teams of the desk.

    Args:
        session_factory: from `bot.db.make_session_factory`.
        hasher: Argon2 parameters for new hashes; a hash made with others is
            replaced at the agent's next sign-in.
    """

    def __init__(
        self, session_factory: sessionmaker, hasher: PasswordHasher = DEFAULT_HASHER
    ) -> None:
        self._session_factory = session_factory
        self._hasher = hasher
        self._dummy_hash: str | None = None

    # --- accounts ------------------------------------------------------------------

    def create_agent(
        self,
        *,
        email: str,
        name: str,
        password: str,
        role: str = "agent",
        teams: Sequence[str] = (),
        capacity: int = 3,
        languages: Sequence[str] = ("en",),
        now: dt.datetime,
    ) -> AgentRecord:
        """Add a person, `offline` until they sign in.

        Raises:
            AgentExists: the email address is taken (whatever its case).
            UnknownTeam: a team key is not one of escalation.yml's teams.
            ValueError: a malformed email, name, role, capacity, language or password.
        """
        email = normalize_email(email)
        name = _check_name(name)
        role = check_role(role)
        capacity = check_capacity(capacity)
        codes = normalize_languages(languages)
        keys = _team_keys(teams)
        password_hash = hash_password(password, self._hasher)
        try:
            with self._session_factory.begin() as session:
                if _agent_id_by_email(session, email) is not None:
                    raise AgentExists(f"an agent with the email {email} already exists")
                team_ids = _team_ids(session, keys)
                agent_id = session.execute(
                    insert(_AGENTS).values(
                        email=email,
                        name=name,
                        role=role,
                        password_hash=password_hash,
                        status=AGENT_OFFLINE,
                        capacity=capacity,
                        languages=",".join(codes),
                        created_at=now,
                    )
                ).inserted_primary_key[0]
                if team_ids:
                    session.execute(
                        insert(agent_teams),
                        [{"agent_id": agent_id, "team_id": team_id} for team_id in team_ids],
                    )
        except IntegrityError:
            # Two concurrent creations of one email: the unique constraint decided.
            if self.agent_by_email(email) is not None:
                raise AgentExists(f"an agent with the email {email} already exists") from None
            raise
        logger.info("desk.agent.created agent=%s role=%s", agent_id, role)
        return AgentRecord(
            id=agent_id,
            email=email,
            name=name,
            role=role,
            status=AGENT_OFFLINE,
            capacity=capacity,
            languages=codes,
            teams=tuple(sorted(keys)),
        )

    def authenticate(self, email: str, password: str, now: dt.datetime) -> AgentRecord | None:
        """The agent with this email and password, or None; a success is a sign of life.

        An unknown email costs a hash verification too, so the time a sign-in
        takes does not tell which addresses have accounts.
        """
        try:
            email = normalize_email(email)
        except ValueError:
            email = ""
        with self._session_factory() as session:
            row = session.execute(
                select(_AGENTS.c.id, _AGENTS.c.password_hash).where(_AGENTS.c.email == email)
            ).first()
        if row is None or row.password_hash is None:
            verify_password(password or "", self._dummy(), self._hasher)
            return None
        if not verify_password(password or "", row.password_hash, self._hasher):
            return None
        values: Dict[str, Any] = {"last_seen_at": now}
        if needs_rehash(row.password_hash, self._hasher):
            # The right password, under old parameters: store it under today's.
            values["password_hash"] = self._hasher.hash(password)
        with self._session_factory.begin() as session:
            session.execute(update(_AGENTS).where(_AGENTS.c.id == row.id).values(**values))
            return _load(session, row.id)

    def ensure_password(self, agent_id: int, password: str) -> bool:
        """Make `password` the agent's password; True when it changed (it did not verify before).

        Raises:
            UnknownAgent: no such agent.
            ValueError: the password is too short or too long.
        """
        with self._session_factory() as session:
            current = session.execute(
                select(_AGENTS.c.password_hash).where(_AGENTS.c.id == agent_id)
            ).first()
        if current is None:
            raise UnknownAgent(f"no agent has the id {agent_id}")
        if verify_password(password, current.password_hash, self._hasher) and not needs_rehash(
            current.password_hash, self._hasher
        ):
            return False
        password_hash = hash_password(password, self._hasher)
        with self._session_factory.begin() as session:
            session.execute(
                update(_AGENTS).where(_AGENTS.c.id == agent_id).values(password_hash=password_hash)
            )
        return True

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            # A hash of a password nobody knows, with this directory's parameters.
            self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(24))
        return self._dummy_hash

    # --- reads ---------------------------------------------------------------------

    def agent(self, agent_id: int) -> AgentRecord | None:
        with self._session_factory() as session:
            return _load(session, agent_id)

    def agent_by_email(self, email: str) -> AgentRecord | None:
        try:
            email = normalize_email(email)
        except ValueError:
            return None
        with self._session_factory() as session:
            row = session.execute(select(Agent).where(Agent.email == email)).scalar_one_or_none()
            return agent_record(row) if row is not None else None

    def agents(self) -> List[AgentRecord]:
        """Everybody, in the order they were added."""
        with self._session_factory() as session:
            rows = session.execute(select(Agent).order_by(Agent.id)).scalars().all()
            return [agent_record(row) for row in rows]

    def has_admin(self) -> bool:
        with self._session_factory() as session:
            return (
                session.execute(
                    select(_AGENTS.c.id).where(_AGENTS.c.role == "admin").limit(1)
                ).first()
                is not None
            )

    # --- changes -------------------------------------------------------------------

    def set_status(self, agent_id: int, status: str, now: dt.datetime) -> AgentRecord:
        """`online`, `away` or `offline` (only `online` agents are offered chats).

        Raises:
            ValueError: not a status.
            UnknownAgent: no such agent.
        """
        check_status(status)
        with self._session_factory.begin() as session:
            changed = session.execute(
                update(_AGENTS)
                .where(_AGENTS.c.id == agent_id)
                .values(status=status, last_seen_at=now)
            ).rowcount
            if changed != 1:
                raise UnknownAgent(f"no agent has the id {agent_id}")
            record = _load(session, agent_id)
        logger.info("desk.agent.status agent=%s status=%s", agent_id, status)
        return record  # type: ignore[return-value]  # updated just now: the row exists

    def set_teams(self, agent_id: int, teams: Sequence[str]) -> AgentRecord:
        """Replace the agent's team memberships.

        Raises:
            UnknownTeam: a team key is not one of escalation.yml's teams.
            UnknownAgent: no such agent.
        """
        keys = _team_keys(teams)
        with self._session_factory.begin() as session:
            if (
                session.execute(select(_AGENTS.c.id).where(_AGENTS.c.id == agent_id)).first()
                is None
            ):
                raise UnknownAgent(f"no agent has the id {agent_id}")
            team_ids = _team_ids(session, keys)
            session.execute(delete(agent_teams).where(agent_teams.c.agent_id == agent_id))
            if team_ids:
                session.execute(
                    insert(agent_teams),
                    [{"agent_id": agent_id, "team_id": team_id} for team_id in team_ids],
                )
            session.flush()
            session.expire_all()
            return _load(session, agent_id)  # type: ignore[return-value]  # checked above

    # --- teams ---------------------------------------------------------------------

    def teams(self) -> List[TeamRecord]:
        """The teams, in escalation.yml's order (the order they were first synced)."""
        with self._session_factory() as session:
            rows = session.execute(select(_TEAMS.c.key, _TEAMS.c.name).order_by(_TEAMS.c.id))
            return [TeamRecord(key=row.key, name=row.name) for row in rows]

    def sync_teams(self, teams: Iterable[Tuple[str, str]]) -> int:
        """Insert the (key, name) pairs that are missing, rename those whose name changed.

        Teams no longer in the policy stay (old tickets and memberships name them).
        Safe when several replicas start at once: an insert that meets another's
        is skipped. Returns how many teams were added or renamed.
        """
        wanted = dict(teams)
        if not wanted:
            return 0
        changed = 0
        with self._session_factory.begin() as session:
            existing = dict(session.execute(select(_TEAMS.c.key, _TEAMS.c.name)).all())
            missing = [
                {"key": key, "name": name} for key, name in wanted.items() if key not in existing
            ]
            if missing:
                # Baton runs on these two; both have INSERT .. ON CONFLICT DO NOTHING.
                dialect = session.get_bind().dialect.name
                flavour = postgresql if dialect == "postgresql" else sqlite
                statement = flavour.insert(_TEAMS).on_conflict_do_nothing(index_elements=["key"])
                for row in missing:
                    changed += session.execute(statement.values(**row)).rowcount or 0
            for key, name in wanted.items():
                if key in existing and existing[key] != name:
                    session.execute(update(_TEAMS).where(_TEAMS.c.key == key).values(name=name))
                    changed += 1
        return changed


def _load(session: Session, agent_id: int) -> AgentRecord | None:
    row = session.get(Agent, agent_id, populate_existing=True)
    return agent_record(row) if row is not None else None


def _agent_id_by_email(session: Session, email: str) -> int | None:
    agent_id: int | None = session.execute(
        select(_AGENTS.c.id).where(_AGENTS.c.email == email)
    ).scalar_one_or_none()
    return agent_id


def _team_ids(session: Session, keys: Sequence[str]) -> List[int]:
    if not keys:
        return []
    found = dict(
        session.execute(select(_TEAMS.c.key, _TEAMS.c.id).where(_TEAMS.c.key.in_(keys))).all()
    )
    unknown = [key for key in keys if key not in found]
    if unknown:
        known = session.execute(select(_TEAMS.c.key).order_by(_TEAMS.c.id)).scalars().all()
        if not known:
            raise UnknownTeam(
                f"unknown team {unknown[0]!r}: no teams are loaded yet "
                "(they come from escalation.yml when `bot run` or `bot agent add` starts)"
            )
        raise UnknownTeam(
            f"unknown team {', '.join(map(repr, unknown))}; known teams: {', '.join(known)}"
        )
    return [found[key] for key in keys]
