"""What agents do to handed-off conversations: the desk's state changes and reads.

Every change is one transaction that moves the conversation (`conversations.state`)
and its current ticket together and writes a `ticket_history` row naming the agent,
the reason and the escalation type: the audit trail the metrics read. Changes that
two agents could race (accept, resolve, ...) are conditional UPDATEs on the ticket's
expected status and assignee, so exactly one of two racing agents wins on SQLite and
PostgreSQL alike, and the loser gets a `Conflict`.

The transcript is not here: it lives in Rasa's tracker store (see connectors/desk.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.desk.records import AgentRecord
from bot.escalation.engine import YamlEscalationPolicy
from bot.escalation.types import EscalationType, NextLevel
from bot.metrics import prometheus
from bot.store.models import Agent, Conversation, Customer, Ticket, TicketHistory
from bot.tickets import queries
from bot.tickets import repository as lifecycle
from bot.tickets.states import (
    ACTION_ASSIGNED,
    ACTION_BLOCKED,
    ACTION_ESCALATED,
    ACTION_NOTE,
    ACTION_REQUEUED,
    ACTION_RESOLVED,
    ACTION_RETURNED_TO_BOT,
    ACTION_TRANSFERRED,
    CONVERSATION_BOT,
    CONVERSATION_QUEUED,
    CONVERSATION_RESOLVED,
    CONVERSATION_WITH_AGENT,
    HANDED_OFF_STATES,
    LIVE_TICKET_STATUSES,
    TICKET_ASSIGNED,
    TICKET_CLOSED,
    TICKET_RESOLVED,
)

MAX_NOTE_LENGTH = 4000
MAX_REASON_LENGTH = 500

_TICKETS = Ticket.__table__
_CONVERSATIONS = Conversation.__table__
_HISTORY = TicketHistory.__table__


class DeskError(Exception):
    """A request the desk refuses. The subclass says what kind of refusal it is and
    carries its facts; connectors/desk/errors.py alone turns the kind into HTTP."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DeskError):
    """What the request names does not exist."""


class Forbidden(DeskError):
    """It exists, but the agent asking may not touch it."""


class Conflict(DeskError):
    """The ticket is not in a state that allows the change."""


class InvalidRequest(DeskError):
    """The request itself is wrong (an unknown team, a text too long)."""


class NoHandoff(NotFound):
    """The conversation never reached the desk."""

    def __init__(self, conversation_id: str) -> None:
        self.conversation_id = conversation_id
        super().__init__(f"No handed-off conversation {conversation_id!r}.")


class OtherTeam(Forbidden):
    """The ticket belongs to a team the agent is not in."""

    def __init__(self, reference: str, team: str) -> None:
        self.reference = reference
        self.team = team
        super().__init__(f"Ticket {reference} belongs to the {team} team, which is not yours.")


class TicketNotLive(Conflict):
    """The ticket is resolved or closed: `action` (e.g. "accepted") is for live tickets only."""

    def __init__(self, reference: str, ticket_status: str, action: str | None = None) -> None:
        self.reference = reference
        self.ticket_status = ticket_status
        self.action = action
        super().__init__(
            f"Ticket {reference} is {ticket_status}; it cannot be {action}."
            if action
            else f"Ticket {reference} is already {ticket_status}."
        )


class TakenByAnother(Conflict):
    """Another agent has the conversation (`handling`: they are working on it, not just took it)."""

    def __init__(self, reference: str, agent_name: str | None, handling: bool = False) -> None:
        self.reference = reference
        self.agent_name = agent_name
        who = agent_name or "Another agent"
        super().__init__(
            f"{who} is handling this conversation."
            if handling
            else f"{who} already took this conversation."
        )


