"""The one writer of `tickets`, `ticket_history` and `conversations` (its `state` above all).

Every lifecycle move is one function here that changes the ticket and its
conversation together, so the invariants live in one place:

- a new ticket is `open`, with no agent, and its conversation is `queued`;
- `assigned` means an agent, and the conversation `with_agent` (`assign`);
- back in the queue (`requeue`, `move`) means `open`, no agent, no offer, and the
  conversation `queued`;
- a closed ticket (`resolved` or `closed`) leaves the conversation with the bot
  (`bot`) or over (`resolved`), never queued or with an agent;
- a conversation has at most one live ticket (`open` or `assigned`): the partial
  unique index `uq_tickets_live_conversation` decides (migration 0007), and
  `insert_open_ticket` lets its IntegrityError through for the caller to settle.

The functions work inside the caller's transaction (a `Session` from
`sessionmaker.begin()`): the callers keep their retries, locks and reads, and
a move plus its history row commit together. Moves that two writers could race
are conditional UPDATEs on the ticket's expected status and assignee; they return
False when the ticket changed meanwhile, and the caller decides what to say.
tests/test_ticket_ownership.py fails when any other module writes these tables.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Protocol, Sequence

from sqlalchemy import bindparam, false, insert, select, update
from sqlalchemy.orm import Session

from bot.store.models import Conversation, Ticket, TicketHistory, UTCDateTime
from bot.tickets.states import (
    CONVERSATION_BOT,
    CONVERSATION_QUEUED,
    CONVERSATION_RESOLVED,
    CONVERSATION_WITH_AGENT,
    TICKET_ASSIGNED,
    TICKET_CLOSED,
    TICKET_OPEN,
    TICKET_RESOLVED,
)

_TICKETS = Ticket.__table__
_CONVERSATIONS = Conversation.__table__
_HISTORY = TicketHistory.__table__

# Where a closed ticket leaves its conversation.
_CLOSED_TICKET_STATUSES = (TICKET_RESOLVED, TICKET_CLOSED)
_AFTER_CLOSE_STATES = (CONVERSATION_BOT, CONVERSATION_RESOLVED)


class InvalidTransition(ValueError):
    """A move the lifecycle does not have (a bug in the caller, never a customer's doing).

    Attributes:
        ticket_status: the status asked for.
        conversation_state: the conversation state asked for with it.
    """

    def __init__(self, ticket_status: str, conversation_state: str) -> None:
        self.ticket_status = ticket_status
        self.conversation_state = conversation_state
        super().__init__(
            f"a ticket {ticket_status} cannot leave its conversation {conversation_state}; "
            f"closing statuses: {', '.join(_CLOSED_TICKET_STATUSES)}, "
            f"with the conversation: {', '.join(_AFTER_CLOSE_STATES)}"
        )


@dataclass(frozen=True)
class Expected:
    """What a conditional move expects the ticket to be: its status and assignee (None: nobody)."""

    status: str
    assigned_agent_id: int | None


# --- conversations ------------------------------------------------------------------


def start_conversation(
    session: Session, sender_id: str, channel: str | None, now: dt.datetime
) -> str:
    """Insert a conversation with the bot (its first session); returns its state.

    Raises:
        IntegrityError: the conversation exists (a racing first session won).
    """
    session.execute(
        insert(_CONVERSATIONS),
        {
            "sender_id": sender_id,
            "channel": channel or None,
            "customer_id": None,
            "state": CONVERSATION_BOT,
            "created_at": now,
            "updated_at": now,
        },
    )
    return CONVERSATION_BOT


def note_channel(session: Session, conversation_pk: int, channel: str) -> None:
    """Remember the channel of a conversation that started without one (its state stays)."""
    session.execute(
        update(_CONVERSATIONS).where(_CONVERSATIONS.c.id == conversation_pk).values(channel=channel)
    )


def queue_conversation(
    session: Session,
    sender_id: str,
    channel: str | None,
    customer_id: int | None,
    now: dt.datetime,
) -> int:
    """The conversation, inserted or updated, `queued` for a new ticket; its primary key.

    Only the columns that change are written (nothing when none does): an upsert
    that changes nothing takes no row lock, so two escalations of one conversation
    meet at the ticket's unique key, not here.
    """
    row = session.execute(
        select(
            _CONVERSATIONS.c.id,
            _CONVERSATIONS.c.channel,
            _CONVERSATIONS.c.customer_id,
            _CONVERSATIONS.c.state,
            _CONVERSATIONS.c.updated_at,
        ).where(_CONVERSATIONS.c.sender_id == sender_id)
    ).first()
    if row is None:
        inserted = session.execute(
            insert(_CONVERSATIONS),
            {
                "sender_id": sender_id,
                "channel": channel or None,
                "customer_id": customer_id,
                "state": CONVERSATION_QUEUED,
                "created_at": now,
                "updated_at": now,
            },
        )
        return int(inserted.inserted_primary_key[0])
    wanted = {
        "channel": channel or row.channel,
        "customer_id": customer_id if customer_id is not None else row.customer_id,
        "state": CONVERSATION_QUEUED,
        "updated_at": now,
    }
    changed = {column: value for column, value in wanted.items() if getattr(row, column) != value}
    if changed:
        session.execute(
            update(_CONVERSATIONS).where(_CONVERSATIONS.c.id == row.id).values(**changed)
        )
    return int(row.id)


def _set_state(session: Session, sender_id: str, state: str, now: dt.datetime) -> None:
    session.execute(
        update(_CONVERSATIONS)
        .where(_CONVERSATIONS.c.sender_id == sender_id)
        .values(state=state, updated_at=now)
    )


# --- tickets ------------------------------------------------------------------------


def insert_open_ticket(session: Session, columns: Mapping[str, Any], now: dt.datetime) -> int:
    """A new ticket, `open` with no agent, nothing answered or resolved yet; its id.

    `columns` are the ticket's own facts (reference, conversation, customer, key,
    priority, team, level, tier, context, reasons, deadlines, ...). Its conversation
    is queued first, with `queue_conversation`.

    Raises:
        IntegrityError: the key, the reference, or the conversation's one live ticket
            exists already; the caller's transaction is to be rolled back.
    """
    values = {
        **columns,
        "status": TICKET_OPEN,
        "assigned_agent_id": None,
        "first_response_at": None,
        "resolved_at": None,
        "created_at": now,
        "updated_at": now,
    }
    return int(session.execute(insert(_TICKETS), values).inserted_primary_key[0])


def assign(
    session: Session,
    ticket_id: int,
    sender_id: str,
    expected: Expected,
    agent_id: int,
    first_response_at: dt.datetime,
    now: dt.datetime,
) -> bool:
    """The agent has the ticket (`assigned`, its offer withdrawn), the conversation `with_agent`.

    Returns False, changing nothing, when the ticket is no longer as `expected`.
    """
    changed = session.execute(
        update(_TICKETS)
        .where(_TICKETS.c.id == ticket_id, *_as_expected(expected))
        .values(
            status=TICKET_ASSIGNED,
            assigned_agent_id=agent_id,
            offered_agent_id=None,
            offer_expires_at=None,
            first_response_at=first_response_at,
            updated_at=now,
        )
    ).rowcount
    if changed != 1:
        return False
    _set_state(session, sender_id, CONVERSATION_WITH_AGENT, now)
    return True


def requeue(
    session: Session, ticket_id: int, sender_id: str, agent_id: int, now: dt.datetime
) -> bool:
    """The agent's ticket goes back to the queue (`open`, nobody), the conversation `queued`.

    Returns False, changing nothing, when the ticket is no longer assigned to `agent_id`.
    """
    changed = session.execute(
        update(_TICKETS)
        .where(_TICKETS.c.id == ticket_id, *_as_expected(Expected(TICKET_ASSIGNED, agent_id)))
        .values(status=TICKET_OPEN, assigned_agent_id=None, updated_at=now)
    ).rowcount
    if not changed:
        return False
    _set_state(session, sender_id, CONVERSATION_QUEUED, now)
    return True


def move(
    session: Session,
    ticket_id: int,
    sender_id: str,
    expected: Expected,
    *,
    team: str,
    level: int,
    tier: str,
    first_response_due: dt.datetime,
    now: dt.datetime,
) -> bool:
    """Back in the queue at another team or level, owed a first response of its own.

    `open`, nobody assigned or offered, the first-response breach cleared; the
    conversation `queued`. Returns False, changing nothing, when the ticket is no
    longer as `expected`.
    """
    changed = session.execute(
        update(_TICKETS)
        .where(_TICKETS.c.id == ticket_id, *_as_expected(expected))
        .values(
            status=TICKET_OPEN,
            team=team,
            level=level,
            tier=tier,
            assigned_agent_id=None,
            offered_agent_id=None,
            offer_expires_at=None,
            first_response_due=first_response_due,
            first_response_breached_at=None,
            updated_at=now,
        )
    ).rowcount
    if changed != 1:
        return False
    _set_state(session, sender_id, CONVERSATION_QUEUED, now)
    return True


def close(
    session: Session,
    ticket_id: int,
    sender_id: str,
    expected: Expected,
    status: str,
    conversation_state: str,
    now: dt.datetime,
) -> bool:
    """The ticket is over (`resolved` or `closed`), the conversation back with the bot or over.

    Returns False, changing nothing, when the ticket is no longer as `expected`.

    Raises:
        InvalidTransition: `status` does not close a ticket, or `conversation_state`
            would leave the conversation queued or with an agent.
    """
    if status not in _CLOSED_TICKET_STATUSES or conversation_state not in _AFTER_CLOSE_STATES:
        raise InvalidTransition(status, conversation_state)
    changed = session.execute(
        update(_TICKETS)
        .where(_TICKETS.c.id == ticket_id, *_as_expected(expected))
        .values(
            status=status,
            resolved_at=now,
            offered_agent_id=None,
            offer_expires_at=None,
            updated_at=now,
        )
    ).rowcount
    if changed != 1:
        return False
    _set_state(session, sender_id, conversation_state, now)
    return True


def offer(
    session: Session, ticket_id: int, agent_id: int, expires_at: dt.datetime, now: dt.datetime
) -> None:
    """Offer the ticket to one agent until `expires_at` (its status stays `open`)."""
    session.execute(
        update(_TICKETS)
        .where(_TICKETS.c.id == ticket_id)
        .values(offered_agent_id=agent_id, offer_expires_at=expires_at, updated_at=now)
    )


def clear_offer(session: Session, ticket_id: int) -> None:
    """Withdraw the ticket's offer, if any."""
    session.execute(
        update(_TICKETS)
        .where(_TICKETS.c.id == ticket_id)
        .values(offered_agent_id=None, offer_expires_at=None)
    )


