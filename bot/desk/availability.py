"""Who is there for a handed-off customer: their place in the queue, the agents online, the hours.

The handoff action asks this right after opening a ticket, to tell the customer what
to expect (a wait in the queue, a first response by a deadline, or the team's next
opening) instead of a dead end. The queue is the desk's (docs/desk.md): a
conversation's latest ticket, `open`, while the conversation is `queued`, ordered by
priority, then first-response deadline, then age.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.orm import sessionmaker

from bot.escalation import business_hours
from bot.escalation.engine import YamlEscalationPolicy
from bot.escalation.policy import Team as PolicyTeam
from bot.store.models import Agent, Conversation, Team, Ticket, agent_teams
from bot.store.tickets import normalize_reference
from bot.tickets.states import AGENT_ONLINE, CONVERSATION_QUEUED, TICKET_OPEN

# How long an agent spends on one conversation, on average, for the wait estimate.
DEFAULT_AVERAGE_HANDLING_MINUTES = 8.0
AVERAGE_HANDLING_MINUTES_ENV = "BATON_AVERAGE_HANDLING_MINUTES"
MAX_AVERAGE_HANDLING_MINUTES = 24 * 60.0

_TICKETS = Ticket.__table__
_CONVERSATIONS = Conversation.__table__
_AGENTS = Agent.__table__
_TEAMS = Team.__table__


class TicketNotFound(LookupError):
    """No ticket has the reference asked about."""


@dataclass(frozen=True)
class QueueEstimate:
    """What a customer waiting for `team` can expect, as of one moment.

    Attributes:
        team: the team key of escalation.yml the ticket waits for.
        position: 1-based place of the ticket's conversation in its team's queue.
        agents_online: agents of the team whose status is `online`.
        within_hours: whether the team's business hours are open at that moment.
        wait_minutes: the expected wait, or None when nobody is online to answer.
        next_opening: when the team's hours open next, or None while they are open.
    """

    team: str
    position: int
    agents_online: int
    within_hours: bool
    wait_minutes: int | None
    next_opening: dt.datetime | None


def estimate_wait_minutes(
    position: int, agents_online: int, average_handling_minutes: float
) -> int | None:
    """`position` conversations shared between the agents online, rounded up; None with nobody."""
    if agents_online <= 0:
        return None
    return max(1, math.ceil(position * average_handling_minutes / max(agents_online, 1)))


def team_hours(team: PolicyTeam, now: dt.datetime) -> tuple[bool, dt.datetime | None]:
    """Whether `team` is open at `now`, and if not, when it opens next (UTC)."""
    hours = team.business_hours
    if hours.always_open:
        return True, None
    # Zero open time from `now` is the next open moment: `now` itself while open.
    opening = business_hours.add_open_time(now, dt.timedelta(0), hours, team.zone)
    if opening == now:
        return True, None
    return False, opening.astimezone(dt.timezone.utc)


def queue_estimate(
    session_factory: sessionmaker,
    ticket_reference: str,
    now: dt.datetime,
    policy: YamlEscalationPolicy,
    average_handling_minutes: float = DEFAULT_AVERAGE_HANDLING_MINUTES,
) -> QueueEstimate:
    """The queue position, agents online and business hours for the ticket `ticket_reference`.

    Args:
        session_factory: from `bot.db.make_session_factory`.
        ticket_reference: the ticket's reference, as stored or as a person typed it.
        now: the moment of the estimate (timezone-aware).
        policy: escalation.yml, for the team's business hours and time zone.
        average_handling_minutes: minutes an agent spends per conversation, on average.

    Raises:
        TicketNotFound: no ticket has this reference.
        ValueError: a naive `now`, or a ticket whose team is not in the policy.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {now!r}")
    reference = normalize_reference(ticket_reference)
    with session_factory() as session:
        mine = session.execute(
            select(
                _TICKETS.c.conversation_id,
                _TICKETS.c.team,
                _TICKETS.c.priority,
                _TICKETS.c.first_response_due,
                _TICKETS.c.created_at,
                _TICKETS.c.id,
            ).where(_TICKETS.c.reference == reference)
        ).first()
        if mine is None:
            raise TicketNotFound(f"no ticket {reference}")
        ahead = session.execute(_conversations_ahead(mine)).scalar_one()
        online = session.execute(
            select(func.count(distinct(_AGENTS.c.id)))
            .select_from(_AGENTS)
            .join(agent_teams, agent_teams.c.agent_id == _AGENTS.c.id)
            .join(_TEAMS, _TEAMS.c.id == agent_teams.c.team_id)
            .where(_TEAMS.c.key == mine.team, _AGENTS.c.status == AGENT_ONLINE)
        ).scalar_one()
    try:
        team = policy.config.team(mine.team)
    except KeyError as error:
        raise ValueError(error.args[0]) from None
    within_hours, next_opening = team_hours(team, now)
    position = int(ahead) + 1
    return QueueEstimate(
        team=mine.team,
        position=position,
        agents_online=int(online),
        within_hours=within_hours,
        wait_minutes=estimate_wait_minutes(position, int(online), average_handling_minutes),
        next_opening=next_opening,
    )


