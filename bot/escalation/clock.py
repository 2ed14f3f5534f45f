"""The SLA clock: automatic and hierarchical escalation of tickets nobody handled in time.

Each sweep finds tickets whose first-response deadline passed while nobody took
them (status `open`) or whose resolution deadline passed while unresolved, asks
the policy what to do about each breach, applies it and writes the history.

Exactly once per ticket and breach, however many replicas sweep:
- on PostgreSQL each batch locks its tickets `FOR UPDATE SKIP LOCKED`, so two
  clocks never hold the same ticket, and a clock that comes later re-evaluates
  the row as committed (the breach marker is set, so it no longer qualifies);
- on SQLite a batch is one plain transaction (SQLite has a single writer);
- on both, every row the clock writes carries a breach key under a UNIQUE
  (ticket_id, breach_key): a second application of the same breach cannot commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Set, Tuple

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.db import make_engine, make_session_factory
from bot.escalation.notify import BreachNotice, LogNotifier, Notifier
from bot.escalation.types import (
    BreachAction,
    BreachKind,
    EscalationPolicy,
    EscalationType,
)
from bot.settings import Settings
from bot.store.models import Ticket, TicketHistory, UTCDateTime

logger = logging.getLogger(__name__)

ACTOR_CLOCK = "clock"
ACTION_BREACHED = "sla_breached"
ACTION_ESCALATED = "escalated"
ACTION_PRIORITY_RAISED = "priority_raised"
ACTION_NOTIFIED = "notified"
DEFAULT_BATCH_SIZE = 500
DEFAULT_INTERVAL_SECONDS = 30.0
# A batch that hits the unique breach key was raced by a clock that skipped no
# locks (a bug or an old replica); its work is rolled back and the batch re-read.
MAX_BATCH_CONFLICTS = 3

_TICKETS = Ticket.__table__
_HISTORY = TicketHistory.__table__


def utc_now() -> dt.datetime:
    """The current time, aware, in UTC (the clock's default `now`)."""
    return dt.datetime.now(dt.timezone.utc)


def breach_key(
    kind: BreachKind, priority: str, team: str, level: int, deadline: dt.datetime
) -> str:
    """The identity of one breach: what was late, where it was, and which deadline.

    The deadline makes a *new* breach distinct from an old one: a ticket that
    goes back to the queue at the same team, level and priority gets a new
    deadline, and breaching that is a new event.
    """
    stamp = deadline.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{kind.value}:{priority}:{team}:L{level}:{stamp}"


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did, as counts.

    Keys: `tickets` (examined), `breaches` (handled now), `escalated`,
    `priority_raised`, `notified`, `already_handled` (a breach key found in the
    history), `batches`, `conflicts`.
    """

    counts: Mapping[str, int] = field(default_factory=dict)

    def __getitem__(self, key: str) -> int:
        return self.counts.get(key, 0)


@dataclass
class _TicketState:
    """The mutable fields of one locked ticket while its breaches are applied."""

    id: int
    reference: str
    status: str
    priority: str
    team: str
    level: int
    tier: str
    first_response_due: dt.datetime
    resolution_due: dt.datetime
    first_response_breached_at: dt.datetime | None
    resolution_breached_at: dt.datetime | None

    def due_breaches(self, now: dt.datetime) -> List[Tuple[BreachKind, dt.datetime]]:
        breaches = []
        if (
            self.status == "open"
            and self.first_response_due <= now
            and self.first_response_breached_at is None
        ):
            breaches.append((BreachKind.FIRST_RESPONSE, self.first_response_due))
        if (
            self.status in ("open", "assigned")
            and self.resolution_due <= now
            and self.resolution_breached_at is None
        ):
            breaches.append((BreachKind.RESOLUTION, self.resolution_due))
        return breaches

    def as_update(self, now: dt.datetime) -> Dict[str, Any]:
        return {
            "b_id": self.id,
            "b_priority": self.priority,
            "b_team": self.team,
            "b_level": self.level,
            "b_tier": self.tier,
            "b_first_response_due": self.first_response_due,
            "b_resolution_due": self.resolution_due,
            "b_first_response_breached_at": self.first_response_breached_at,
            "b_resolution_breached_at": self.resolution_breached_at,
            "b_updated_at": now,
        }


def _due_condition(now: dt.datetime) -> Any:
    return or_(
        and_(
            _TICKETS.c.status == "open",
            _TICKETS.c.first_response_due <= now,
            _TICKETS.c.first_response_breached_at.is_(None),
        ),
        and_(
            _TICKETS.c.status.in_(("open", "assigned")),
            _TICKETS.c.resolution_due <= now,
            _TICKETS.c.resolution_breached_at.is_(None),
        ),
    )


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


class EscalationClock:
    """Sweeps for SLA breaches and applies the policy's answer to each, exactly once.

    Args:
        session_factory: from `bot.db.make_session_factory`.
        policy: what to do on a breach, and the deadlines at a new level or priority.
        notifier: told about each breach whose outcome includes `notify`, after commit.
        now: the current time (injected: tests move it instead of sleeping).
    """

    def __init__(
        self,
        session_factory: sessionmaker,
        policy: EscalationPolicy,
        notifier: Notifier,
        now: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._session_factory = session_factory
        self._policy = policy
        self._notifier = notifier
        self._now = now

    def sweep(self, batch_size: int = DEFAULT_BATCH_SIZE) -> SweepResult:
        """Handle every breach due at this moment, a batch (one transaction) at a time.

        Notifications go out after each batch commits, so a rolled-back batch
        never notifies (a crash between commit and notify loses the notice, not
        the escalation: at most once for notices, exactly once for escalations).
        """
        if batch_size < 1:
            raise ValueError(f"batch_size is {batch_size}; it must be at least 1")
        now = self._now()
        counts: Counter[str] = Counter()
        while True:
            try:
                examined, notices = self._sweep_batch(now, batch_size, counts)
            except IntegrityError:
                counts["conflicts"] += 1
                logger.warning("escalation.sweep.conflict count=%d", counts["conflicts"])
                if counts["conflicts"] >= MAX_BATCH_CONFLICTS:
                    break
                continue
            counts["batches"] += 1
            for notice in notices:
                self._notify(notice)
            # Fewer than asked: the rest are done, or locked by another clock that
            # will finish them.
            if examined < batch_size:
                break
        return SweepResult(dict(counts))

    def _sweep_batch(
        self, now: dt.datetime, batch_size: int, counts: Counter[str]
    ) -> Tuple[int, List[BreachNotice]]:
        batch_counts: Counter[str] = Counter()
        notices: List[BreachNotice] = []
        with self._session_factory.begin() as session:
            states = self._lock_due(session, now, batch_size)
            if not states:
                return 0, []
            handled = self._handled_keys(session, [state.id for state in states])
            history: List[Dict[str, Any]] = []
            for state in states:
                for kind, deadline in state.due_breaches(now):
                    history.extend(
                        self._apply(state, kind, deadline, now, handled, notices, batch_counts)
                    )
            if history:
                session.execute(insert(TicketHistory), history)
            session.execute(_UPDATE_TICKET, [state.as_update(now) for state in states])
        # Counted only once committed: a rolled-back batch did nothing.
        counts.update(batch_counts)
        counts["tickets"] += len(states)
        return len(states), notices

    def _lock_due(self, session: Session, now: dt.datetime, batch_size: int) -> List[_TicketState]:
        statement = (
            select(
                _TICKETS.c.id,
                _TICKETS.c.reference,
                _TICKETS.c.status,
                _TICKETS.c.priority,
                _TICKETS.c.team,
                _TICKETS.c.level,
                _TICKETS.c.tier,
                _TICKETS.c.first_response_due,
                _TICKETS.c.resolution_due,
                _TICKETS.c.first_response_breached_at,
                _TICKETS.c.resolution_breached_at,
            )
            .where(_due_condition(now))
            .order_by(_TICKETS.c.id)
            .limit(batch_size)
        )
        if session.get_bind().dialect.name == "postgresql":
            # Replicas split the due tickets between them instead of queueing on locks.
            statement = statement.with_for_update(skip_locked=True)
        return [_TicketState(**row._mapping) for row in session.execute(statement)]

    def _handled_keys(self, session: Session, ticket_ids: List[int]) -> Set[Tuple[int, str]]:
        rows = session.execute(
            select(_HISTORY.c.ticket_id, _HISTORY.c.breach_key).where(
                _HISTORY.c.ticket_id.in_(ticket_ids), _HISTORY.c.breach_key.is_not(None)
            )
        )
        return {(row.ticket_id, row.breach_key) for row in rows}

    def _apply(
        self,
        state: _TicketState,
        kind: BreachKind,
        deadline: dt.datetime,
        now: dt.datetime,
        handled: Set[Tuple[int, str]],
        notices: List[BreachNotice],
        counts: Counter[str],
    ) -> List[Dict[str, Any]]:
        key = breach_key(kind, state.priority, state.team, state.level, deadline)
        # Whatever happens next, this deadline's breach is dealt with.
        _mark(state, kind, now)
        if (state.id, key) in handled:
            counts["already_handled"] += 1
            return []
        counts["breaches"] += 1
        outcome = self._policy.on_breach(kind, state.priority, state.team, state.level)
        rows = [
            _row(
                state.id,
                now,
                ACTION_BREACHED,
                key,
                from_value=deadline.isoformat(),
                to_value=kind.value,
                reason=f"{kind.value} deadline passed at {state.team} level {state.level}",
                escalation_type=EscalationType.AUTOMATIC,
            )
        ]
        applied: List[str] = []
        notes = list(outcome.notes)
        if BreachAction.ESCALATE in outcome.actions:
            target = outcome.next_level
            if target is not None and (target.team, target.level) != (state.team, state.level):
                rows.append(
                    _row(
                        state.id,
                        now,
                        ACTION_ESCALATED,
                        f"{key}/escalated",
                        from_value=f"{state.team}:L{state.level}:{state.tier}",
                        to_value=f"{target.team}:L{target.level}:{target.tier}",
                        reason=f"{kind.value} breached",
                        escalation_type=EscalationType.HIERARCHICAL,
                    )
                )
                state.team, state.level, state.tier = target.team, target.level, target.tier
                applied.append(BreachAction.ESCALATE.value)
                counts["escalated"] += 1
            else:
                notes.append("no higher level to escalate to")
        if BreachAction.RAISE_PRIORITY in outcome.actions:
            new_priority = outcome.new_priority
            if new_priority is not None and new_priority != state.priority:
                rows.append(
                    _row(
                        state.id,
                        now,
                        ACTION_PRIORITY_RAISED,
                        f"{key}/priority_raised",
                        from_value=state.priority,
                        to_value=new_priority,
                        reason=f"{kind.value} breached",
                        escalation_type=EscalationType.PRIORITY,
                    )
                )
                state.priority = new_priority
                applied.append(BreachAction.RAISE_PRIORITY.value)
                counts["priority_raised"] += 1
            else:
                notes.append("priority already at the top")
        if applied:
            self._restart(state, kind, now)
        if BreachAction.NOTIFY in outcome.actions:
            applied.append(BreachAction.NOTIFY.value)
            rows.append(
                _row(
                    state.id,
                    now,
                    ACTION_NOTIFIED,
                    f"{key}/notified",
                    to_value=",".join(applied),
                    reason="; ".join(notes) or None,
                    escalation_type=EscalationType.AUTOMATIC,
                )
            )
            counts["notified"] += 1
            notices.append(
                BreachNotice(
                    ticket_id=state.id,
                    reference=state.reference,
                    kind=kind.value,
                    deadline=deadline,
                    breach_key=key,
                    priority=state.priority,
                    team=state.team,
                    level=state.level,
                    tier=state.tier,
                    actions=tuple(applied),
                    at=now,
                    notes=tuple(notes),
                )
            )
        return rows

    def _restart(self, state: _TicketState, kind: BreachKind, now: dt.datetime) -> None:
        """A new deadline for the clock that breached, at the new level or priority.

        Only the breached clock restarts: a first-response breach does not extend
        the customer's resolution promise (the original deadlines stay in the
        history's `created` row for SLA reports).
        """
        first_response_due, resolution_due = self._policy.deadlines(state.priority, state.team, now)
        if kind is BreachKind.FIRST_RESPONSE:
            state.first_response_due = first_response_due
            # A deadline already past (a degenerate policy) stays marked, so one
            # sweep cannot climb every level at once.
            state.first_response_breached_at = None if first_response_due > now else now
        else:
            state.resolution_due = resolution_due
            state.resolution_breached_at = None if resolution_due > now else now

    def _notify(self, notice: BreachNotice) -> None:
        try:
            self._notifier.notify(notice)
        except Exception:  # a notifier must not stop the sweep; the breach is recorded
            logger.exception("escalation.notify.failed ticket=%s", notice.reference)


def _mark(state: _TicketState, kind: BreachKind, now: dt.datetime) -> None:
    if kind is BreachKind.FIRST_RESPONSE:
        state.first_response_breached_at = now
    else:
        state.resolution_breached_at = now


def _row(
    ticket_id: int,
    at: dt.datetime,
    action: str,
    key: str,
    *,
    from_value: str | None = None,
    to_value: str | None = None,
    reason: str | None = None,
    escalation_type: EscalationType | None = None,
) -> Dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "at": at,
        "actor": ACTOR_CLOCK,
        "action": action,
        "from_value": from_value,
        "to_value": to_value,
        "reason": reason,
        "escalation_type": escalation_type.value if escalation_type else None,
        "breach_key": key,
    }


def run_clock(
    settings: Settings,
    policy: EscalationPolicy,
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
    stop_event: threading.Event | None = None,
    *,
    notifier: Notifier | None = None,
    now: Callable[[], dt.datetime] = utc_now,
) -> None:
    """Sweep every `interval_seconds` until `stop_event` is set (`bot clock`).

    Safe to run on every replica: the sweep itself guarantees exactly-once. A
    failed sweep (database down) is logged and tried again at the next tick.

    Args:
        settings: the deployment's settings (its `database_url`).
        policy: the escalation policy (escalation.yml).
        interval_seconds: the pause between sweeps.
        stop_event: set it to stop the loop; None runs until interrupted.
        notifier: where breach notices go; a `LogNotifier` when None.
        now: the current time.
    """
    stop = stop_event or threading.Event()
    engine = make_engine(settings.database_url)
    try:
        clock = EscalationClock(
            make_session_factory(engine), policy, notifier or LogNotifier(), now
        )
        logger.info("escalation.clock.started interval=%.1f", interval_seconds)
        while not stop.is_set():
            try:
                result = clock.sweep()
                if result["breaches"]:
                    logger.info(
                        "escalation.sweep breaches=%d escalated=%d priority_raised=%d notified=%d",
                        result["breaches"],
                        result["escalated"],
                        result["priority_raised"],
                        result["notified"],
                    )
            except SQLAlchemyError as error:
                logger.error("escalation.sweep.failed error=%s", type(error).__name__)
            # Scheduling, not a test sleep: wakes at once when stopped.
            stop.wait(interval_seconds)
    finally:
        engine.dispose()
        logger.info("escalation.clock.stopped")