def take_write_lock(session: Session) -> None:
    """On SQLite, take the database's write lock now, for what is read next to stay true.

    An UPDATE that changes nothing still takes the lock (pysqlite begins the
    transaction before it).
    """
    session.execute(update(_TICKETS).where(false()).values(id=_TICKETS.c.id))


def _as_expected(expected: Expected) -> List[Any]:
    assignee = _TICKETS.c.assigned_agent_id
    return [
        _TICKETS.c.status == expected.status,
        assignee.is_(None)
        if expected.assigned_agent_id is None
        else assignee == expected.assigned_agent_id,
    ]


# --- history ------------------------------------------------------------------------


def record(
    session: Session,
    ticket_id: int,
    now: dt.datetime,
    actor: str,
    action: str,
    from_value: str | None = None,
    to_value: str | None = None,
    reason: str | None = None,
    escalation_type: str | None = None,
) -> None:
    """One `ticket_history` row: who did what to the ticket, from what to what, and why."""
    record_rows(
        session,
        [history_row(ticket_id, now, actor, action, from_value, to_value, reason, escalation_type)],
    )


def record_rows(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Several `ticket_history` rows at once (built with `history_row`), in this order."""
    if rows:
        session.execute(insert(_HISTORY), list(rows))


def history_row(
    ticket_id: int,
    now: dt.datetime,
    actor: str,
    action: str,
    from_value: str | None = None,
    to_value: str | None = None,
    reason: str | None = None,
    escalation_type: str | None = None,
    breach_key: str | None = None,
) -> Dict[str, Any]:
    """The columns of one history row, for `record_rows` and `apply_breaches`."""
    return {
        "ticket_id": ticket_id,
        "at": now,
        "actor": actor,
        "action": action,
        "from_value": from_value,
        "to_value": to_value,
        "reason": reason,
        "escalation_type": escalation_type,
        "breach_key": breach_key,
    }


# --- the SLA clock's batches ----------------------------------------------------------


class BreachedTicket(Protocol):
    """What the clock changes on a ticket it handled (`bot.escalation.clock._TicketState`)."""

    id: int
    priority: str
    team: str
    level: int
    tier: str
    first_response_due: dt.datetime
    resolution_due: dt.datetime
    first_response_breached_at: dt.datetime | None
    resolution_breached_at: dt.datetime | None


def apply_breaches(
    session: Session,
    history: Sequence[Mapping[str, Any]],
    tickets: Sequence[BreachedTicket],
    actor: str,
    now: dt.datetime,
) -> None:
    """One clock batch: its history rows (all by `actor` at `now`) and every ticket's new values.

    The status never changes here (a breach moves a ticket up, not out of its
    state). PostgreSQL gets two set-based statements (see `_PG_INSERT_HISTORY`);
    SQLite one multi-row INSERT and one executemany UPDATE.
    """
    if session.get_bind().dialect.name == "postgresql":
        _write_postgres(session, history, tickets, actor, now)
        return
    if history:
        session.execute(insert(TicketHistory), list(history))
    session.execute(_UPDATE_TICKET, [_as_update(ticket, now) for ticket in tickets])


def aware_utc(value: dt.datetime) -> dt.datetime:
    """`value` in UTC; the check `UTCDateTime` makes, on the paths that skip it."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()}: pass an aware UTC datetime")
    return value.astimezone(dt.timezone.utc)


