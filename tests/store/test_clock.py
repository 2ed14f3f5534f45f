"""The SLA clock: each breach is applied once, on time, by exactly one of several clocks."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from typing import List

import pytest
from sqlalchemy import func, select

from bot.db import make_engine, make_session_factory
from bot.escalation.clock import EscalationClock, SweepResult, breach_key, run_clock
from bot.escalation.types import BreachKind
from bot.settings import Settings
from bot.store import TicketStore
from bot.store.models import Ticket, TicketHistory
from bot.tickets.repository import pg_array
from tests.store.conftest import T0, decision
from tests.store.fakes import CollectingNotifier, FakePolicy
from tests.store.seeding import seed_breached
from tests.store.test_tickets import open_one

MINUTE = dt.timedelta(minutes=1)


class Now:
    """An injected clock the test moves by hand."""

    def __init__(self, start: dt.datetime) -> None:
        self.value = start

    def __call__(self) -> dt.datetime:
        return self.value

    def advance(self, delta: dt.timedelta) -> None:
        self.value += delta


def actions(store: TicketStore, ticket_id: int) -> List[str]:
    return [entry.action for entry in store.history(ticket_id)]


def test_nothing_happens_before_a_deadline(store, session_factory):
    open_one(store)
    notifier = CollectingNotifier()
    clock = EscalationClock(session_factory, FakePolicy(), notifier, Now(T0 + 14 * MINUTE))
    result = clock.sweep()
    assert result["breaches"] == 0
    assert notifier.notices == []


def test_a_first_response_breach_escalates_once_and_notifies(store, session_factory):
    ticket, _ = open_one(store)
    now = Now(T0 + 16 * MINUTE)
    notifier = CollectingNotifier()
    policy = FakePolicy()
    clock = EscalationClock(session_factory, policy, notifier, now)

    result = clock.sweep()
    assert isinstance(result, SweepResult)
    assert (result["breaches"], result["escalated"], result["notified"]) == (1, 1, 1)
    assert policy.breaches == [(BreachKind.FIRST_RESPONSE, "P3", "billing", 0)]

    escalated = store.ticket_by_reference(ticket.reference)
    assert (escalated.level, escalated.tier) == (1, "specialist")
    # The breached clock restarts at the new level; the resolution promise stands.
    assert escalated.first_response_due == now() + dt.timedelta(minutes=15)
    assert escalated.resolution_due == ticket.resolution_due

    history = store.history(ticket.id)
    assert [(entry.action, entry.actor, entry.escalation_type) for entry in history[2:]] == [
        ("sla_breached", "clock", "automatic"),
        ("escalated", "clock", "hierarchical"),
    ]
    key = breach_key(BreachKind.FIRST_RESPONSE, "P3", "billing", 0, ticket.first_response_due)
    assert history[2].breach_key == key
    # The notification is recorded in the breach row (no separate `notified` row).
    assert history[2].reason == (
        "first_response deadline passed at billing level 0; notified: escalate,notify"
    )
    assert key.startswith("first_response:P3:billing:L0:")
    assert (history[3].from_value, history[3].to_value) == (
        "billing:L0:agent",
        "billing:L1:specialist",
    )

    [notice] = notifier.notices
    assert (notice.reference, notice.kind, notice.level, notice.actions) == (
        ticket.reference,
        "first_response",
        1,
        ("escalate", "notify"),
    )

    # The same moment, swept again (another tick, another replica): nothing new.
    again = clock.sweep()
    assert again["breaches"] == 0
    assert len(store.history(ticket.id)) == len(history)


def test_unhandled_tickets_climb_the_ladder_then_only_notify(store, session_factory):
    ticket, _ = open_one(store)
    now = Now(T0)
    notifier = CollectingNotifier()
    clock = EscalationClock(session_factory, FakePolicy(), notifier, now)

    levels = []
    for _ in range(4):
        now.advance(16 * MINUTE)
        clock.sweep()
        levels.append(store.ticket_by_reference(ticket.reference).level)

    assert levels == [1, 2, 2, 2]
    history = actions(store, ticket.id)
    assert history.count("escalated") == 2
    # At the top the first-response breach of that deadline is notified once;
    # the deadline does not move, so later sweeps find nothing new to do.
    assert history.count("sla_breached") == 3
    assert [notice.actions for notice in notifier.notices] == [
        ("escalate", "notify"),
        ("escalate", "notify"),
        ("notify",),
    ]


def test_an_assigned_ticket_breaches_resolution_not_first_response(store, session_factory):
    ticket, _ = open_one(store)
    with session_factory.begin() as session:
        row = session.get(Ticket, ticket.id)
        row.status = "assigned"
        row.first_response_at = T0 + 5 * MINUTE
    now = Now(T0 + dt.timedelta(hours=5))
    policy = FakePolicy(raise_on_resolution=True)
    clock = EscalationClock(session_factory, policy, CollectingNotifier(), now)

    result = clock.sweep()
    assert (result["breaches"], result["priority_raised"], result["escalated"]) == (1, 1, 0)
    assert policy.breaches == [(BreachKind.RESOLUTION, "P3", "billing", 0)]
    raised = store.ticket_by_reference(ticket.reference)
    assert raised.priority == "P2"
    assert raised.resolution_due == now() + dt.timedelta(hours=4)
    entry = store.history(ticket.id)[-1]
    assert (entry.action, entry.escalation_type, entry.from_value, entry.to_value) == (
        "priority_raised",
        "priority",
        "P3",
        "P2",
    )


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_finished_tickets_never_breach(store, session_factory, status):
    ticket, _ = open_one(store)
    with session_factory.begin() as session:
        session.get(Ticket, ticket.id).status = status
    clock = EscalationClock(
        session_factory, FakePolicy(), CollectingNotifier(), Now(T0 + dt.timedelta(days=2))
    )
    assert clock.sweep()["breaches"] == 0


def test_both_deadlines_passed_are_two_breaches_in_one_sweep(store, session_factory):
    ticket, _ = open_one(store)
    clock = EscalationClock(
        session_factory, FakePolicy(), CollectingNotifier(), Now(T0 + dt.timedelta(hours=5))
    )
    result = clock.sweep()
    assert (result["breaches"], result["escalated"]) == (2, 2)
    assert store.ticket_by_reference(ticket.reference).level == 2
    assert clock.sweep()["breaches"] == 0


def test_a_breach_already_in_the_history_is_not_applied_again(store, session_factory):
    ticket, _ = open_one(store)
    key = breach_key(BreachKind.FIRST_RESPONSE, "P3", "billing", 0, ticket.first_response_due)
    # As if a clock wrote the breach and then crashed before updating the ticket.
    with session_factory.begin() as session:
        session.add(
            TicketHistory(
                ticket_id=ticket.id, at=T0, actor="clock", action="sla_breached", breach_key=key
            )
        )
    clock = EscalationClock(
        session_factory, FakePolicy(), CollectingNotifier(), Now(T0 + 16 * MINUTE)
    )
    result = clock.sweep()
    assert (result["breaches"], result["already_handled"]) == (0, 1)
    assert store.ticket_by_reference(ticket.reference).level == 0
    assert clock.sweep()["already_handled"] == 0  # and the ticket no longer qualifies


def test_a_failing_notifier_does_not_stop_the_sweep(store, session_factory):
    open_one(store, key="a", sender="a")
    open_one(store, key="b", sender="b")

    class Broken:
        def notify(self, notice: object) -> None:
            raise RuntimeError("pager down")

    clock = EscalationClock(session_factory, FakePolicy(), Broken(), Now(T0 + 16 * MINUTE))
    assert clock.sweep(batch_size=1)["escalated"] == 2


def test_run_clock_sweeps_until_stopped(migrated_url, store):
    open_one(store)
    stop = threading.Event()
    notices = []

    class StopAfterFirst:
        def notify(self, notice: object) -> None:
            notices.append(notice)
            stop.set()

    run_clock(
        Settings(database_url=migrated_url),
        FakePolicy(),
        interval_seconds=3600,  # never reached: the stop event wakes the wait
        stop_event=stop,
        notifier=StopAfterFirst(),
        now=lambda: T0 + 16 * MINUTE,
    )
    assert len(notices) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_clocks_sweeping_together_escalate_each_ticket_exactly_once(
    migrated_url, session_factory
):
    tickets = 300
    seed_breached(session_factory, tickets, decision(), T0)
    start = threading.Barrier(2, timeout=10)
    results: List[SweepResult] = []
    errors: List[BaseException] = []

    def replica() -> None:
        # Its own engine and pool, as another process would have.
        engine = make_engine(migrated_url)
        try:
            clock = EscalationClock(
                make_session_factory(engine),
                FakePolicy(),
                CollectingNotifier(),
                lambda: T0 + 16 * MINUTE,
            )
            start.wait()
            results.append(clock.sweep(batch_size=20))
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert sum(result["escalated"] for result in results) == tickets
    assert sum(result["conflicts"] for result in results) == 0
    # Both really worked (SKIP LOCKED shared the batches), not one after the other.
    assert all(result["escalated"] > 0 for result in results), [r.counts for r in results]
    with session_factory() as session:
        per_ticket = Counter(
            session.execute(
                select(TicketHistory.ticket_id).where(TicketHistory.action == "escalated")
            ).scalars()
        )
        levels = Counter(session.execute(select(Ticket.level)).scalars())
        clock_rows = session.execute(
            select(func.count()).where(TicketHistory.actor == "clock")
        ).scalar_one()
        duplicates = session.execute(
            select(TicketHistory.ticket_id, TicketHistory.breach_key)
            .where(TicketHistory.breach_key.is_not(None))
            .group_by(TicketHistory.ticket_id, TicketHistory.breach_key)
            .having(func.count() > 1)
        ).all()
    assert len(per_ticket) == tickets and set(per_ticket.values()) == {1}
    assert levels == {1: tickets}
    assert duplicates == []
    assert clock_rows == tickets * 2  # breached (with its notification), escalated: once each


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_batch_array_literals_carry_any_text_and_time_exactly(engine):
    # The PostgreSQL sweep sends each column of a batch as one array literal.
    texts = ["a,b", "{x}", "NULL", None, "q\"u\\o'te", " sp ", "", "é☃", "back\\slash\\"]
    plus_two = dt.timezone(dt.timedelta(hours=2))
    times = [T0.replace(microsecond=123456), None, T0.astimezone(plus_two)]
    with engine.connect() as connection:
        assert (
            connection.exec_driver_sql(
                "SELECT %(a)s::text[]", {"a": pg_array(texts, "text[]")}
            ).scalar_one()
            == texts
        )
        assert (
            connection.exec_driver_sql(
                "SELECT %(a)s::timestamptz[]", {"a": pg_array(times, "timestamptz[]")}
            ).scalar_one()
            == times
        )
        assert connection.exec_driver_sql(
            "SELECT %(a)s::integer[]", {"a": pg_array([1, None, -5], "integer[]")}
        ).scalar_one() == [1, None, -5]
