"""The KPIs of a period, computed from the store (definitions: docs/metrics.md).

Counting conversations is left to the database (grouped by day and channel: a
report over 100,000 conversations reads a few hundred rows); the period's tickets
(thousands, not their JSON context) are read once and every breakdown is grouped
from them in Python, so adding a dimension costs no query.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Literal, Sequence, Tuple

from sqlalchemy import String, and_, cast, distinct, func, select
from sqlalchemy.orm import sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from bot.metrics.references import escalation_rate_references
from bot.metrics.root_causes import EscalationSample, find_root_causes
from bot.store.models import Conversation, CsatAnswer, Ticket, TicketHistory

# The breakdowns of docs/metrics.md, in the order reports show them.
TICKET_DIMENSIONS = ("type", "reason", "team", "category", "intent")
DIMENSIONS = ("day", "channel") + TICKET_DIMENSIONS
UNKNOWN = "(none)"
# A report over more than this is a mistake (and a slow one).
MAX_PERIOD = dt.timedelta(days=366 * 3)
SATISFIED_RATINGS = (4, 5)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class MetricsQuery:
    """A period `[since, until)` (aware datetimes), optionally one team's escalations only."""

    since: dt.datetime
    until: dt.datetime
    team: str | None = None

    def __post_init__(self) -> None:
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise ValueError("since and until must be timezone-aware")
        if self.since >= self.until:
            raise ValueError(
                f"the period is empty: since {self.since.isoformat()} is not before until "
                f"{self.until.isoformat()}"
            )
        if self.until - self.since > MAX_PERIOD:
            raise ValueError(f"the period is longer than {MAX_PERIOD.days} days")

    def days(self) -> List[str]:
        """Every UTC date the period touches, oldest first."""
        first = self.since.astimezone(dt.timezone.utc).date()
        last = (self.until.astimezone(dt.timezone.utc) - dt.timedelta(microseconds=1)).date()
        return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