def _as_update(ticket: BreachedTicket, now: dt.datetime) -> Dict[str, Any]:
    return {
        "b_id": ticket.id,
        "b_priority": ticket.priority,
        "b_team": ticket.team,
        "b_level": ticket.level,
        "b_tier": ticket.tier,
        "b_first_response_due": ticket.first_response_due,
        "b_resolution_due": ticket.resolution_due,
        "b_first_response_breached_at": ticket.first_response_breached_at,
        "b_resolution_breached_at": ticket.resolution_breached_at,
        "b_updated_at": now,
    }


# One executemany for a whole batch: every ticket gets the same columns.
_UPDATE_TICKET = (
    update(_TICKETS)
    .where(_TICKETS.c.id == bindparam("b_id"))
    .values(
        priority=bindparam("b_priority"),
        team=bindparam("b_team"),
        level=bindparam("b_level"),
        tier=bindparam("b_tier"),
        first_response_due=bindparam("b_first_response_due", type_=UTCDateTime()),
        resolution_due=bindparam("b_resolution_due", type_=UTCDateTime()),
        first_response_breached_at=bindparam("b_first_response_breached_at", type_=UTCDateTime()),
        resolution_breached_at=bindparam("b_resolution_breached_at", type_=UTCDateTime()),
        updated_at=bindparam("b_updated_at", type_=UTCDateTime()),
    )
)