class AtCapacity(Conflict):
    """The agent already has as many conversations as their capacity."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        super().__init__(
            f"You already have {capacity} conversations open (your capacity); resolve one first."
        )


class ChangedMeanwhile(Conflict):
    """The ticket moved between reading and writing it (`taken`: another agent accepted it)."""

    def __init__(self, reference: str, taken: bool = False) -> None:
        self.reference = reference
        self.taken = taken
        super().__init__(
            "Another agent took this conversation a moment ago."
            if taken
            else "The conversation changed a moment ago; reload it."
        )


class TopOfMatrix(Conflict):
    """Nobody is above this team and level in the escalation matrix."""

    def __init__(self, team: str, level: int, tier: str) -> None:
        self.team = team
        self.level = level
        self.tier = tier
        super().__init__(
            f"{team} level {level} ({tier}) is the top of the escalation matrix; "
            "there is no one above it."
        )


class NotAccepted(Conflict):
    """The agent writes to a conversation they have not accepted."""

    def __init__(self, conversation_id: str) -> None:
        self.conversation_id = conversation_id
        super().__init__("Accept the conversation before writing to the customer.")


class UnknownTeam(InvalidRequest):
    """A team escalation.yml does not have."""

    def __init__(self, team: str, teams: Sequence[str]) -> None:
        self.team = team
        self.teams = tuple(teams)
        super().__init__(f"Unknown team {team!r}; teams are: {', '.join(self.teams)}.")


class AlreadyWithTeam(InvalidRequest):
    """A transfer to the team that has the conversation."""

    def __init__(self, team: str) -> None:
        self.team = team
        super().__init__(f"The conversation is already with {team}.")


class TextRefused(InvalidRequest):
    """A note or a reason that is empty (where one is required) or longer than `limit`."""

    def __init__(self, what: str, length: int, limit: int) -> None:
        self.what = what
        self.length = length
        self.limit = limit
        super().__init__(
            f"A {what} needs some text."
            if length == 0
            else f"A {what} is at most {limit} characters (this one: {length})."
        )


@dataclass(frozen=True)
class Handoff:
    """A conversation at the desk, with its current ticket (the latest one)."""

    conversation_id: str
    state: str
    channel: str | None
    ticket_id: int
    reference: str
    status: str
    priority: str
    category: str | None
    team: str
    level: int
    tier: str
    language: str
    assigned_agent_id: int | None
    assigned_agent_name: str | None
    offered_agent_id: int | None
    offer_expires_at: dt.datetime | None
    customer_name: str | None
    customer_external_id: str | None
    customer_tier: str | None
    context: Dict[str, Any]
    first_response_due: dt.datetime
    resolution_due: dt.datetime
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    created_at: dt.datetime


@dataclass(frozen=True)
class HistoryItem:
    at: dt.datetime
    actor: str
    actor_name: str | None
    action: str
    from_value: str | None
    to_value: str | None
    reason: str | None
    escalation_type: str | None


def agent_actor(agent: AgentRecord) -> str:
    return f"agent:{agent.id}"


class DeskService:
    """The desk's reads and state changes, checked against who is asking.

    Args:
        session_factory: from `bot.db.make_session_factory`.
        policy: escalation.yml (teams, tiers, next levels, deadlines).
    """

    def __init__(self, session_factory: sessionmaker, policy: YamlEscalationPolicy) -> None:
        self._session_factory = session_factory
        self._policy = policy

    # --- reads -------------------------------------------------------------------

    def queue(self, agent: AgentRecord) -> List[Handoff]:
        """Queued and live conversations `agent` may see: priority, then SLA deadline, then age."""
        statement = _handoff_select().where(_CONVERSATIONS.c.state.in_(HANDED_OFF_STATES))
        if not agent.sees_all_teams:
            statement = statement.where(_TICKETS.c.team.in_(agent.teams or ("",)))
        statement = statement.order_by(
            _TICKETS.c.priority, _TICKETS.c.first_response_due, _TICKETS.c.created_at
        )
        with self._session_factory() as session:
            return [_handoff(row) for row in session.execute(statement)]

    def handoff(self, agent: AgentRecord, conversation_id: str) -> Handoff:
        """One conversation's current handoff; NotFound or Forbidden otherwise."""
        with self._session_factory() as session:
            return self._visible(session, agent, conversation_id)

    def handoff_state(self, conversation_id: str) -> Handoff | None:
        """The conversation's current handoff whoever asks (for the relay), or None."""
        with self._session_factory() as session:
            return _load(session, conversation_id)

    def live_team(self, conversation_id: str) -> tuple[str, str] | None:
        """(state, team) of a conversation queued or with an agent; None otherwise.

        The relay asks this for every customer message, so it reads two short
        columns, not the whole handoff with its context.
        """
        with self._session_factory() as session:
            row = session.execute(
                select(_CONVERSATIONS.c.state, _TICKETS.c.team)
                .join(_TICKETS, queries.current_ticket())
                .where(
                    _CONVERSATIONS.c.sender_id == conversation_id,
                    _CONVERSATIONS.c.state.in_(HANDED_OFF_STATES),
                )
            ).first()
        return (row.state, row.team) if row is not None else None

    def history(self, agent: AgentRecord, conversation_id: str) -> List[HistoryItem]:
        """Every state change of the conversation's current ticket, oldest first, notes included."""
        with self._session_factory() as session:
            handoff = self._visible(session, agent, conversation_id)
            rows = session.execute(
                select(
                    _HISTORY.c.at,
                    _HISTORY.c.actor,
                    _HISTORY.c.action,
                    _HISTORY.c.from_value,
                    _HISTORY.c.to_value,
                    _HISTORY.c.reason,
                    _HISTORY.c.escalation_type,
                )
                .where(_HISTORY.c.ticket_id == handoff.ticket_id)
                .order_by(_HISTORY.c.id)
            ).all()
            names = _agent_names(session, [row.actor for row in rows])
        return [
            HistoryItem(
                at=row.at,
                actor=row.actor,
                actor_name=names.get(row.actor),
                action=row.action,
                from_value=row.from_value,
                to_value=row.to_value,
                reason=row.reason,
                escalation_type=row.escalation_type,
            )
            for row in rows
        ]

    def waiting_conversations(self) -> List[str]:
        """Ids of every conversation waiting in a queue (state `queued`)."""
        with self._session_factory() as session:
            return list(
                session.execute(
                    select(_CONVERSATIONS.c.sender_id).where(
                        _CONVERSATIONS.c.state == CONVERSATION_QUEUED
                    )
                ).scalars()
            )

    def queue_version(self) -> int:
        """Grows with every change to any ticket (for change polling).

        Every change (created, offered, assigned, moved, breached, closed) writes a
        history row, and history ids only grow; timestamps could not serve, as
        two writers' clocks can commit out of order.
        """
        with self._session_factory() as session:
            return session.execute(select(func.max(_HISTORY.c.id))).scalar_one() or 0

    def active_chats(self, agent_id: int) -> int:
        with self._session_factory() as session:
            return queries.count_active_chats(session, agent_id)

    # --- changes -----------------------------------------------------------------

    def accept(self, agent: AgentRecord, conversation_id: str, now: dt.datetime) -> Handoff:
        """Take a queued conversation; a supervisor may also take one over from an agent."""
        with self._session_factory.begin() as session:
            handoff = self._visible(session, agent, conversation_id)
            if handoff.status not in LIVE_TICKET_STATUSES:
                raise TicketNotLive(handoff.reference, handoff.status, "accepted")
            if handoff.assigned_agent_id == agent.id:
                return handoff
            if handoff.assigned_agent_id is not None and not agent.sees_all_teams:
                raise TakenByAnother(handoff.reference, handoff.assigned_agent_name)
            if queries.count_active_chats(session, agent.id) >= agent.capacity:
                raise AtCapacity(agent.capacity)
            if not lifecycle.assign(
                session,
                handoff.ticket_id,
                conversation_id,
                _expected(handoff),
                agent.id,
                handoff.first_response_at or now,
                now,
            ):
                raise ChangedMeanwhile(handoff.reference, taken=True)
            if handoff.first_response_at is None:  # its first pickup: the ticket's wait ends
                prometheus.observe_queue_wait(now - handoff.created_at)
            lifecycle.record(
                session,
                handoff.ticket_id,
                now,
                agent_actor(agent),
                ACTION_ASSIGNED,
                f"agent:{handoff.assigned_agent_id}" if handoff.assigned_agent_id else None,
                agent_actor(agent),
                "taken over by a supervisor" if handoff.assigned_agent_id else "accepted",
                None,
            )
            return _load(session, conversation_id)  # type: ignore[return-value]

    def transfer(
        self,
        agent: AgentRecord,
        conversation_id: str,
        team: str,
        reason: str | None,
        now: dt.datetime,
    ) -> Handoff:
        """Functional escalation: to another team's first tier, back in the queue."""
        if team not in self._policy.config.team_keys:
            raise UnknownTeam(team, self._policy.config.team_keys)
        with self._session_factory.begin() as session:
            handoff = self._changeable(session, agent, conversation_id)
            if team == handoff.team:
                raise AlreadyWithTeam(team)
            target = self._policy.config.team(team)
            return self._reroute(
                session,
                agent,
                handoff,
                NextLevel(team, 0, target.tiers[0]),
                now,
                action=ACTION_TRANSFERRED,
                reason=_reason(reason) or f"transferred to {target.name}",
                escalation_type=EscalationType.FUNCTIONAL,
            )

    def escalate(
        self, agent: AgentRecord, conversation_id: str, reason: str | None, now: dt.datetime
    ) -> Handoff:
        """Hierarchical escalation: to the next level of the matrix (e.g. a supervisor)."""
        with self._session_factory.begin() as session:
            handoff = self._changeable(session, agent, conversation_id)
            target = self._policy.next_level(handoff.team, handoff.level)
            if target is None:
                raise TopOfMatrix(handoff.team, handoff.level, handoff.tier)
            return self._reroute(
                session,
                agent,
                handoff,
                target,
                now,
                action=ACTION_ESCALATED,
                reason=_reason(reason) or f"escalated to {target.tier}",
                escalation_type=EscalationType.HIERARCHICAL,
            )

    def add_note(
        self, agent: AgentRecord, conversation_id: str, text: str, now: dt.datetime
    ) -> HistoryItem:
        """An internal note on the ticket (never shown to the customer)."""
        text = (text or "").strip()
        if not text:
            raise TextRefused("note", 0, MAX_NOTE_LENGTH)
        if len(text) > MAX_NOTE_LENGTH:
            raise TextRefused("note", len(text), MAX_NOTE_LENGTH)
        with self._session_factory.begin() as session:
            handoff = self._visible(session, agent, conversation_id)
            lifecycle.record(
                session,
                handoff.ticket_id,
                now,
                agent_actor(agent),
                ACTION_NOTE,
                None,
                None,
                text,
                None,
            )
        return HistoryItem(now, agent_actor(agent), agent.name, ACTION_NOTE, None, None, text, None)

    def resolve(
        self, agent: AgentRecord, conversation_id: str, reason: str | None, now: dt.datetime
    ) -> Handoff:
        """The agent solved it: the ticket is resolved and the bot takes the conversation back."""
        return self._close(
            agent, conversation_id, now, TICKET_RESOLVED, CONVERSATION_RESOLVED, reason
        )

    def return_to_bot(
        self, agent: AgentRecord, conversation_id: str, reason: str | None, now: dt.datetime
    ) -> Handoff:
        """Nothing for a person to do: the ticket is closed and the bot carries on."""
        return self._close(agent, conversation_id, now, TICKET_CLOSED, CONVERSATION_BOT, reason)

    def end_for_abuse(
        self, agent: AgentRecord, conversation_id: str, reason: str, now: dt.datetime
    ) -> Handoff:
        """An abusive customer's conversation ends for good: the ticket is closed, the bot does
        not resume.

        A conversation whose ticket is already closed gets only the history row,
        so blocking someone after the chat ended still leaves its trace.
        """
        with self._session_factory() as session:
            handoff = self._visible(session, agent, conversation_id)
        if handoff.status in LIVE_TICKET_STATUSES and handoff.state in HANDED_OFF_STATES:
            return self._close(
                agent,
                conversation_id,
                now,
                TICKET_CLOSED,
                CONVERSATION_RESOLVED,
                reason,
                action=ACTION_BLOCKED,
            )
        with self._session_factory.begin() as session:
            lifecycle.record(
                session,
                handoff.ticket_id,
                now,
                agent_actor(agent),
                ACTION_BLOCKED,
                handoff.status,
                handoff.status,
                _reason(reason),
                None,
            )
            return _load(session, conversation_id)  # type: ignore[return-value]

    def check_can_write(self, agent: AgentRecord, conversation_id: str) -> str:
        """The conversation's team, if `agent` is the one talking to the customer.

        Asked before every agent message, so it reads four short columns, not the
        handoff with its context.

        Raises:
            NotFound, Forbidden: as for `handoff`.
            Conflict: the conversation is not with this agent.
        """
        with self._session_factory() as session:
            row = session.execute(
                select(
                    _CONVERSATIONS.c.state,
                    _TICKETS.c.team,
                    _TICKETS.c.reference,
                    _TICKETS.c.assigned_agent_id,
                )
                .join(_TICKETS, queries.current_ticket())
                .where(_CONVERSATIONS.c.sender_id == conversation_id)
            ).first()
        if row is None:
            raise NoHandoff(conversation_id)
        if not agent.can_see_team(row.team):
            raise OtherTeam(row.reference, row.team)
        if row.state != CONVERSATION_WITH_AGENT or row.assigned_agent_id != agent.id:
            raise NotAccepted(conversation_id)
        team: str = row.team
        return team

    def requeue_agent(self, agent_id: int, reason: str, now: dt.datetime) -> List[str]:
        """Everything `agent_id` was handling goes back to the queue (e.g. they disconnected).

        Returns the conversation ids that went back.
        """
        with self._session_factory.begin() as session:
            rows = session.execute(
                select(_TICKETS.c.id, _CONVERSATIONS.c.sender_id)
                .join(_CONVERSATIONS, _CONVERSATIONS.c.id == _TICKETS.c.conversation_id)
                .where(
                    _TICKETS.c.assigned_agent_id == agent_id,
                    _TICKETS.c.status == TICKET_ASSIGNED,
                    _CONVERSATIONS.c.state == CONVERSATION_WITH_AGENT,
                )
            ).all()
            for row in rows:
                if lifecycle.requeue(session, row.id, row.sender_id, agent_id, now):
                    lifecycle.record(
                        session,
                        row.id,
                        now,
                        "desk",
                        ACTION_REQUEUED,
                        f"agent:{agent_id}",
                        None,
                        reason,
                        None,
                    )
            return [row.sender_id for row in rows]

    # --- helpers -------------------------------------------------------------------

    def _visible(self, session: Session, agent: AgentRecord, conversation_id: str) -> Handoff:
        handoff = _load(session, conversation_id)
        if handoff is None:
            raise NoHandoff(conversation_id)
        if not agent.can_see_team(handoff.team):
            raise OtherTeam(handoff.reference, handoff.team)
        return handoff

    def _changeable(self, session: Session, agent: AgentRecord, conversation_id: str) -> Handoff:
        """A live handoff that `agent` may act on: queued, or with them (any, for supervisors)."""
        handoff = self._visible(session, agent, conversation_id)
        if handoff.status not in LIVE_TICKET_STATUSES or handoff.state not in HANDED_OFF_STATES:
            raise TicketNotLive(handoff.reference, handoff.status)
        if (
            handoff.assigned_agent_id is not None
            and handoff.assigned_agent_id != agent.id
            and not agent.sees_all_teams
        ):
            raise TakenByAnother(handoff.reference, handoff.assigned_agent_name, handling=True)
        return handoff

    def _close(
        self,
        agent: AgentRecord,
        conversation_id: str,
        now: dt.datetime,
        status: str,
        state: str,
        reason: str | None,
        action: str | None = None,
    ) -> Handoff:
        with self._session_factory.begin() as session:
            handoff = self._changeable(session, agent, conversation_id)
            if not lifecycle.close(
                session, handoff.ticket_id, conversation_id, _expected(handoff), status, state, now
            ):
                raise ChangedMeanwhile(handoff.reference)
            action = action or (
                ACTION_RESOLVED if status == TICKET_RESOLVED else ACTION_RETURNED_TO_BOT
            )
            lifecycle.record(
                session,
                handoff.ticket_id,
                now,
                agent_actor(agent),
                action,
                handoff.status,
                status,
                _reason(reason),
                None,
            )
            return _load(session, conversation_id)  # type: ignore[return-value]

    def _reroute(
        self,
        session: Session,
        agent: AgentRecord,
        handoff: Handoff,
        target: NextLevel,
        now: dt.datetime,
        *,
        action: str,
        reason: str,
        escalation_type: EscalationType,
    ) -> Handoff:
        """Back to the queue at `target` (another team, or the next level), with a history row."""
        # The new team or level owes the customer a first response of its own.
        first_response_due, _ = self._policy.deadlines(handoff.priority, target.team, now)
        if not lifecycle.move(
            session,
            handoff.ticket_id,
            handoff.conversation_id,
            _expected(handoff),
            team=target.team,
            level=target.level,
            tier=target.tier,
            first_response_due=first_response_due,
            now=now,
        ):
            raise ChangedMeanwhile(handoff.reference)
        lifecycle.record(
            session,
            handoff.ticket_id,
            now,
            agent_actor(agent),
            action,
            f"{handoff.team}:L{handoff.level}:{handoff.tier}",
            f"{target.team}:L{target.level}:{target.tier}",
            reason,
            escalation_type.value,
        )
        return _load(session, handoff.conversation_id)  # type: ignore[return-value]