@dataclass
class _Escalation:
    """One ticket of the period, with what the breakdowns group by."""

    reference: str
    sender_id: str
    conversation_id: int
    created_at: dt.datetime
    time_to_escalation: float | None
    first_reply: float | None
    resolution: float | None
    sla_met: bool | None  # None: not decided yet
    rating: int | None
    trigger_intent: str | None = None
    trigger_text: str | None = None
    groups: Dict[str, Tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricsReport:
    query: MetricsQuery
    totals: Dict[str, Any]
    breakdowns: Dict[str, List[Dict[str, Any]]]
    root_causes: Dict[str, Any]

    def as_dict(self) -> Dict[str, Any]:
        """The JSON shape of docs/metrics.md."""
        return {
            "period": {
                "since": self.query.since.isoformat(),
                "until": self.query.until.isoformat(),
                "team": self.query.team,
            },
            "totals": self.totals,
            "breakdowns": self.breakdowns,
            "references": {"escalation_rate": escalation_rate_references()},
            "root_causes": self.root_causes,
        }


def compute_metrics(
    session_factory: sessionmaker,
    query: MetricsQuery,
    now: dt.datetime,
    progress: Progress | None = None,
) -> MetricsReport:
    """The period's KPIs, breakdowns and root causes (blocking: run it off the event loop).

    Args:
        now: decides which SLA deadlines have passed for tickets still open.
        progress: called with the name of each step as it starts (for a progress bar).
    """
    step = progress or (lambda _name: None)
    with session_factory() as session:
        step("conversations")
        per_day_channel = _conversation_counts(session, query)
        step("escalations")
        escalations = _escalations(session, query, now)
        step("escalation types")
        _add_types(session, query, escalations)
    step("root causes")
    newest_first = sorted(escalations, key=lambda e: e.created_at, reverse=True)
    causes = find_root_causes(
        EscalationSample(e.reference, e.sender_id, e.trigger_intent, e.trigger_text)
        for e in newest_first
    )
    step("breakdowns")
    conversations = sum(row[2] for row in per_day_channel)
    escalated = sum(row[3] for row in per_day_channel)
    totals = {
        "conversations": conversations,
        "escalated": escalated,
        "contained": conversations - escalated,
        "escalation_rate": _percent(escalated, conversations),
        "containment_rate": _percent(conversations - escalated, conversations),
        **_ticket_measures(escalations),
    }
    breakdowns = {
        "day": _conversation_breakdown(per_day_channel, escalations, 0, query.days()),
        "channel": _conversation_breakdown(per_day_channel, escalations, 1, None),
    }
    for dimension in TICKET_DIMENSIONS:
        breakdowns[dimension] = _ticket_breakdown(dimension, escalations, conversations)
    return MetricsReport(query=query, totals=totals, breakdowns=breakdowns, root_causes=causes)


def _day(column: Any, dialect: str) -> ColumnElement:
    """The UTC date of a timestamp column as 'YYYY-MM-DD', in SQL."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    # SQLite keeps UTCDateTime as 'YYYY-MM-DD HH:MM:SS[.ffffff]' text in UTC.
    return func.substr(cast(column, String), 1, 10)


def _conversation_counts(session: Any, query: MetricsQuery) -> List[Tuple[str, str, int, int]]:
    """(day, channel, conversations, escalated) for the conversations started in the period."""
    conversations = Conversation.__table__
    tickets = Ticket.__table__
    escalated_ids = select(distinct(tickets.c.conversation_id).label("conversation_id"))
    if query.team:
        escalated_ids = escalated_ids.where(tickets.c.team == query.team)
    escalated = escalated_ids.subquery()
    day = _day(conversations.c.created_at, session.get_bind().dialect.name).label("day")
    statement = (
        select(
            day,
            conversations.c.channel,
            func.count(),
            func.count(escalated.c.conversation_id),
        )
        .select_from(
            conversations.outerjoin(escalated, escalated.c.conversation_id == conversations.c.id)
        )
        .where(conversations.c.created_at >= query.since, conversations.c.created_at < query.until)
        .group_by(day, conversations.c.channel)
    )
    return [
        (row[0], row[1] or UNKNOWN, int(row[2]), int(row[3])) for row in session.execute(statement)
    ]


def _escalations(session: Any, query: MetricsQuery, now: dt.datetime) -> List[_Escalation]:
    tickets = Ticket.__table__
    conversations = Conversation.__table__
    csat = CsatAnswer.__table__
    first_tickets = (
        select(tickets.c.conversation_id, func.min(tickets.c.created_at).label("first_at"))
        .group_by(tickets.c.conversation_id)
        .subquery()
    )
    statement = (
        select(
            tickets.c.reference,
            tickets.c.conversation_id,
            tickets.c.created_at,
            tickets.c.first_response_at,
            tickets.c.first_response_due,
            tickets.c.resolved_at,
            tickets.c.resolution_due,
            tickets.c.team,
            tickets.c.category,
            tickets.c.escalation_reason,
            tickets.c.trigger_intent,
            tickets.c.trigger_text,
            conversations.c.sender_id,
            conversations.c.channel,
            conversations.c.created_at.label("started_at"),
            first_tickets.c.first_at,
            csat.c.rating,
        )
        .select_from(
            tickets.join(conversations, conversations.c.id == tickets.c.conversation_id)
            .join(first_tickets, first_tickets.c.conversation_id == tickets.c.conversation_id)
            .outerjoin(csat, csat.c.ticket_id == tickets.c.id)
        )
        .where(tickets.c.created_at >= query.since, tickets.c.created_at < query.until)
    )
    if query.team:
        statement = statement.where(tickets.c.team == query.team)
    return [_escalation(row, now) for row in session.execute(statement)]


def _escalation(row: Any, now: dt.datetime) -> _Escalation:
    # Unpacked once: a Row's attribute access costs microseconds, times thousands of rows.
    (
        reference,
        conversation_id,
        created,
        first_response_at,
        first_response_due,
        resolved_at,
        resolution_due,
        team,
        category,
        reason,
        trigger_intent,
        trigger_text,
        sender_id,
        channel,
        started_at,
        first_at,
        rating,
    ) = row
    # Conversations recorded before their start was (migration 0006) started "at"
    # their escalation: their time to escalation is unknown, not zero.
    to_escalation = (
        _seconds(started_at, created) if first_at == created and started_at < created else None
    )
    return _Escalation(
        reference=reference,
        sender_id=sender_id,
        conversation_id=conversation_id,
        created_at=created,
        time_to_escalation=to_escalation,
        first_reply=_seconds(created, first_response_at),
        resolution=_seconds(created, resolved_at),
        sla_met=_sla_met(first_response_at, first_response_due, resolved_at, resolution_due, now),
        rating=rating,
        trigger_intent=trigger_intent,
        trigger_text=trigger_text,
        groups={
            "day": (created.astimezone(dt.timezone.utc).date().isoformat(),),
            "channel": (channel or UNKNOWN,),
            "type": (),  # filled from the history (a ticket may have several types)
            "reason": (reason or UNKNOWN,),
            "team": (team,),
            "category": (category or UNKNOWN,),
            "intent": (trigger_intent or UNKNOWN,),
        },
    )


def _sla_met(
    first_response_at: dt.datetime | None,
    first_response_due: dt.datetime,
    resolved_at: dt.datetime | None,
    resolution_due: dt.datetime,
    now: dt.datetime,
) -> bool | None:
    """Whether both deadlines were met; None while the outcome is still open."""
    first_reply_met = _deadline_met(first_response_at, first_response_due, now)
    resolution_met = _deadline_met(resolved_at, resolution_due, now)
    if first_reply_met is False or resolution_met is False:
        return False
    if first_reply_met is None or resolution_met is None:
        return None
    return True


def _deadline_met(done_at: dt.datetime | None, due: dt.datetime, now: dt.datetime) -> bool | None:
    if done_at is not None:
        return done_at <= due
    return False if now > due else None


def _add_types(session: Any, query: MetricsQuery, escalations: List[_Escalation]) -> None:
    """Every escalation type of each ticket: its reasons at creation, and the clock's later ones."""
    history = TicketHistory.__table__
    tickets = Ticket.__table__
    statement = (
        select(tickets.c.reference, history.c.escalation_type)
        .distinct()
        .select_from(history.join(tickets, tickets.c.id == history.c.ticket_id))
        .where(
            and_(
                tickets.c.created_at >= query.since,
                tickets.c.created_at < query.until,
                history.c.escalation_type.is_not(None),
            )
        )
    )
    if query.team:
        statement = statement.where(tickets.c.team == query.team)
    types: Dict[str, List[str]] = defaultdict(list)
    for reference, kind in session.execute(statement):
        types[reference].append(kind)
    for escalation in escalations:
        escalation.groups["type"] = tuple(sorted(types.get(escalation.reference, ()))) or (UNKNOWN,)


def _conversation_breakdown(
    per_day_channel: Sequence[Tuple[str, str, int, int]],
    escalations: Sequence[_Escalation],
    position: Literal[0, 1],
    every_key: Sequence[str] | None,
) -> List[Dict[str, Any]]:
    """Day or channel rows: that day's (channel's) conversations and escalations, and the
    measures of the tickets created that day (on that channel)."""
    counts: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    for row in per_day_channel:
        counts[row[position]][0] += row[2]
        counts[row[position]][1] += row[3]
    dimension = "day" if position == 0 else "channel"
    grouped = _group(escalations, dimension)
    keys = list(every_key) if every_key is not None else sorted(set(counts) | set(grouped))
    rows = []
    for key in keys:
        conversations, escalated = counts.get(key, [0, 0])
        rows.append(
            {
                "key": key,
                "conversations": conversations,
                "escalated": escalated,
                "escalation_rate": _percent(escalated, conversations),
                **_ticket_measures(grouped.get(key, [])),
            }
        )
    if every_key is None:
        rows.sort(key=lambda row: (-row["escalated"], row["key"]))
    return rows


def _ticket_breakdown(
    dimension: str, escalations: Sequence[_Escalation], conversations: int
) -> List[Dict[str, Any]]:
    """Rows of an escalation-only dimension: the rate is that group's escalated
    conversations over all the period's conversations (its share of the total rate)."""
    rows = []
    for key, members in _group(escalations, dimension).items():
        escalated = len({member.conversation_id for member in members})
        rows.append(
            {
                "key": key,
                "conversations": None,
                "escalated": escalated,
                "escalation_rate": _percent(escalated, conversations),
                **_ticket_measures(members),
            }
        )
    rows.sort(key=lambda row: (-row["escalated"], row["key"]))
    return rows


def _group(escalations: Iterable[_Escalation], dimension: str) -> Dict[str, List[_Escalation]]:
    grouped: Dict[str, List[_Escalation]] = defaultdict(list)
    for escalation in escalations:
        for key in escalation.groups[dimension]:
            grouped[key].append(escalation)
    return grouped


def _ticket_measures(escalations: Sequence[_Escalation]) -> Dict[str, Any]:
    decided = [e.sla_met for e in escalations if e.sla_met is not None]
    ratings = [e.rating for e in escalations if e.rating is not None]
    satisfied = sum(1 for rating in ratings if rating in SATISFIED_RATINGS)
    return {
        "time_to_escalation": _spread(e.time_to_escalation for e in escalations),
        "first_reply": _spread(e.first_reply for e in escalations),
        "resolution": _spread(e.resolution for e in escalations),
        "sla": {
            "measured": len(decided),
            "met": sum(decided),
            "compliance": _percent(sum(decided), len(decided)),
        },
        "csat": {
            "answers": len(ratings),
            "average": round(sum(ratings) / len(ratings), 2) if ratings else None,
            "satisfied_rate": _percent(satisfied, len(ratings)),
        },
    }


def _spread(values: Iterable[float | None]) -> Dict[str, Any]:
    """Count, median and 90th percentile (seconds) of the known values."""
    known = sorted(value for value in values if value is not None)
    if not known:
        return {"count": 0, "median": None, "p90": None}
    return {
        "count": len(known),
        "median": round(_percentile(known, 0.5), 1),
        "p90": round(_percentile(known, 0.9), 1),
    }


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default method)."""
    position = (len(ordered) - 1) * fraction
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def _percent(part: int, whole: int) -> float | None:
    return round(part * 100.0 / whole, 1) if whole else None


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max((end - start).total_seconds(), 0.0)