def _conversations_ahead(mine: Any) -> Any:
    """How many other queued conversations of the team come before this ticket.

    Counted per conversation, on its latest ticket (as the desk's queue shows them):
    an older ticket of a conversation is history, not a second place in the queue.
    """
    latest_ticket = (
        select(func.max(_TICKETS.c.id))
        .where(_TICKETS.c.conversation_id == _CONVERSATIONS.c.id)
        .correlate(_CONVERSATIONS)
        .scalar_subquery()
    )
    # "P1" < "P2" < "P3" < "P4": the priority's text order is its urgency order.
    before = or_(
        _TICKETS.c.priority < mine.priority,
        and_(
            _TICKETS.c.priority == mine.priority,
            or_(
                _TICKETS.c.first_response_due < mine.first_response_due,
                and_(
                    _TICKETS.c.first_response_due == mine.first_response_due,
                    or_(
                        _TICKETS.c.created_at < mine.created_at,
                        # The id breaks ties between tickets opened in the same instant.
                        and_(_TICKETS.c.created_at == mine.created_at, _TICKETS.c.id < mine.id),
                    ),
                ),
            ),
        ),
    )
    return (
        select(func.count(distinct(_CONVERSATIONS.c.id)))
        .select_from(_CONVERSATIONS)
        .join(
            _TICKETS,
            and_(_TICKETS.c.conversation_id == _CONVERSATIONS.c.id, _TICKETS.c.id == latest_ticket),
        )
        .where(
            _CONVERSATIONS.c.state == CONVERSATION_QUEUED,
            _CONVERSATIONS.c.id != mine.conversation_id,
            _TICKETS.c.status == TICKET_OPEN,
            _TICKETS.c.team == mine.team,
            before,
        )
    )


def average_handling_minutes_from_env(env: Mapping[str, str]) -> float:
    """`BATON_AVERAGE_HANDLING_MINUTES`, or the default when it is unset.

    Raises:
        ValueError: the value is not a number of minutes above 0 and at most a day.
    """
    raw = (env.get(AVERAGE_HANDLING_MINUTES_ENV) or "").strip()
    if not raw:
        return DEFAULT_AVERAGE_HANDLING_MINUTES
    try:
        minutes = float(raw)
    except ValueError:
        minutes = math.nan
    if not 0 < minutes <= MAX_AVERAGE_HANDLING_MINUTES:  # also refuses NaN
        raise ValueError(
            f"{AVERAGE_HANDLING_MINUTES_ENV} is {raw!r}; expected the minutes an agent spends "
            f"on one conversation, a number above 0 and at most {MAX_AVERAGE_HANDLING_MINUTES:g}"
        )
    return minutes