# PostgreSQL writes a whole batch in two set-based statements (one round trip
# each) instead of an executemany of one UPDATE per ticket and a multi-row
# INSERT rendered row by row: each column travels as one array (psycopg2 adapts
# a list in C) and `unnest` turns the arrays back into rows on the server. The
# values are plain, already-aware datetimes, strings and ints, so neither the
# SQLAlchemy compiler nor the `UTCDateTime` TypeDecorator runs per value
# (timestamptz stores the instant; `aware_utc` keeps the naive check).
# `WITH ORDINALITY ... ORDER BY` keeps ids in the order the rows were built, so
# history (ordered by id) still reads breached, escalated, notified.
# Every clock row of a batch has the same `at` (the sweep's now) and actor: two
# scalars; the other columns are one array each.
_HISTORY_ARRAYS = (
    ("ticket_id", "integer[]"),
    ("action", "varchar[]"),
    ("from_value", "varchar[]"),
    ("to_value", "varchar[]"),
    ("reason", "text[]"),
    ("escalation_type", "varchar[]"),
    ("breach_key", "varchar[]"),
)
_PG_INSERT_HISTORY = (
    f"INSERT INTO {_HISTORY.name} "  # noqa: S608 — table and column names are this module's constants; values are bound parameters
    f"(at, actor, {', '.join(column for column, _ in _HISTORY_ARRAYS)}) "
    f"SELECT %(at)s, %(actor)s, {', '.join('v.' + column for column, _ in _HISTORY_ARRAYS)} "
    "FROM unnest("
    + ", ".join(f"%({column})s::{cast}" for column, cast in _HISTORY_ARRAYS)
    + f") WITH ORDINALITY AS v({', '.join(column for column, _ in _HISTORY_ARRAYS)}, position) "
    "ORDER BY v.position"
)
_TICKET_COLUMNS = (
    "id",
    "priority",
    "team",
    "level",
    "tier",
    "first_response_due",
    "resolution_due",
    "first_response_breached_at",
    "resolution_breached_at",
)
_TICKET_CASTS = (
    "integer[]",
    "varchar[]",
    "varchar[]",
    "integer[]",
    "varchar[]",
    "timestamptz[]",
    "timestamptz[]",
    "timestamptz[]",
    "timestamptz[]",
)
_PG_UPDATE_TICKETS = (
    f"UPDATE {_TICKETS.name} AS t SET "  # noqa: S608 — table and column names are this module's constants; values are bound parameters
    + ", ".join(f"{column} = v.{column}" for column in _TICKET_COLUMNS[1:])
    + ", updated_at = %(updated_at)s FROM unnest("
    + ", ".join(
        f"%({column})s::{cast}" for column, cast in zip(_TICKET_COLUMNS, _TICKET_CASTS, strict=True)
    )
    + f") AS v({', '.join(_TICKET_COLUMNS)}) WHERE t.id = v.id"
)


