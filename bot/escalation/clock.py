"""The SLA clock: automatic and hierarchical escalation of tickets nobody handled in time.

Each sweep finds tickets whose first-response deadline passed while nobody took
them (status `open`) or whose resolution deadline passed while unresolved, asks
the policy what to do about each breach, applies it, and has the ticket repository
(bot/tickets/repository.py `apply_breaches`) write the batch and its history.

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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Set, Tuple

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.calls.store import ENDED_CALL_RETENTION, CallStore
from bot.db import make_engine, make_session_factory
from bot.desk.sessions import DeskSessions
from bot.escalation.notify import BreachNotice, LogNotifier, Notifier
from bot.escalation.types import (
    BreachAction,
    BreachKind,
    BreachOutcome,
    EscalationPolicy,
    EscalationType,
    NextLevel,
)
from bot.settings import Settings
from bot.store.models import Ticket, TicketHistory
from bot.tickets import repository as lifecycle
from bot.tickets.states import (
    ACTION_ESCALATED,
    ACTION_PRIORITY_RAISED,
    ACTION_SLA_BREACHED,
    LIVE_TICKET_STATUSES,
    TICKET_OPEN,
)

logger = logging.getLogger(__name__)

ACTOR_CLOCK = "clock"
ACTION_BREACHED = ACTION_SLA_BREACHED
# Two batches at once: the database's work for one overlaps the other's Python.
DEFAULT_POSTGRES_WORKERS = 2
DEFAULT_BATCH_SIZE = 1000
DEFAULT_INTERVAL_SECONDS = 30.0
# How often the clock also deletes rows that can never be used again. Not every sweep:
# they expire by the hour, and a delete every 30 s would be work for nothing.
DEFAULT_PRUNE_INTERVAL = dt.timedelta(minutes=10)
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


@dataclass(frozen=True)
class PruneResult:
    """What one pruning deleted: console sessions and ended calls."""

    desk_sessions: int
    calls: int


class Pruner:
    """Deletes what has expired for good, from the loop that already runs everywhere.

    Console sessions that can no longer resolve (idle or absolute expiry) and calls
    that ended more than `call_retention` ago: nothing else ever deleted them, so
    both tables grew by every sign-in and every call, and an ended session's hash
    stayed in the table. Safe on every replica: deleting a deleted row is a no-op.

    Args:
        session_factory: from `bot.db.make_session_factory`.
        session_idle: the desk's idle lifetime (`BATON_DESK_SESSION_HOURS`), as the
            desk itself is built with.
        interval: the least time between two prunings.
        call_retention: how long an ended call's row is kept.
    """

    def __init__(
        self,
        session_factory: sessionmaker,
        session_idle: dt.timedelta,
        interval: dt.timedelta = DEFAULT_PRUNE_INTERVAL,
        call_retention: dt.timedelta = ENDED_CALL_RETENTION,
    ) -> None:
        self._sessions = DeskSessions(session_factory, idle=session_idle)
        self._calls = CallStore(session_factory)
        self._interval = interval
        self._call_retention = call_retention
        self._last: dt.datetime | None = None

    def prune(self, now: dt.datetime) -> PruneResult:
        """Delete, as of `now`, every expired session and long-ended call."""
        return PruneResult(
            desk_sessions=self._sessions.purge_expired(now),
            calls=self._calls.prune_ended(now, self._call_retention),
        )

    def prune_if_due(self, now: dt.datetime) -> PruneResult | None:
        """`prune(now)` when `interval` has passed since the last one; None otherwise.

        The first call always prunes, so a restart catches up at once. A failed
        pruning is not counted and is tried again at the next call.
        """
        if self._last is not None and now - self._last < self._interval:
            return None
        result = self.prune(now)
        self._last = now
        return result


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
            self.status == TICKET_OPEN
            and self.first_response_due <= now
            and self.first_response_breached_at is None
        ):
            breaches.append((BreachKind.FIRST_RESPONSE, self.first_response_due))
        if (
            self.status in LIVE_TICKET_STATUSES
            and self.resolution_due <= now
            and self.resolution_breached_at is None
        ):
            breaches.append((BreachKind.RESOLUTION, self.resolution_due))
        return breaches


def _due_condition(now: dt.datetime) -> Any:
    return or_(
        and_(
            _TICKETS.c.status == TICKET_OPEN,
            _TICKETS.c.first_response_due <= now,
            _TICKETS.c.first_response_breached_at.is_(None),
        ),
        and_(
            _TICKETS.c.status.in_(LIVE_TICKET_STATUSES),
            _TICKETS.c.resolution_due <= now,
            _TICKETS.c.resolution_breached_at.is_(None),
        ),
    )


_AUTOMATIC = EscalationType.AUTOMATIC.value
_HIERARCHICAL = EscalationType.HIERARCHICAL.value
_PRIORITY = EscalationType.PRIORITY.value


@dataclass(frozen=True)
class _BreachPlan:
    """What a breach of one kind does at one (priority, team, level, tier), texts included."""

    kind: str
    breach_reason: str
    changed_reason: str
    escalate_to: NextLevel | None
    escalated_from: str
    escalated_to: str
    new_priority: str | None
    restart: bool
    notify: bool
    applied: Tuple[str, ...]
    notes: Tuple[str, ...]


def _breach_plan(
    outcome: BreachOutcome, kind: BreachKind, priority: str, team: str, level: int, tier: str
) -> _BreachPlan:
    applied: List[str] = []
    notes = list(outcome.notes)
    escalate_to: NextLevel | None = None
    new_priority: str | None = None
    if BreachAction.ESCALATE in outcome.actions:
        target = outcome.next_level
        if target is not None and (target.team, target.level) != (team, level):
            escalate_to = target
            applied.append(BreachAction.ESCALATE.value)
        else:
            notes.append("no higher level to escalate to")
    if BreachAction.RAISE_PRIORITY in outcome.actions:
        if outcome.new_priority is not None and outcome.new_priority != priority:
            new_priority = outcome.new_priority
            applied.append(BreachAction.RAISE_PRIORITY.value)
        else:
            notes.append("priority already at the top")
    restart = bool(applied)
    notify = BreachAction.NOTIFY in outcome.actions
    breach_reason = f"{kind.value} deadline passed at {team} level {level}"
    if notify:
        applied.append(BreachAction.NOTIFY.value)
        # The notification, folded into the breach row (it changes no state).
        breach_reason += f"; notified: {','.join(applied)}"
        if notes:
            breach_reason += f" ({'; '.join(notes)})"
    return _BreachPlan(
        kind=kind.value,
        breach_reason=breach_reason,
        changed_reason=f"{kind.value} breached",
        escalate_to=escalate_to,
        escalated_from=f"{team}:L{level}:{tier}",
        escalated_to=(
            f"{escalate_to.team}:L{escalate_to.level}:{escalate_to.tier}" if escalate_to else ""
        ),
        new_priority=new_priority,
        restart=restart,
        notify=notify,
        applied=tuple(applied),
        notes=tuple(notes),
    )


class _SweepPolicy:
    """The policy's answers, asked once per question within one sweep.

    The policy is pure (the same breach of the same priority, team and level
    gets the same outcome; deadlines depend only on priority, team and start)
    and a sweep has a single `now`, so 10,000 tickets at a few places ask it a
    handful of times. A policy error is not cached: it is raised again.
    """

    def __init__(self, policy: EscalationPolicy, now: dt.datetime) -> None:
        self._policy = policy
        self._now = now
        self._outcomes: Dict[Tuple[BreachKind, str, str, int], BreachOutcome] = {}
        self._deadlines: Dict[Tuple[str, str], Tuple[dt.datetime, dt.datetime]] = {}
        self._plans: Dict[Tuple[BreachKind, str, str, int, str], _BreachPlan] = {}

    def on_breach(self, kind: BreachKind, priority: str, team: str, level: int) -> BreachOutcome:
        key = (kind, priority, team, level)
        outcome = self._outcomes.get(key)
        if outcome is None:
            outcome = self._outcomes[key] = self._policy.on_breach(kind, priority, team, level)
        return outcome

    def plan(
        self, kind: BreachKind, priority: str, team: str, level: int, tier: str
    ) -> _BreachPlan:
        key = (kind, priority, team, level, tier)
        plan = self._plans.get(key)
        if plan is None:
            outcome = self.on_breach(kind, priority, team, level)
            plan = self._plans[key] = _breach_plan(outcome, kind, priority, team, level, tier)
        return plan

    def deadlines(self, priority: str, team: str) -> Tuple[dt.datetime, dt.datetime]:
        key = (priority, team)
        deadlines = self._deadlines.get(key)
        if deadlines is None:
            first_response_due, resolution_due = self._policy.deadlines(priority, team, self._now)
            deadlines = self._deadlines[key] = (
                lifecycle.aware_utc(first_response_due),
                lifecycle.aware_utc(resolution_due),
            )
        return deadlines


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

    def sweep(
        self, batch_size: int = DEFAULT_BATCH_SIZE, workers: int | None = None
    ) -> SweepResult:
        """Handle every breach due at this moment, a batch (one transaction) at a time.

        Notifications go out after each batch commits, so a rolled-back batch
        never notifies (a crash between commit and notify loses the notice, not
        the escalation: at most once for notices, exactly once for escalations).

        Args:
            batch_size: tickets per transaction.
            workers: batches swept at once, each on its own connection. By default
                two on PostgreSQL, where `SKIP LOCKED` hands each worker other
                tickets (as it does to other replicas); one on SQLite, which has a
                single writer.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size is {batch_size}; it must be at least 1")
        now = self._now()
        lifecycle.aware_utc(now)  # the PostgreSQL path binds it without `UTCDateTime`
        policy = _SweepPolicy(self._policy, now)
        if workers is None:
            workers = DEFAULT_POSTGRES_WORKERS if self._dialect() == "postgresql" else 1
        if workers < 1:
            raise ValueError(f"workers is {workers}; it must be at least 1")
        if workers == 1:
            return SweepResult(dict(self._drain(now, batch_size, policy)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sweep") as pool:
            drained = list(pool.map(lambda _: self._drain(now, batch_size, policy), range(workers)))
        return SweepResult(dict(sum(drained, Counter())))

    def _dialect(self) -> str:
        bind = self._session_factory.kw.get("bind")
        return bind.dialect.name if bind is not None else ""

    def _drain(self, now: dt.datetime, batch_size: int, policy: _SweepPolicy) -> Counter[str]:
        """Sweep batches until none is left that this worker can lock."""
        counts: Counter[str] = Counter()
        while True:
            try:
                examined, notices = self._sweep_batch(now, batch_size, counts, policy)
            except IntegrityError:
                counts["conflicts"] += 1
                logger.warning("escalation.sweep.conflict count=%d", counts["conflicts"])
                if counts["conflicts"] >= MAX_BATCH_CONFLICTS:
                    break
                continue
            counts["batches"] += 1
            for notice in notices:
                self._notify(notice)
            # Fewer than asked: the rest are done, or locked by another worker or
            # clock that will finish them.
            if examined < batch_size:
                break
        return counts

    def _sweep_batch(
        self,
        now: dt.datetime,
        batch_size: int,
        counts: Counter[str],
        policy: _SweepPolicy,
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
                        self._apply(
                            state, kind, deadline, now, handled, notices, batch_counts, policy
                        )
                    )
            lifecycle.apply_breaches(session, history, states, ACTOR_CLOCK, now)
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
        policy: _SweepPolicy,
    ) -> List[Dict[str, Any]]:
        """The history rows of one breach; applies the policy's answer to `state`.

        One row per state change (`escalated`, `priority_raised`) after the
        `sla_breached` row that carries the breach key. A notification is
        recorded in the breach row's reason ("...; notified: escalate,notify
        (notes)"), not in a row of its own: a third row per breach was a third
        of the clock's writes and changed no state.
        """
        key = breach_key(kind, state.priority, state.team, state.level, deadline)
        # Whatever happens next, this deadline's breach is dealt with.
        _mark(state, kind, now)
        if (state.id, key) in handled:
            counts["already_handled"] += 1
            return []
        counts["breaches"] += 1
        plan = policy.plan(kind, state.priority, state.team, state.level, state.tier)
        ticket_id = state.id
        rows = [
            {
                "ticket_id": ticket_id,
                "at": now,
                "actor": ACTOR_CLOCK,
                "action": ACTION_BREACHED,
                "from_value": deadline.isoformat(),
                "to_value": plan.kind,
                "reason": plan.breach_reason,
                "escalation_type": _AUTOMATIC,
                "breach_key": key,
            }
        ]
        if plan.escalate_to is not None:
            target = plan.escalate_to
            rows.append(
                {
                    "ticket_id": ticket_id,
                    "at": now,
                    "actor": ACTOR_CLOCK,
                    "action": ACTION_ESCALATED,
                    "from_value": plan.escalated_from,
                    "to_value": plan.escalated_to,
                    "reason": plan.changed_reason,
                    "escalation_type": _HIERARCHICAL,
                    "breach_key": key + "/escalated",
                }
            )
            state.team, state.level, state.tier = target.team, target.level, target.tier
            counts["escalated"] += 1
        if plan.new_priority is not None:
            rows.append(
                {
                    "ticket_id": ticket_id,
                    "at": now,
                    "actor": ACTOR_CLOCK,
                    "action": ACTION_PRIORITY_RAISED,
                    "from_value": state.priority,
                    "to_value": plan.new_priority,
                    "reason": plan.changed_reason,
                    "escalation_type": _PRIORITY,
                    "breach_key": key + "/priority_raised",
                }
            )
            state.priority = plan.new_priority
            counts["priority_raised"] += 1
        if plan.restart:
            self._restart(state, kind, now, policy)
        if plan.notify:
            counts["notified"] += 1
            notices.append(
                BreachNotice(
                    ticket_id=ticket_id,
                    reference=state.reference,
                    kind=plan.kind,
                    deadline=deadline,
                    breach_key=key,
                    priority=state.priority,
                    team=state.team,
                    level=state.level,
                    tier=state.tier,
                    actions=plan.applied,
                    at=now,
                    notes=plan.notes,
                )
            )
        return rows

    def _restart(
        self, state: _TicketState, kind: BreachKind, now: dt.datetime, policy: _SweepPolicy
    ) -> None:
        """A new deadline for the clock that breached, at the new level or priority.

        Only the breached clock restarts: a first-response breach does not extend
        the customer's resolution promise (the original deadlines stay in the
        history's `created` row for SLA reports).
        """
        first_response_due, resolution_due = policy.deadlines(state.priority, state.team)
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
    After the sweep, every `DEFAULT_PRUNE_INTERVAL` a `Pruner` deletes expired
    console sessions and long-ended calls.

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
        session_factory = make_session_factory(engine)
        clock = EscalationClock(session_factory, policy, notifier or LogNotifier(), now)
        pruner = Pruner(session_factory, dt.timedelta(hours=settings.desk_session_hours))
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
            # Its own try: a failed sweep must not stop the pruning, nor the reverse.
            try:
                pruned = pruner.prune_if_due(now())
                if pruned is not None and (pruned.desk_sessions or pruned.calls):
                    logger.info(
                        "escalation.prune desk_sessions=%d calls=%d",
                        pruned.desk_sessions,
                        pruned.calls,
                    )
            except SQLAlchemyError as error:
                logger.error("escalation.prune.failed error=%s", type(error).__name__)
            # Scheduling, not a test sleep: wakes at once when stopped.
            stop.wait(interval_seconds)
    finally:
        engine.dispose()
        logger.info("escalation.clock.stopped")