def _reason(reason: str | None) -> str | None:
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise TextRefused("reason", len(reason), MAX_REASON_LENGTH)
    return reason or None


def _expected(handoff: Handoff) -> lifecycle.Expected:
    """The ticket as `handoff` saw it: a change applies only if nobody moved it since."""
    return lifecycle.Expected(handoff.status, handoff.assigned_agent_id)


def _agent_names(session: Session, actors: List[str]) -> Dict[str, str]:
    ids = {int(actor.split(":", 1)[1]) for actor in actors if _is_agent_actor(actor)}
    if not ids:
        return {}
    rows = session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(ids)))
    return {f"agent:{row.id}": row.name for row in rows}


def _is_agent_actor(actor: str) -> bool:
    prefix, _, rest = actor.partition(":")
    return prefix == "agent" and rest.isdigit()


def _handoff_select() -> Any:
    assigned = Agent.__table__.alias("assigned_agent")
    customers = Customer.__table__
    return (
        select(
            _CONVERSATIONS.c.sender_id,
            _CONVERSATIONS.c.state,
            _CONVERSATIONS.c.channel,
            _TICKETS.c.id.label("ticket_id"),
            _TICKETS.c.reference,
            _TICKETS.c.status,
            _TICKETS.c.priority,
            _TICKETS.c.category,
            _TICKETS.c.team,
            _TICKETS.c.level,
            _TICKETS.c.tier,
            _TICKETS.c.language,
            _TICKETS.c.assigned_agent_id,
            assigned.c.name.label("assigned_agent_name"),
            _TICKETS.c.offered_agent_id,
            _TICKETS.c.offer_expires_at,
            customers.c.name.label("customer_name"),
            customers.c.external_id.label("customer_external_id"),
            customers.c.tier.label("customer_tier"),
            _TICKETS.c.context,
            _TICKETS.c.first_response_due,
            _TICKETS.c.resolution_due,
            _TICKETS.c.first_response_at,
            _TICKETS.c.resolved_at,
            _TICKETS.c.created_at,
        )
        .select_from(_CONVERSATIONS)
        .join(_TICKETS, queries.current_ticket())
        .join(assigned, assigned.c.id == _TICKETS.c.assigned_agent_id, isouter=True)
        .join(customers, customers.c.id == _TICKETS.c.customer_id, isouter=True)
    )


def _load(session: Session, conversation_id: str) -> Handoff | None:
    row = session.execute(
        _handoff_select().where(_CONVERSATIONS.c.sender_id == conversation_id)
    ).first()
    return _handoff(row) if row is not None else None


def _handoff(row: Any) -> Handoff:
    return Handoff(
        conversation_id=row.sender_id,
        state=row.state,
        channel=row.channel,
        ticket_id=row.ticket_id,
        reference=row.reference,
        status=row.status,
        priority=row.priority,
        category=row.category,
        team=row.team,
        level=row.level,
        tier=row.tier,
        language=row.language,
        assigned_agent_id=row.assigned_agent_id,
        assigned_agent_name=row.assigned_agent_name,
        offered_agent_id=row.offered_agent_id,
        offer_expires_at=row.offer_expires_at,
        customer_name=row.customer_name,
        customer_external_id=row.customer_external_id,
        customer_tier=row.customer_tier,
        context=dict(row.context or {}),
        first_response_due=row.first_response_due,
        resolution_due=row.resolution_due,
        first_response_at=row.first_response_at,
        resolved_at=row.resolved_at,
        created_at=row.created_at,
    )
