"""The router: offers each queued conversation to one agent who can take it now.

Rules ("Routing" in docs/desk.md), for tickets `open` whose conversation is
`queued` and that have no live offer, highest priority first, then the earliest
first-response deadline, then the oldest:

- an agent is eligible when `online`, a member of the ticket's team, and
  holding fewer active chats (tickets `assigned` to them) plus live offers than
  their capacity;
- among the eligible, those who speak the ticket's language come first (when
  any does); then the least loaded; then whoever least recently got an offer or
  an assignment; then the lowest id;
- an offer that expired goes to somebody else when anybody else is eligible.

Every offer writes a `ticket_history` row (actor `router`, action `offered`,
`to_value` `agent:<id>`, `from_value` the previous offeree), which is also how
the router remembers who had the ticket before.

Several replicas may route at once. On PostgreSQL each pass locks its agents
`FOR NO KEY UPDATE SKIP LOCKED` (so two routers never count one agent's load
at the same time: the second skips that agent this pass, nobody waits) and its
tickets `FOR UPDATE SKIP LOCKED` (so two routers never offer one ticket). NO
KEY: a ticket assigned to the agent meanwhile (a foreign key check, KEY SHARE)
need not wait for the router. On SQLite a pass takes the database's write lock
first, so passes run one at a time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Set

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import Agent, Conversation, Team, Ticket, TicketHistory, agent_teams
from bot.tickets import queries
from bot.tickets import repository as lifecycle
from bot.tickets.states import (
    ACTION_ASSIGNED,
    ACTION_OFFERED,
    AGENT_ONLINE,
    CONVERSATION_QUEUED,
    TICKET_OPEN,
)

logger = logging.getLogger(__name__)

ACTOR_ROUTER = "router"
# The history actions that give an agent a conversation (the desk writes `assigned`).
GIVING_ACTIONS = (ACTION_OFFERED, ACTION_ASSIGNED)
DEFAULT_OFFER_SECONDS = 30
# Tickets examined per pass. Only tickets of teams with a free agent are read, so
# a ticket beyond the batch waits at most until the next pass.
BATCH_SIZE = 200

_TICKETS = Ticket.__table__
_AGENTS = Agent.__table__
_TEAMS = Team.__table__
_CONVERSATIONS = Conversation.__table__
_HISTORY = TicketHistory.__table__
_EPOCH = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def agent_token(agent_id: int) -> str:
    """How history rows name an agent (`agent:<id>`, also the actor of agents' own actions)."""
    return f"agent:{agent_id}"


def _agent_id(token: str | None) -> int | None:
    if not token or not token.startswith("agent:"):
        return None
    try:
        return int(token.split(":", 1)[1])
    except ValueError:
        return None


@dataclass(frozen=True)
class Offer:
    """A conversation offered to one agent until `expires_at`."""

    ticket_id: int
    reference: str
    conversation_id: str  # Rasa's sender id
    agent_id: int
    expires_at: dt.datetime


@dataclass
class _Candidate:
    id: int
    capacity: int
    languages: Set[str]
    teams: Set[str]
    load: int
    last_given: dt.datetime

    def free(self) -> bool:
        return self.load < self.capacity


class Router:
    """Offers queued conversations to agents.

    Args:
        session_factory: from `bot.db.make_session_factory`.
        offer_seconds: how long an agent has to accept (`BATON_OFFER_SECONDS`).
        batch_size: waiting tickets examined (and locked) per pass.
    """

    def __init__(
        self,
        session_factory: sessionmaker,
        offer_seconds: int = DEFAULT_OFFER_SECONDS,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        if offer_seconds <= 0:
            raise ValueError(f"offer_seconds is {offer_seconds}; it must be positive")
        if batch_size < 1:
            raise ValueError(f"batch_size is {batch_size}; it must be at least 1")
        self._session_factory = session_factory
        self._offer_for = dt.timedelta(seconds=offer_seconds)
        self._batch_size = batch_size

    def offer_waiting(self, now: dt.datetime) -> List[Offer]:
        """Offer every waiting conversation that somebody can take now; the offers made.

        One transaction: the offers and their history rows commit together.
        """
        with self._session_factory.begin() as session:
            postgres = session.get_bind().dialect.name == "postgresql"
            if not postgres:
                # SQLite's write lock first, so what is read next is still true at commit.
                lifecycle.take_write_lock(session)
            candidates = self._free_candidates(session, now, postgres)
            if not candidates:
                return []
            tickets = self._waiting_tickets(
                session, now, {team for c in candidates for team in c.teams}, postgres
            )
            if not tickets:
                return []
            previous = _previous_offerees(session, [ticket.id for ticket in tickets])
            _fill_last_given(session, candidates)
            offers: List[Offer] = []
            history: List[Dict[str, Any]] = []
            for ticket in tickets:
                chosen = _choose(candidates, ticket.team, ticket.language, previous.get(ticket.id))
                if chosen is None:
                    continue
                expires_at = now + self._offer_for
                lifecycle.offer(session, ticket.id, chosen.id, expires_at, now)
                speaks = ticket.language in chosen.languages
                history.append(
                    lifecycle.history_row(
                        ticket.id,
                        now,
                        ACTOR_ROUTER,
                        ACTION_OFFERED,
                        from_value=agent_token(previous[ticket.id])
                        if ticket.id in previous
                        else None,
                        to_value=agent_token(chosen.id),
                        reason=(
                            f"online in {ticket.team}, {chosen.load} of {chosen.capacity} "
                            "chats and offers, "
                            + (
                                f"speaks {ticket.language}"
                                if speaks
                                else f"nobody free speaks {ticket.language}"
                            )
                            + f"; offer until {expires_at.isoformat()}"
                        ),
                    )
                )
                chosen.load += 1
                chosen.last_given = now
                offers.append(
                    Offer(
                        ticket_id=ticket.id,
                        reference=ticket.reference,
                        conversation_id=ticket.sender_id,
                        agent_id=chosen.id,
                        expires_at=expires_at,
                    )
                )
            lifecycle.record_rows(session, history)
        for offer in offers:
            logger.info(
                "handoff.offer.made ticket=%s agent=%s expires_at=%s",
                offer.reference,
                offer.agent_id,
                offer.expires_at.isoformat(),
            )
        return offers

    def active_chats(self, agent_id: int) -> int:
        """Conversations assigned to the agent and not resolved (their load, offers aside)."""
        with self._session_factory() as session:
            return queries.count_active_chats(session, agent_id)

    def active_chats_by_agent(self, agent_ids: Iterable[int] | None = None) -> Dict[int, int]:
        """`active_chats` of many agents in one query (agents without any are left out)."""
        with self._session_factory() as session:
            return {
                agent_id: count
                for agent_id, count in session.execute(queries.active_chats_by_agent(agent_ids))
            }

    def clear_offer(self, ticket_id: int) -> None:
        """Withdraw a ticket's offer (accepted, or the conversation left the queue)."""
        with self._session_factory.begin() as session:
            lifecycle.clear_offer(session, ticket_id)

    def _free_candidates(
        self, session: Session, now: dt.datetime, postgres: bool
    ) -> List[_Candidate]:
        """Online agents in at least one team with room for another chat, locked on PostgreSQL."""
        statement = (
            select(_AGENTS.c.id, _AGENTS.c.capacity, _AGENTS.c.languages)
            .where(
                _AGENTS.c.status == AGENT_ONLINE,
                _AGENTS.c.capacity > 0,
                _AGENTS.c.id.in_(select(agent_teams.c.agent_id)),
            )
            .order_by(_AGENTS.c.id)
        )
        if postgres:
            statement = statement.with_for_update(skip_locked=True, key_share=True)
        rows = session.execute(statement).all()
        if not rows:
            return []
        ids = [row.id for row in rows]
        # Counted after the lock: another router's offers to these agents are committed.
        load: Dict[int, int] = defaultdict(int)
        for agent_id, count in session.execute(queries.active_chats_by_agent(ids)):
            load[agent_id] += count
        for agent_id, count in session.execute(
            select(_TICKETS.c.offered_agent_id, func.count())
            .where(
                _TICKETS.c.status == TICKET_OPEN,
                _TICKETS.c.offered_agent_id.in_(ids),
                _TICKETS.c.offer_expires_at > now,
            )
            .group_by(_TICKETS.c.offered_agent_id)
        ):
            load[agent_id] += count
        teams: Dict[int, Set[str]] = defaultdict(set)
        for agent_id, key in session.execute(
            select(agent_teams.c.agent_id, _TEAMS.c.key)
            .join(_TEAMS, _TEAMS.c.id == agent_teams.c.team_id)
            .where(agent_teams.c.agent_id.in_(ids))
        ):
            teams[agent_id].add(key)
        candidates = [
            _Candidate(
                id=row.id,
                capacity=row.capacity,
                languages={code for code in (row.languages or "").split(",") if code},
                teams=teams[row.id],
                load=load[row.id],
                last_given=_EPOCH,
            )
            for row in rows
        ]
        return [candidate for candidate in candidates if candidate.free()]

    def _waiting_tickets(
        self, session: Session, now: dt.datetime, teams: Set[str], postgres: bool
    ) -> List[_Waiting]:
        statement = (
            select(
                _TICKETS.c.id,
                _TICKETS.c.reference,
                _TICKETS.c.team,
                _TICKETS.c.language,
                _CONVERSATIONS.c.sender_id,
            )
            .join(_CONVERSATIONS, _CONVERSATIONS.c.id == _TICKETS.c.conversation_id)
            .where(
                _TICKETS.c.status == TICKET_OPEN,
                _CONVERSATIONS.c.state == CONVERSATION_QUEUED,
                _TICKETS.c.team.in_(sorted(teams)),
                (_TICKETS.c.offer_expires_at.is_(None)) | (_TICKETS.c.offer_expires_at <= now),
            )
            # "P1" < "P2" < ...: the priority's text sorts most urgent first.
            .order_by(
                _TICKETS.c.priority,
                _TICKETS.c.first_response_due,
                _TICKETS.c.created_at,
                _TICKETS.c.id,
            )
            .limit(self._batch_size)
        )
        if postgres:
            # Only the tickets are locked: conversations change under the desk's own rules.
            statement = statement.with_for_update(skip_locked=True, of=_TICKETS)
        return [
            _Waiting(
                id=row.id,
                reference=row.reference,
                team=row.team,
                language=(row.language or "").lower(),
                sender_id=row.sender_id,
            )
            for row in session.execute(statement)
        ]


@dataclass(frozen=True)
class _Waiting:
    id: int
    reference: str
    team: str
    language: str
    sender_id: str


def _previous_offerees(session: Session, ticket_ids: List[int]) -> Dict[int, int]:
    """For each ticket, the agent of its latest offer (ordered by id: one pass shares one `at`)."""
    latest: Dict[int, int] = {}
    rows = session.execute(
        select(_HISTORY.c.ticket_id, _HISTORY.c.to_value)
        .where(_HISTORY.c.ticket_id.in_(ticket_ids), _HISTORY.c.action == ACTION_OFFERED)
        .order_by(_HISTORY.c.id)
    )
    for ticket_id, to_value in rows:
        agent_id = _agent_id(to_value)
        if agent_id is not None:
            latest[ticket_id] = agent_id
    return latest


def _fill_last_given(session: Session, candidates: List[_Candidate]) -> None:
    """When each candidate last got an offer or an assignment (the tie-break after load)."""
    by_token = {agent_token(candidate.id): candidate for candidate in candidates}
    rows = session.execute(
        select(_HISTORY.c.to_value, func.max(_HISTORY.c.at))
        .where(_HISTORY.c.action.in_(GIVING_ACTIONS), _HISTORY.c.to_value.in_(list(by_token)))
        .group_by(_HISTORY.c.to_value)
    )
    for token, at in rows:
        if at is not None:  # max() keeps the column's type: an aware UTC datetime
            by_token[token].last_given = at


def _choose(
    candidates: List[_Candidate], team: str, language: str, previous: int | None
) -> _Candidate | None:
    eligible = [c for c in candidates if team in c.teams and c.free()]
    if not eligible:
        return None
    speakers = [c for c in eligible if language in c.languages]
    if speakers:
        eligible = speakers
    if previous is not None and len(eligible) > 1:
        # An expired offer goes to somebody else (a declined or ignored offer is
        # not offered straight back); when the previous offeree is the only one
        # who can take it, it is offered to them again.
        others = [c for c in eligible if c.id != previous]
        if others:
            eligible = others
    return min(eligible, key=lambda c: (c.load, c.last_given, c.id))