def _write_postgres(
    session: Session,
    history: Sequence[Mapping[str, Any]],
    tickets: Iterable[BreachedTicket],
    actor: str,
    now: dt.datetime,
) -> None:
    connection = session.connection()
    if history:
        parameters: Dict[str, Any] = {
            column: pg_array([row[column] for row in history], cast)
            for column, cast in _HISTORY_ARRAYS
        }
        parameters["at"] = aware_utc(now)
        parameters["actor"] = actor
        connection.exec_driver_sql(_PG_INSERT_HISTORY, parameters)
    updates: Dict[str, Any] = {
        column: pg_array([getattr(ticket, column) for ticket in tickets], cast)
        for column, cast in zip(_TICKET_COLUMNS, _TICKET_CASTS, strict=True)
    }
    updates["updated_at"] = aware_utc(now)
    connection.exec_driver_sql(_PG_UPDATE_TICKETS, updates)


@functools.lru_cache(maxsize=8192)
def _array_text(value: str) -> str:
    # Memoised: a batch repeats the same actions, reasons and team names.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pg_array(values: List[Any], cast: str) -> str:
    """One PostgreSQL array literal (`{a,"b c",NULL}`) for a column of a batch.

    Sent as a single string parameter, the server parses it once with
    `array_in`; a Python list would go out as `ARRAY['a'::timestamptz, ...]`,
    one adapted, quoted and cast expression per element, which costs more on
    both sides than the rows themselves. Texts are double-quoted with `\\` and
    `"` escaped (inside quotes, commas, braces and the word NULL are data);
    ints and ISO timestamps need no quotes; None is the bare NULL.
    """
    if cast == "integer[]":
        items = ["NULL" if value is None else str(value) for value in values]
    elif cast == "timestamptz[]":
        # Aware values only: read back through `UTCDateTime` or checked on the way in.
        items = ["NULL" if value is None else value.isoformat() for value in values]
    else:
        items = ["NULL" if value is None else _array_text(value) for value in values]
    return "{" + ",".join(items) + "}"
